"""Two plans that would do the same: what `apply --plan FILE --verify-against PATH` checks before applying a reviewed
plan to files that may have moved on since it was reviewed (a squash merge, a later merge into main)."""

from dataclasses import replace

from reconciler.model import RolloutSpec
from reconciler.plan.data import Action, Plan

ROLLOUT = "the rollout (its waves, caps, pauses or gate)"


def _effects(plan: Plan) -> dict[tuple[str, str], tuple]:
    """Per cluster, what applying the plan does: its action, the exact steps, and when they may go (its wave and its
    maintenance window; noop entries do nothing)."""
    return {
        (change.cluster.project, change.cluster.name): (
            change.action,
            change.steps,
            change.wave,
            change.maintenance_window,
        )
        for change in plan.changes
        if change.action != Action.NOOP
    }


def _order(rollout: RolloutSpec | None) -> RolloutSpec | None:
    """The rollout without where it is written: lines move with any edit of the files."""
    if rollout is None:
        return None
    return replace(rollout, source="", waves=tuple(replace(wave, source="") for wave in rollout.waves))


def differing_clusters(reviewed: Plan, fresh: Plan) -> list[str]:
    """The clusters (PROJECT/NAME) for which the two plans do not do the same, and the rollout first if its order
    differs; [] when they match."""
    before, after = _effects(reviewed), _effects(fresh)
    differing = [ROLLOUT] if _order(reviewed.rollout) != _order(fresh.rollout) else []
    return differing + [
        f"{project}/{name}"
        for project, name in sorted(before.keys() | after.keys())
        if before.get((project, name)) != after.get((project, name))
    ]
