"""Two plans that would do the same: what `apply --plan FILE --verify-against PATH` checks before applying a reviewed
plan to files that may have moved on since it was reviewed (a squash merge, a later merge into main)."""

from reconciler.plan.data import Action, Plan


def _effects(plan: Plan) -> dict[tuple[str, str], tuple]:
    """Per cluster, what applying the plan does: its action and the exact steps (noop entries do nothing)."""
    return {
        (change.cluster.project, change.cluster.name): (
            change.action,
            change.steps,
        )
        for change in plan.changes
        if change.action != Action.NOOP
    }


def differing_clusters(reviewed: Plan, fresh: Plan) -> list[str]:
    """The clusters (PROJECT/NAME) for which the two plans do not do the same; [] when they match."""
    before, after = _effects(reviewed), _effects(fresh)
    return [
        f"{project}/{name}"
        for project, name in sorted(before.keys() | after.keys())
        if before.get((project, name)) != after.get((project, name))
    ]
