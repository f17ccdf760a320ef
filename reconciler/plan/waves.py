"""A plan's rollout as a schedule: which changes go in which wave, how many at once, and which are sent at once.

Pure: from the plan alone (each change's `wave`, the rollout's waves), so `plan` shows exactly the order `apply`
follows, and apply of a saved plan follows the order that was reviewed.
"""

from dataclasses import dataclass

from reconciler.model import RolloutSpec, WaveSpec
from reconciler.plan.data import CHANGING, Action, Change, Plan
from reconciler.plan.groups import is_disruptive


@dataclass(frozen=True)
class Wave:
    spec: WaveSpec
    members: tuple[int, ...]  # indices in plan.changes of the clusters of this wave, whatever their action
    rolled: tuple[int, ...]  # those whose change waits for this wave
    cap: int  # changes of this wave under way at once

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Schedule:
    rollout: RolloutSpec
    waves: tuple[Wave, ...]
    free: tuple[int, ...]  # changes sent at once, outside the waves (non-disruptive ones, clusters in no wave)

    @property
    def rolls(self) -> bool:
        """Whether any change waits for a wave (else the rollout changes nothing in how the plan is applied)."""
        return any(wave.rolled for wave in self.waves)


def in_flight(max_in_flight: str, clusters: int) -> int:
    """A wave's cap: a count as written; a percentage of the wave's clusters, rounded down, at least 1 (as
    Kubernetes rounds a maxUnavailable: never more than asked, and never a wave that cannot start)."""
    if max_in_flight.endswith("%"):
        return max(1, int(max_in_flight[:-1]) * clusters // 100)
    return max(1, int(max_in_flight))


def waits_for_wave(change: Change, rollout: RolloutSpec) -> bool:
    """A change held for its wave: one that redeploys nodes (a reset, an upgrade, a pool replaced or deleted), or
    any change when the rollout says `changes: all`. A cluster in no wave is never held."""
    if change.wave is None or change.action not in CHANGING:
        return False
    return rollout.all_changes or is_disruptive(change)


def schedule(plan: Plan) -> Schedule | None:
    """The plan's changes in their waves (None: the plan has no rollout)."""
    rollout = plan.rollout
    if rollout is None:
        return None
    members: dict[str, list[int]] = {wave.name: [] for wave in rollout.waves}
    free = []
    for index, change in enumerate(plan.changes):
        if change.wave in members:
            members[change.wave].append(index)
        if change.action in CHANGING and not waits_for_wave(change, rollout):
            free.append(index)
    waves = tuple(
        Wave(
            spec,
            tuple(members[spec.name]),
            tuple(i for i in members[spec.name] if waits_for_wave(plan.changes[i], rollout)),
            in_flight(spec.max_in_flight, len(members[spec.name])),
        )
        for spec in rollout.waves
    )
    return Schedule(rollout, waves, tuple(free))


def gated_before(schedule: Schedule, plan: Plan, wave: int) -> list[int]:
    """The clusters of the waves before `wave` with nothing to change (done by an earlier apply, or never needing
    it): each must pass the gate before `wave` starts, so a rollout stopped by a failed cluster stays stopped until
    that cluster is healthy, with no record kept anywhere but the clusters themselves. (A cluster with a change is
    judged by how its change ends; one that could not be planned fails its wave.)"""
    return [
        index
        for earlier in schedule.waves[:wave]
        for index in earlier.members
        if plan.changes[index].action is Action.NOOP
    ]
