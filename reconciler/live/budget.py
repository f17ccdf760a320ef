"""The request budget every thread of a run shares: a client-side rate limit, as the Terraform provider's
`api_rate_limit`, because OVHcloud's limits are undocumented (about 60 requests a minute per consumer key "should be
ok", python-ovh issue #81) and polling counts against them too.

- `rate` (requests per second, `--max-requests-per-second` / OVHKUBE_MAX_RPS): each request takes the next slot,
  1/rate after the previous one, whichever thread sends it; no burst, so a rate held over a second is the rate.
- A 429 pauses every thread until its Retry-After (one refusal, not one per worker), and from then on requests are
  paced at 70% of the rate the API accepted over the last second (at least one per Retry-After): the workers do
  not all come back at once to be refused again, nor meet the limit on every bit of jitter.
- A window of requests in flight, as TCP's slow start: a run starts with INITIAL_WINDOW requests on the wire and
  each answer lets one more go, so the window doubles every round trip and soon stops mattering; a 429 halves it.
  Without it, a limit nobody configured met a first wave of every worker at once (30 requests, 28 refused, at
  P=30 under 2 requests a second) before the first refusal could pause anyone.
- `waited`: the seconds threads spent waiting for their slot, for the -v account.
"""

import threading
import time
from collections import deque

DEFAULT_PAUSE = 1.0  # seconds, when a 429 says no Retry-After
BACK_OFF = 0.7  # after a 429, the share of the rate the API just accepted that the run goes on at
INITIAL_WINDOW = 2  # requests in flight before the API has answered any
MAX_WINDOW = 10_000.0  # the window only grows while answers come; bounded so it stays a plain number


class RequestBudget:
    def __init__(self, rate: float | None = None, clock=time.monotonic, sleep=time.sleep, max_window: int = 0):
        self.rate = rate if rate and rate > 0 else None
        self.learned: float | None = None  # the pace a 429 taught, when it is slower than `rate`
        self.waited = 0.0
        self.refusals = 0
        self._next = 0.0  # the earliest moment the next request may start
        self._paused_until = 0.0  # the end of the pause the last 429 asked for
        self._accepted: deque[float] = deque(maxlen=10_000)  # when recent requests were accepted
        self.max_window = float(max_window) if max_window > 0 else MAX_WINDOW  # the caller's threads: no more
        self.window = min(float(INITIAL_WINDOW), self.max_window)
        self._in_flight = 0
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # signalled when a request in flight is answered

    def _pace(self) -> float | None:
        rates = [r for r in (self.rate, self.learned) if r]
        return min(rates) if rates else None

    def acquire(self) -> float:
        """Wait for room in the window and for this request's slot; returns the seconds waited. Every acquire is
        followed by one release, whatever becomes of the request."""
        with self._room:
            asked = self._clock()
            while self._in_flight >= self.window:
                self._room.wait(timeout=0.5)  # a timeout keeps Ctrl-C and SIGTERM deliverable to a waiting thread
            self._in_flight += 1
            now = self._clock()
            start = max(now, self._next)
            pace = self._pace()
            if pace:
                self._next = start + 1 / pace
            wait = start - asked
            self.waited += wait
        if start > now:
            try:
                self._sleep(start - now)
            except BaseException:  # Ctrl-C or SIGTERM while waiting for the slot: give the window's place back
                self.release(accepted=False)
                raise
        return wait

    def release(self, accepted: bool) -> None:
        """The request is over: answered (`accepted`: it widens the window) or not (refused, failed, interrupted)."""
        with self._room:
            self._in_flight -= 1
            if accepted:
                self._accepted.append(self._clock())
                self.window = min(self.max_window, self.window + 1)
            self._room.notify_all()

    def refused(self, retry_after: float | None) -> float:
        """A 429: pause everyone for Retry-After and slow down; returns the pause (refused time)."""
        pause = retry_after if retry_after and retry_after > 0 else DEFAULT_PAUSE
        with self._lock:
            now = self._clock()
            self.refusals += 1
            if now >= self._paused_until:  # the first refusal of a wave halves the window; the rest of it do not
                self.window = max(1.0, self.window / 2)
            self._paused_until = max(self._paused_until, now + pause)
            self._next = max(self._next, now + pause)
            accepted = sum(1 for moment in self._accepted if moment > now - 1.0)
            # Below what the API took: pacing at exactly its rate meets its limit again on every bit of jitter.
            allowed = max(accepted * BACK_OFF, 1 / pause)
            self.learned = min(self.learned or allowed, allowed)
        return pause
