"""The request budget every thread of a run shares: a client-side rate limit, as the Terraform provider's
`api_rate_limit`, because OVHcloud's limits are undocumented (about 60 requests a minute per consumer key "should be
ok", python-ovh issue #81) and polling counts against them too.

- `rate` (requests per second, `--max-requests-per-second` / OVHKUBE_MAX_RPS): each request takes the next slot,
  1/rate after the previous one, whichever thread sends it; no burst, so a rate held over a second is the rate.
- A 429 pauses every thread until its Retry-After (one refusal, not one per worker), and from then on requests are
  paced at the rate the API accepted over the last second (at least one per Retry-After): the workers do not all
  come back at once to be refused again.
- `waited`: the seconds threads spent waiting for their slot, for the -v account.
"""

import threading
import time
from collections import deque

DEFAULT_PAUSE = 1.0  # seconds, when a 429 says no Retry-After


class RequestBudget:
    def __init__(self, rate: float | None = None, clock=time.monotonic, sleep=time.sleep):
        self.rate = rate if rate and rate > 0 else None
        self.learned: float | None = None  # the pace a 429 taught, when it is slower than `rate`
        self.waited = 0.0
        self.refusals = 0
        self._next = 0.0  # the earliest moment the next request may start
        self._accepted: deque[float] = deque(maxlen=10_000)  # when recent requests were accepted
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()

    def _pace(self) -> float | None:
        rates = [r for r in (self.rate, self.learned) if r]
        return min(rates) if rates else None

    def acquire(self) -> float:
        """Wait for this request's slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            pace = self._pace()
            if pace:
                self._next = start + 1 / pace
            wait = start - now
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def accepted(self) -> None:
        with self._lock:
            self._accepted.append(self._clock())

    def refused(self, retry_after: float | None) -> float:
        """A 429: pause everyone for Retry-After and slow down; returns the pause (refused time)."""
        pause = retry_after if retry_after and retry_after > 0 else DEFAULT_PAUSE
        with self._lock:
            now = self._clock()
            self.refusals += 1
            self._next = max(self._next, now + pause)
            allowed = max(sum(1 for moment in self._accepted if moment > now - 1.0), 1 / pause)
            self.learned = min(self.learned or allowed, allowed)
        return pause
