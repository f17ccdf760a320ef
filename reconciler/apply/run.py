"""Apply a plan to the fleet: clusters in parallel, each on its own (one failure never stops the others).

Each cluster under way has a thread, and spends most of it waiting for READY (parked on the project's watch, a
pause of the stop event): the waits hold no request. `--parallelism` bounds the requests on the wire, in the
request budget (live/budget.py), so a cluster whose write is sent lets the next one send its own while it waits,
and an apply takes about one cluster's chain of steps and transitions plus the time its requests take at that
parallelism. Up to `--clusters-at-once` clusters are under way at once; the rest start as those finish.

Ctrl-C (KeyboardInterrupt in the main thread) stops the start of new clusters and makes the running ones stop
waiting at their next poll; a request already on the wire finishes. Every cluster still gets an outcome:
skipped (nothing sent), interrupted (sent, not verified), or what it had reached.

A plan with a rollout (reconciler/plan/waves.py) hands the changes its waves hold to a RolloutRun (apply/rollout.py),
in a thread of its own that feeds them to the same pool, wave after wave; the other changes start at once.
"""

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any, cast

from reconciler.apply.cluster import apply_change
from reconciler.apply.result import ApplyOptions, ApplyReport, ClusterOutcome, Result
from reconciler.apply.rollout import RolloutRun
from reconciler.apply.watch import ProjectWatch
from reconciler.errors import Terminated
from reconciler.live.api import ApiClient
from reconciler.model import ClusterRef
from reconciler.plan.data import CHANGING, Change, Plan
from reconciler.plan.waves import schedule
from reconciler.signals import stopping
from reconciler.workers import Workers

Reporter = Callable[[ClusterRef, str], None]
ROLLOUT = -1  # the index its thread's future is known by: not a cluster's
# After Ctrl-C or SIGTERM, for the clusters that were only waiting to say what they sent: the run ends within a
# second, and a request still on the wire holds neither the account nor the exit.
STOP_GRACE_SECONDS = 0.5


def apply_plan(
    api: ApiClient, plan: Plan, options: ApplyOptions, report: Reporter, stop: threading.Event | None = None
) -> ApplyReport:
    stop = stop or threading.Event()
    outcomes: list[ClusterOutcome | None] = [None] * len(plan.changes)
    changing = sum(1 for change in plan.changes if change.action in CHANGING)
    under_way = max(1, min(changing, options.clusters_at_once))
    pool = Workers(under_way, "apply")  # after a signal's grace, a request on the wire does not hold the exit
    futures: dict[Future, int] = {}
    watch = ProjectWatch(api)
    rolled = schedule(plan)
    waves = RolloutRun(api, plan, rolled, options, stop, report, watch, pool, outcomes) if rolled else None
    held = waves.held if waves else set()
    driver = Workers(1, "rollout")
    interrupted = terminated = False
    # The clusters whose thread has begun: a signal that lands as one is handed to the pool loses its future, not it.
    begun: set[int] = set()
    try:  # a signal while clusters are still being handed to the pool is handled as one while they run
        for index, change in enumerate(plan.changes):

            def say(text: str, ref: ClusterRef = change.cluster) -> None:
                report(ref, text)

            if index in held:  # its wave's turn comes in the rollout's own thread
                continue
            if change.action in CHANGING:
                futures[pool.submit(_begin, begun, index, api, change, options, stop, say, watch)] = index
            else:  # noop and error entries: nothing to send, an outcome at once
                outcomes[index] = apply_change(api, change, options, stop, say)
        if waves:
            futures[driver.submit(waves.run)] = ROLLOUT
        _collect(futures, outcomes)
    except KeyboardInterrupt as exc:
        stopping()  # a second signal (a key pressed twice) does not cut the stop, nor the account, short
        interrupted, terminated = True, isinstance(exc, Terminated)
        stop.set()
        api.budget.close()  # a request still waiting for its slot is not sent after the account is written
        for future in futures:
            future.cancel()
        started = (waves.started if waves else set()) | begun
        _finish_after_interrupt(futures, outcomes, plan.changes, "SIGTERM" if terminated else "Ctrl-C", started)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        driver.shutdown(wait=False, cancel_futures=True)
    # Every entry is filled by now: at once, by _collect, or by _finish_after_interrupt.
    return ApplyReport(
        cast(list[ClusterOutcome], outcomes),
        plan.endpoint,
        interrupted=interrupted,
        waited=options.wait,
        terminated=terminated,
        rollout=plan.rollout.name if waves and plan.rollout else None,
        rollout_stopped=waves.stopped if waves else None,
        rollout_waits=waves.waits if waves else None,
    )


def _begin(begun: set[int], index: int, *args: Any) -> ClusterOutcome:
    begun.add(index)
    return apply_change(*args)


def _collect(futures: dict[Future, int], outcomes: list) -> None:
    """Each outcome as its cluster finishes: a callback queues the finished future, so collecting is linear in the
    fleet (waiting on the whole pending set for each finished cluster made 10,000 clusters cost seconds of CPU)."""
    finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
    for future in futures:
        future.add_done_callback(finished.put)
    for _ in range(len(futures)):
        while True:
            try:
                # A timeout, so that Ctrl-C reaches the main thread promptly on every platform.
                future = finished.get(timeout=0.5)
                break
            except queue.Empty:
                continue
        result = future.result()
        if futures[future] != ROLLOUT:  # the rollout's thread writes its clusters' outcomes itself
            outcomes[futures[future]] = result


def _finish_after_interrupt(
    futures: dict[Future, int],
    outcomes: list,
    changes: list[Change],
    signal: str,
    rolled: set[int] | frozenset[int] = frozenset(),
) -> None:
    """Let the running clusters reach their next stopping point (a wait stops at once), for STOP_GRACE_SECONDS at
    most: nothing in flight is waited for, and its cluster's result is unknown. `signal`: what stopped the run."""
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    try:
        for future, index in futures.items():
            if index == ROLLOUT:  # its clusters' outcomes are its own to write; it stops at once
                if not future.cancelled():
                    future.result(timeout=max(0.0, deadline - time.monotonic()))
            elif future.cancelled():
                outcomes[index] = ClusterOutcome(changes[index], Result.SKIPPED, f"{signal} before it was started")
            elif outcomes[index] is None:
                outcomes[index] = future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FuturesTimeout:
        pass
    started = set(futures.values()) | set(rolled)
    for index, outcome in enumerate(outcomes):
        if outcome is None and index not in started:
            outcomes[index] = ClusterOutcome(changes[index], Result.SKIPPED, f"{signal} before it was started")
        elif outcome is None:
            reason = f"{signal}: a request may still be in flight; its result is unknown"
            outcomes[index] = ClusterOutcome(changes[index], Result.INTERRUPTED, reason)
