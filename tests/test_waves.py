"""The rollout's pure logic, by tables: caps from counts and percentages, which change waits for which wave, which
clusters are gated before a wave, and what keeps a cluster from passing the gate."""

import pytest

from reconciler.apply.gate import health_problems, planned_version
from reconciler.model import ClusterRef, RolloutSpec, WaveSpec
from reconciler.plan.data import Action, Change, Plan
from reconciler.plan.diff import FieldChange
from reconciler.plan.waves import gated_before, in_flight, schedule
from reconciler.steps import ClusterTarget, PoolTarget, Step, StepKind

PROJECT = "a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4"


@pytest.mark.parametrize(
    ("written", "clusters", "cap"),
    [
        ("1", 12, 1),
        ("3", 2, 3),  # a count is a count, whatever the wave's size
        ("25%", 12, 3),
        ("25%", 3, 1),  # 0.75 rounds down to 0, and a wave must be able to start: 1
        ("25%", 8, 2),
        ("50%", 7, 3),  # rounded down: never more at once than asked
        ("100%", 7, 7),
        ("1%", 1000, 10),
        ("10%", 0, 1),  # a wave with no cluster still has a cap of 1
    ],
)
def test_cap(written, clusters, cap):
    assert in_flight(written, clusters) == cap


def change(name: str, action: Action, wave: str | None, *kinds: StepKind) -> Change:
    target = ClusterTarget(PROJECT, "6f3c1a52-2222-4c1e-9a55-000000000001")
    steps = [
        Step(kind, PoolTarget(PROJECT, target.cluster_id, "p") if kind.name.startswith("POOL") else target, {})
        for kind in kinds
    ]
    return Change(ClusterRef(PROJECT, name), action, "f.yaml:1", steps=steps, wave=wave)


ROLLOUT = RolloutSpec(
    "fleet",
    "f.yaml:1",
    (WaveSpec("canary", "1"), WaveSpec("early", "50%", pause_after=60.0), WaveSpec("rest", "100%")),
)
PLAN = [
    change("a", Action.UPGRADE, "canary", StepKind.UPGRADE),
    change("b", Action.UPDATE, "early", StepKind.UPDATE_POLICY),  # not disruptive: at once
    change("c", Action.RESET, "early", StepKind.RESET),
    change("d", Action.UPDATE, "early", StepKind.POOL_CREATE, StepKind.POOL_DELETE),  # a pool replaced
    change("e", Action.NOOP, "early"),
    change("f", Action.UPGRADE, None, StepKind.UPGRADE),  # in no wave: never held
    change("g", Action.ERROR, "rest"),
    change("h", Action.UPGRADE, "rest", StepKind.UPGRADE),
    change("i", Action.CREATE, "rest", StepKind.CREATE),  # a create redeploys nothing: at once
    change("j", Action.UPDATE, "rest", StepKind.NETWORK_CONFIGURATION),  # every node redeployed
    change("k", Action.UPDATE, "rest", StepKind.LOAD_BALANCERS_SUBNET),  # the nodes stay
    change("l", Action.DELETE, "rest", StepKind.DELETE),
]


@pytest.mark.parametrize(
    ("all_changes", "rolled", "free"),
    [
        (False, [["a"], ["c", "d"], ["h", "j", "l"]], ["b", "f", "i", "k"]),
        (True, [["a"], ["b", "c", "d"], ["h", "i", "j", "k", "l"]], ["f"]),
    ],
)
def test_which_changes_wait_for_their_wave(all_changes, rolled, free):
    rollout = RolloutSpec(ROLLOUT.name, ROLLOUT.source, ROLLOUT.waves, all_changes=all_changes)
    waves = schedule(Plan(PLAN, "sandbox", rollout=rollout))
    assert waves is not None and waves.rolls
    assert [[PLAN[i].cluster.name for i in wave.rolled] for wave in waves.waves] == rolled
    assert [PLAN[i].cluster.name for i in waves.free] == free
    assert [[PLAN[i].cluster.name for i in wave.members] for wave in waves.waves] == [
        ["a"],
        ["b", "c", "d", "e"],
        ["g", "h", "i", "j", "k", "l"],
    ]
    assert [wave.cap for wave in waves.waves] == [1, 2, 6]  # 50% of 4 members; 100% of 6


def test_a_plan_without_rollout_has_no_schedule_and_one_with_nothing_disruptive_rolls_nothing():
    assert schedule(Plan(PLAN, "sandbox")) is None
    quiet = [change("b", Action.UPDATE, "early", StepKind.UPDATE_POLICY), change("e", Action.NOOP, "canary")]
    waves = schedule(Plan(quiet, "sandbox", rollout=ROLLOUT))
    assert waves is not None and not waves.rolls
    assert [quiet[i].cluster.name for i in waves.free] == ["b"]


@pytest.mark.parametrize(("wave", "gated"), [(0, []), (1, []), (2, ["e"])])
def test_gated_before_a_wave_are_the_earlier_clusters_with_nothing_to_change(wave, gated):
    waves = schedule(Plan(PLAN, "sandbox", rollout=ROLLOUT))
    assert waves is not None
    assert [PLAN[i].cluster.name for i in gated_before(waves, Plan(PLAN, "sandbox"), wave)] == gated


READY = {"status": "READY", "version": "1.32.3"}
POOL = {"name": "default", "status": "READY", "desiredNodes": 3, "availableNodes": 3}


@pytest.mark.parametrize(
    ("cluster", "pools", "version", "problems", "may_pass"),
    [
        (READY, [POOL], "1.32", [], True),
        (READY, [], None, [], True),
        (READY | {"version": "1.31.9"}, [], "1.32", ["version 1.31.9 (planned 1.32)"], True),
        (READY | {"status": "UPDATING"}, [POOL], "1.32", ["status UPDATING"], True),
        (READY | {"status": "ERROR"}, [POOL], "1.32", ["status ERROR"], False),
        (READY, [POOL | {"availableNodes": 2}], "1.32", ["node pool default: 2 of 3 nodes available"], True),
        (
            READY,
            [POOL | {"status": "ERROR", "availableNodes": 0}],
            None,
            ["node pool default ERROR", "node pool default: 0 of 3 nodes available"],
            False,
        ),
        (
            READY,
            [POOL | {"status": "UPSCALING", "availableNodes": 1}],
            None,
            ["node pool default UPSCALING", "node pool default: 1 of 3 nodes available"],
            True,
        ),
    ],
)
def test_health_problems(cluster, pools, version, problems, may_pass):
    assert health_problems(cluster, pools, version) == (problems, may_pass)


def test_the_planned_version_is_the_diffs():
    upgrade = Change(ClusterRef(PROJECT, "a"), Action.UPGRADE, "f:1", diff=[FieldChange("version", "1.31.2", "1.32")])
    assert planned_version(upgrade) == "1.32"
    assert planned_version(change("b", Action.NOOP, None)) is None
