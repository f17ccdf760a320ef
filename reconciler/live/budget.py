"""The request budget every thread of a run shares: a client-side rate limit, as the Terraform provider's
`api_rate_limit`, because OVHcloud's limits are undocumented (about 60 requests a minute per consumer key "should be
ok", python-ovh issue #81) and polling counts against them too.

- `rate` (requests per second, `--max-requests-per-second` / OVHKUBE_MAX_RPS): each request takes the next slot,
  1/rate after the previous one, whichever thread sends it; no burst, so a rate held over a second is the rate.
- Slow start, by rounds: a run's first round is INITIAL_WINDOW signed requests, and the next round starts only once
  every request of this one is answered; a round answered with no refusal lets GROWTH times as many go in the next,
  until the window reaches the caller's threads. An API limit nobody configured so meets a first round of three,
  not every worker at once (30 requests, 28 refused, at P=30 under 2 requests a second). Rounds, not one more
  request per answer as in TCP: at a local API's speed the answers of a round came back, and opened the window
  again, before the refusal of the same round did.
- A 429 pauses every thread until its Retry-After (one refusal, not one per worker) and halves the window; from then
  on requests are paced at 70% of what the API took over the last second, the requests still on the wire counted
  (at least one per Retry-After), so the workers do not all come back at once to be refused again. That pace rises
  by 5% every 10 s without a refusal: one unlucky estimate does not hold a long apply below the API's limit for good,
  and meeting the limit again teaches a better estimate (a second's worth of accepted requests at the limit is the
  limit).
- `by_time()`: from then on the ramp goes by time, not by rounds of answers (apply calls it once the live state is
  read): the requests are spaced evenly at a pace that starts at what the second round of the slow start would hold
  in a second (INITIAL_WINDOW x GROWTH), or what the API just took in a second if more, and grows GROWTH times every
  RAMP_STEP without a refusal. The answers of a round come back in one round trip, so a round of nine meets a limit
  of five a second with four refusals at once; requests spaced out meet it with about one (the pace when they meet
  it is under GROWTH times the limit, and the first 429 pauses the rest within a round trip). Short steps: the
  ramp is what a large apply waits for, and the spacing, not the step, is what keeps the refusals few. A plan, all
  reads and in a hurry, keeps the rounds.
- A request waiting for its slot when a 429 comes takes a new slot after the pause: slots are handed out ahead, and
  every waiting thread would otherwise go out into the limit again.
- The pace a 429 teaches is measured over the last HORIZON seconds of the run, not the last one: a limit's burst
  lets a second hold more than its rate, and a pace taught by that second meets the limit again. The requests sent
  and not answered count; those still waiting for their slot do not.
- Unsigned requests (GET /auth/time) are paced like the rest but are no part of the window: the API's limit is per
  consumer key, and the clock call must not open the first round on its own.
- At most `max_window` signed requests are on the wire at once (`--parallelism`), however many threads share the
  budget: an apply keeps a thread per cluster under way, most of them waiting for READY, and only their requests
  count against the parallelism.
- Polls wait behind the rest (`polling()`): when the wire is full, a place that frees goes to a write or a read
  before a write if one waits, and to a poll only when none does. A fleet's writes so go out first, each cluster's
  transition starting as early as the parallelism allows, and a poll that comes later serves more of the clusters
  waiting in its project.
- `waited`: the seconds threads spent waiting for their slot, for the -v account.
- `close()`: the run is stopping (Ctrl-C, SIGTERM): a request still waiting for its place or its slot, or between
  two tries (`pause`), raises Interrupted instead of going out after the run has said what it sent.
"""

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from reconciler.errors import Interrupted

DEFAULT_PAUSE = 1.0  # seconds, when a 429 says no Retry-After
BACK_OFF = 0.7  # after a 429, the share of the rate the API just accepted that the run goes on at
INITIAL_WINDOW = 3  # signed requests in the first round, before the API has answered any
GROWTH = 3  # a round answered with no refusal lets this many times as many requests go in the next
RECOVERY = 1.05  # the pace a 429 taught is multiplied by this...
RECOVERY_PERIOD = 10.0  # ...every this many seconds without a refusal
MAX_WINDOW = 10_000.0  # the window only grows while answers come; bounded so it stays a plain number
RAMP_STEP = 0.25  # seconds: by_time()'s pace grows GROWTH times this often
HORIZON = 5.0  # seconds of accepted requests a 429's lesson is measured over (at least one, at most the run's age)


_thread = threading.local()


@contextmanager
def polling() -> Iterator[None]:
    """The requests this thread sends meanwhile are polls: they wait for their place on the wire behind the others."""
    before = getattr(_thread, "polling", False)
    _thread.polling = True
    try:
        yield
    finally:
        _thread.polling = before


class RequestBudget:
    def __init__(
        self,
        rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        max_window: int = 0,
    ) -> None:
        self.rate = rate if rate and rate > 0 else None
        self.learned: float | None = None  # the pace the last 429 taught, when it is slower than `rate`
        self._learned_at = 0.0  # when it was taught
        self.waited = 0.0
        self.refusals = 0
        self._next = 0.0  # the earliest moment the next request may start
        self._paused_until = 0.0  # the end of the pause the last 429 asked for
        self._accepted: deque[float] = deque(maxlen=10_000)  # when recent signed requests were accepted
        self.max_window = float(max_window) if max_window > 0 else MAX_WINDOW  # the caller's threads: no more
        self.window = min(float(INITIAL_WINDOW), self.max_window)
        self._round_sent = 0  # signed requests sent in the current round
        self._round_open = 0  # ...of which not answered yet
        self._round_refused = False
        self._in_flight = 0  # signed requests given a place and not answered yet, whatever their round
        self._on_the_wire = 0  # ...of which past their slot: sent
        self._ramp: tuple[float, float] | None = None  # by_time(): (its start, the first step's rate)
        self._started: float | None = None  # when the first signed request was sent
        self._closed = threading.Event()
        self._clock = clock
        self._sleep = sleep or self._sleep_unless_closed
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # signalled when a round is over
        self._wire = threading.Condition(self._lock)  # signalled when a request on the wire is answered
        self._wire_for_polls = threading.Condition(self._lock)  # ...when no other request waits for its place
        self._waiting = 0  # requests other than polls waiting for a place on the wire

    def _pace(self, now: float) -> float | None:
        learned = self.learned
        if learned:
            learned *= RECOVERY ** ((now - self._learned_at) / RECOVERY_PERIOD)
        ramp = None
        if self._ramp:
            start, first = self._ramp
            ramp = first * GROWTH ** min(int((now - start) / RAMP_STEP), 20)
        rates = [r for r in (self.rate, learned, ramp) if r]
        return min(rates) if rates else None

    def by_time(self) -> None:
        """From now on the ramp goes by time (see the module's docstring); nothing changes under a known pace."""
        with self._room:
            if self.rate or self.learned:
                return
            now = self._clock()
            took = sum(1 for moment in self._accepted if moment > now - 1.0)
            self._ramp = (now, float(max(INITIAL_WINDOW * GROWTH, took)))
            self.window = self.max_window  # the pace gates the requests now, not the rounds
            self._room.notify_all()

    def _ramping(self) -> bool:
        """Whether rounds still gate requests: once the window holds every thread, the threads are the limit."""
        return self.window < self.max_window

    def acquire(self, signed: bool = True) -> float:
        """Wait for a place in the round and for this request's slot; returns the seconds waited. Every acquire is
        followed by one release with the same `signed`, whatever becomes of the request."""
        poll = getattr(_thread, "polling", False)
        with self._room:
            asked = self._clock()
            while signed and (
                self._in_flight >= self.max_window
                or (self._ramping() and self._round_sent >= self.window)
                or (poll and self._waiting > 0)
            ):
                if self._closed.is_set():
                    raise Interrupted()
                # A timeout keeps Ctrl-C and SIGTERM deliverable to a waiting thread. One waiter is woken per answer
                # (not all of them: hundreds of threads may wait for a place on the wire).
                if poll and (self._in_flight >= self.max_window or self._waiting):
                    self._wire_for_polls.wait(timeout=0.5)
                elif self._in_flight >= self.max_window:
                    self._waiting += 1
                    try:
                        self._wire.wait(timeout=0.5)
                    finally:
                        self._waiting -= 1
                        if not self._waiting:  # the polls' turn, if a place is free
                            self._wire_for_polls.notify()
                else:
                    self._room.wait(timeout=0.5)
            if self._closed.is_set():
                raise Interrupted()
            if signed:
                if self._started is None:
                    self._started = self._clock()
                self._round_sent += 1
                self._round_open += 1
                self._in_flight += 1
            now = self._clock()
            start = max(now, self._next)
            pace = self._pace(start)
            if pace:
                self._next = start + 1 / pace
            wait = start - asked
            self.waited += wait
        while start > now:
            try:
                self._sleep(start - now)
            except BaseException:  # Ctrl-C or SIGTERM while waiting for the slot: give the round's place back
                self.release(accepted=False, signed=signed, sent=False)
                raise
            with self._room:
                now = self._clock()
                if self._paused_until <= start:
                    break
                # A 429 came while this request waited for its slot, which falls in the pause it asked for: a new
                # slot after it, at the pace it taught, or every waiting thread goes out into the limit again.
                start = max(now, self._next)
                pace = self._pace(start)
                if pace:
                    self._next = start + 1 / pace
                self.waited += start - now
                wait += start - now
        if signed:
            with self._room:
                self._on_the_wire += 1  # sent from now on (not while it waited for its slot)
        return wait

    def _sleep_unless_closed(self, seconds: float) -> None:
        if self._closed.wait(seconds):
            raise Interrupted()

    def pause(self, seconds: float) -> None:
        """Sleep, as between two tries of a request, unless the run stops (close): then raise Interrupted at once."""
        self._sleep_unless_closed(seconds)

    def close(self) -> None:
        """No request goes out from now on: those waiting for their place or slot raise Interrupted."""
        self._closed.set()
        with self._room:
            self._room.notify_all()
            self._wire.notify_all()
            self._wire_for_polls.notify_all()

    def release(self, accepted: bool, signed: bool = True, sent: bool = True) -> None:
        """The request is over: answered (`accepted`) or not (refused, failed, interrupted; `sent`: it went out)."""
        if not signed:
            return
        with self._room:
            self._round_open -= 1
            self._in_flight -= 1
            self._on_the_wire -= sent
            (self._wire if self._waiting else self._wire_for_polls).notify()
            if accepted:
                self._accepted.append(self._clock())
            else:
                self._round_refused = True
            self._end_round_if_over()

    def _end_round_if_over(self) -> None:
        """Called with the lock held, whenever the round or the window changes."""
        if self._round_open <= 0 and self._round_sent >= self.window:
            if not self._round_refused:
                self.window = min(self.max_window, self.window * GROWTH)
            self._round_open = self._round_sent = 0
            self._round_refused = False
            self._room.notify_all()

    def refused(self, retry_after: float | None) -> float:
        """A 429: pause everyone for Retry-After and slow down; returns the pause (refused time)."""
        pause = retry_after if retry_after and retry_after > 0 else DEFAULT_PAUSE
        with self._lock:
            now = self._clock()
            self.refusals += 1
            if now >= self._paused_until:  # the first refusal of a wave halves the window; the rest of it do not
                self.window = max(1.0, self.window / 2)
                self._end_round_if_over()  # a round the smaller window makes full may have no answer left to end it
            self._paused_until = max(self._paused_until, now + pause)
            self._next = max(self._next, now + pause)
            # What the API took a second, counting the requests still on the wire (the refusal of a round may come
            # back before its accepted answers, which take longer to make).
            horizon = min(HORIZON, max(1.0, now - (self._started or now)))
            accepted = sum(1 for moment in self._accepted if moment > now - horizon) + self._on_the_wire
            # Below what the API took: pacing at exactly its rate meets its limit again on every bit of jitter.
            allowed = max(accepted / horizon * BACK_OFF, 1 / pause)
            self._ramp = None  # the lesson paces the run from now on
            current = self._pace(now) if self.learned else None
            self.learned = min(current or allowed, allowed)
            self._learned_at = now
        return pause
