"""`apply --plan --verify-against`'s comparison as a table, without processes: two plans do the same when each
cluster's action, steps, wave and window match and the rollout orders the same, wherever its lines moved."""

import pytest

from reconciler.model import RolloutSpec, WaveSpec
from reconciler.plan.compare import ROLLOUT, differing_clusters
from reconciler.plan.data import Plan


def rollout(*caps: str, source: str = "fleet.yaml:1") -> RolloutSpec:
    waves = tuple(WaveSpec(f"w{n}", cap, source=f"{source}{n}") for n, cap in enumerate(caps))
    return RolloutSpec("fleet", source, waves)


@pytest.mark.parametrize(
    ("reviewed", "fresh", "differing"),
    [
        (None, None, []),
        (rollout("1", "25%"), rollout("1", "25%", source="moved.yaml:40"), []),  # only where it is written moved
        (rollout("1", "25%"), rollout("1", "50%"), [ROLLOUT]),
        (rollout("1", "25%"), None, [ROLLOUT]),
        (None, rollout("1"), [ROLLOUT]),
    ],
)
def test_the_rollout_is_compared_by_its_order_not_its_lines(reviewed, fresh, differing):
    before = Plan(changes=[], endpoint="ovh-eu", rollout=reviewed)
    after = Plan(changes=[], endpoint="ovh-eu", rollout=fresh)
    assert differing_clusters(before, after) == differing
