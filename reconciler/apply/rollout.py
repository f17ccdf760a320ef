"""Apply the changes a rollout holds, wave after wave (reconciler/plan/waves.py says which and how many at once).

A thread of its own drives the waves while the apply's other changes run at once: before a wave starts, the pause
after the last wave that changed something, then the gate of every cluster of the earlier waves this apply does not
change (so an apply after a stop starts again where the rollout stopped: the clusters are the only record); then
the wave's changes, at most its cap under way, each followed by the gate. A cluster that fails (its change, or the
gate) stops the rollout: no other change of the wave starts, nor any of a later wave; they end `not_started`.
The clusters' tasks run in the apply's pool; Ctrl-C or SIGTERM (the stop event) starts nothing more.
"""

import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Executor, Future

from reconciler.apply.cluster import apply_change
from reconciler.apply.gate import gate_problem
from reconciler.apply.result import SUCCEEDED, ApplyOptions, ClusterOutcome, Result
from reconciler.apply.waiting import pause
from reconciler.apply.watch import ProjectWatch
from reconciler.errors import Interrupted
from reconciler.escape import one_line, quoted
from reconciler.live.api import ApiClient
from reconciler.model import ClusterRef
from reconciler.plan.data import Action, Change, Plan
from reconciler.plan.render import duration
from reconciler.plan.waves import Schedule, Wave, gated_before

NAMES_SHOWN = 5


class RolloutRun:
    def __init__(
        self,
        api: ApiClient,
        plan: Plan,
        schedule: Schedule,
        options: ApplyOptions,
        stop: threading.Event,
        report: Callable[[ClusterRef, str], None],
        watch: ProjectWatch,
        pool: Executor,
        outcomes: list[ClusterOutcome | None],
    ) -> None:
        self.api, self.plan, self.schedule, self.options = api, plan, schedule, options
        self.stop, self.report, self.watch, self.pool, self.outcomes = stop, report, watch, pool, outcomes
        self.started: set[int] = set()  # indices something may have been sent to
        self.stopped: str | None = None  # why the rollout stopped, if it did
        self.waits: str | None = None  # why the later waves wait (changes deferred to their window), if they do
        self.checked: set[int] = set()  # clusters left alone whose gate was checked (once per apply)

    @property
    def held(self) -> set[int]:
        return {index for wave in self.schedule.waves for index in wave.rolled}

    def run(self) -> None:
        """Every wave in turn; whatever goes wrong here fails the changes it leaves, never the apply."""
        try:
            self._run()
        except Exception as exc:  # a bug must fail the rollout's clusters, not the whole apply
            self.stopped = f"internal error: {type(exc).__name__}: {exc}"
            for wave in self.schedule.waves:
                for index in wave.rolled:
                    if self.outcomes[index] is not None:
                        continue
                    if index in self.started:
                        reason = f"{self.stopped}; a request may have been sent: its result is unknown"
                        self.outcomes[index] = ClusterOutcome(self.plan.changes[index], Result.FAILED, reason)
                    else:
                        self.outcomes[index] = self._held(index, self.stopped)

    def _run(self) -> None:
        pending_pause, after = 0.0, ""
        for number, wave in enumerate(self.schedule.waves):
            if self.stop.is_set():
                return  # the rest is accounted for by the interrupted apply: skipped
            if self.stopped:
                self._not_started(wave)
                continue
            if not wave.rolled:
                continue
            if self.waits:
                self._wait(wave)
                continue
            try:
                if pending_pause:
                    self._say_rollout(f"pausing {duration(pending_pause)} after wave {after} (pauseAfter)")
                    pause(self.stop, pending_pause)
            except Interrupted:
                return
            self.stopped = self._earlier_failure(number)
            if self.stopped:
                self._not_started(wave)
                continue
            self._say_rollout(f"wave {quoted(wave.name)}: {len(wave.rolled)} change(s), {wave.cap} at a time")
            self.stopped = self._roll(wave)
            deferred = [i for i in wave.rolled if self._result(i) is Result.DEFERRED]
            if deferred and not self.stopped:
                self.waits = f"{self._names(deferred)} of wave {quoted(wave.name)} deferred to their maintenance window"
            pending_pause, after = wave.spec.pause_after, quoted(wave.name)

    def _say_rollout(self, text: str) -> None:
        self.report(ClusterRef("", f"rollout {self.schedule.rollout.name}"), text)

    def _earlier_failure(self, number: int) -> str | None:
        """Why the wave cannot start: a cluster of an earlier wave failed or fails the gate now (None: it can)."""
        earlier = self.schedule.waves[:number]
        failed = []
        for wave in earlier:
            for index in wave.members:
                outcome = self.outcomes[index]
                if self.plan.changes[index].action is Action.ERROR or (
                    index in wave.rolled and (outcome is None or outcome.result not in SUCCEEDED)
                ):
                    failed.append(index)
        wave_of = {index: wave for wave in earlier for index in wave.members}
        checks = {
            index: self.pool.submit(self._gate_only, index, wave_of[index])
            for index in gated_before(self.schedule, self.plan, number)
            if index not in self.checked
        }
        self.checked.update(checks)
        for index, future in checks.items():
            try:
                outcome = future.result()
            except CancelledError:
                return "stopped"
            if outcome is not None:
                self.outcomes[index] = outcome
                failed.append(index)
        if not failed:
            return None
        return f"{self._names(failed)} of an earlier wave failed"

    def _gate_only(self, index: int, wave: Wave) -> ClusterOutcome | None:
        """The gate of a cluster this apply leaves alone (changed by an earlier apply, or nothing to change): None when
        it passes; else its outcome, failed."""
        change = self.plan.changes[index]
        if change.cluster.id is None:
            return None
        try:
            problem = self._gate(change, change.cluster.id, self._say(index))
        except Interrupted:
            return None
        if problem is None:
            return None
        reason = (
            f"wave {quoted(wave.name)}: fails the health gate, so no later wave starts until it passes (nothing to "
            f"change here; an earlier apply may have changed it): {problem}"
        )
        return ClusterOutcome(change, Result.FAILED, reason, cluster_id=change.cluster.id)

    def _gate(self, change: Change, cluster_id: str, say: Callable[[str], None]) -> str | None:
        rollout = self.schedule.rollout
        return gate_problem(
            self.api, change, cluster_id, rollout.gate_timeout, self.stop, say, self.watch, rollout.gate_api_server
        )

    def _say(self, index: int) -> Callable[[str], None]:
        ref = self.plan.changes[index].cluster
        return lambda text: self.report(ref, text)

    def _roll(self, wave: Wave) -> str | None:
        """The wave's changes, at most its cap at once; why it failed, or None."""
        waiting = deque(wave.rolled)
        running: dict[Future, int] = {}
        finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
        failed: list[int] = []
        while waiting or running:
            while waiting and len(running) < wave.cap and not failed and not self.stop.is_set():
                index = waiting.popleft()
                try:
                    future = self.pool.submit(self._change, index, wave)
                except RuntimeError:  # the pool is shut down: the apply was stopped
                    waiting.appendleft(index)
                    break
                self.started.add(index)
                future.add_done_callback(finished.put)
                running[future] = index
            if not running:
                break
            future = finished.get()
            index = running.pop(future)
            try:
                self.outcomes[index] = outcome = future.result()
            except CancelledError:
                self.started.discard(index)
                continue
            if outcome.result not in SUCCEEDED:
                failed.append(index)
        if not failed:
            return None
        why = f"{self._names(failed)} failed in wave {quoted(wave.name)}"
        for index in waiting if not self.stop.is_set() else ():
            self.outcomes[index] = self._held(index, why)
        return why

    def _change(self, index: int, wave: Wave) -> ClusterOutcome:
        change = self.plan.changes[index]
        say = self._say(index)
        say(f"wave {quoted(wave.name)}: starting")
        outcome = apply_change(self.api, change, self.options, self.stop, say, self.watch)
        if outcome.result not in (Result.DONE, Result.DONE_ELSEWHERE) or not self.options.wait:
            return outcome
        if change.action is Action.DELETE:  # gone: nothing is left to gate
            return outcome
        cluster_id = outcome.cluster_id or change.cluster.id
        try:
            problem = self._gate(change, str(cluster_id), say)
        except Interrupted:
            outcome.result, outcome.reason = Result.INTERRUPTED, "stopped while waiting for the health gate"
            return outcome
        if problem:
            outcome.result, outcome.reason = Result.FAILED, f"done, but fails the health gate: {problem}"
            say(f"failed: {outcome.reason}")
        return outcome

    def _result(self, index: int) -> Result | None:
        outcome = self.outcomes[index]
        return outcome.result if outcome else None

    def _wait(self, wave: Wave) -> None:
        """The wave's changes wait for the earlier changes deferred to their window: deferred too, not failed."""
        for index in wave.rolled:
            reason = f"wave {quoted(wave.name)}: waits, {self.waits}; nothing was sent"
            self.outcomes[index] = ClusterOutcome(self.plan.changes[index], Result.DEFERRED, reason)

    def _not_started(self, wave: Wave) -> None:
        for index in wave.rolled:
            self.outcomes[index] = self._held(index, str(self.stopped))

    def _held(self, index: int, why: str) -> ClusterOutcome:
        wave = self.plan.changes[index].wave
        reason = f"wave {quoted(wave or '')}: not started, the rollout stopped ({why}); nothing was sent"
        return ClusterOutcome(self.plan.changes[index], Result.NOT_STARTED, reason)

    def _names(self, indices: list[int]) -> str:
        names = [one_line(self.plan.changes[index].cluster.name) for index in indices]
        more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
        return ", ".join(names[:NAMES_SHOWN]) + more
