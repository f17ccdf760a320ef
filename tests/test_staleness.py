"""A saved plan goes stale only where what it sends depends on what moved: OVHcloud patching a cluster the plan
leaves alone, or someone changing its update policy, is reported after the apply, never a refusal; a patch release
never makes a settings change stale; a reset whose cluster changed mode, or an update whose block someone else
changed, is refused.

End to end: the CLI in a subprocess, the real ovh client, the sandbox over HTTP; the rules by a table.
"""

import pytest
from apply_helpers import (
    IPTABLES_30S,
    IPTABLES_60S,
    MORE_PLUGINS,
    PROJECT,
    cluster_id,
    clusters_by_name,
    live,
    seed,
    wanted,
    write_fleet,
)

from reconciler.plan.data import Action
from reconciler.plan.staleness import rests_on
from reconciler.steps import ClusterTarget, Step, StepKind

KUBE = f"/cloud/project/{PROJECT}/kube"


def saved_plan(run_ovhkube, sandbox, tmp_path, *documents) -> str:
    fleet = write_fleet(tmp_path, *documents)
    plan_file = tmp_path / "plan.json"
    made = run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env())
    assert made.returncode == 0, made.stdout + made.stderr
    return str(plan_file)


def test_clusters_the_plan_leaves_alone_may_move_they_are_reported_after_the_apply(
    sandbox_factory, run_ovhkube, tmp_path
):
    sandbox = sandbox_factory(transition_seconds=0)
    seed(sandbox, live(1, "alpha"), live(2, "beta") | {"version": "1.31.1", "isUpToDate": False}, live(3, "gamma"))
    plan_file = saved_plan(
        run_ovhkube,
        sandbox,
        tmp_path,
        wanted("alpha", kubeProxy=IPTABLES_60S),
        wanted("beta", kubeProxy=IPTABLES_30S),
        wanted("gamma", kubeProxy=IPTABLES_30S),
    )
    client = sandbox.client()
    client.post(f"{KUBE}/{cluster_id(2)}/update", strategy="LATEST_PATCH")  # OVHcloud patches beta
    client.put(f"{KUBE}/{cluster_id(3)}/updatePolicy", updatePolicy="ALWAYS_UPDATE")  # someone edits gamma

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Apply complete: 0 created, 1 updated" in result.stdout
    for name in ("beta", "gamma"):
        assert f"note: {name} changed since the plan and is not part of it: plan again to see" in result.stderr
    assert clusters_by_name(sandbox)["alpha"]["customization"]["kubeProxy"] == IPTABLES_60S


def test_a_patch_release_never_makes_a_settings_change_stale(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(transition_seconds=0)
    seed(sandbox, live(1, "alpha") | {"version": "1.31.1", "isUpToDate": False})
    plan_file = saved_plan(run_ovhkube, sandbox, tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    sandbox.client().post(f"{KUBE}/{cluster_id(1)}/update", strategy="LATEST_PATCH")

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "changed since the plan" not in result.stderr
    assert clusters_by_name(sandbox)["alpha"]["version"] != "1.31.1"  # the patch did land before the apply


def test_a_reset_whose_cluster_changed_mode_is_refused(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(transition_seconds=0)
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    plan_file = saved_plan(
        run_ovhkube,
        sandbox,
        tmp_path,
        wanted("alpha", mode="ipvs", allow_reset=True),
        wanted("beta", kubeProxy=IPTABLES_60S),
    )
    # Someone resets alpha to ipvs meanwhile: the reset the plan holds would erase it again, for other settings.
    sandbox.client().post(f"{KUBE}/{cluster_id(1)}/reset", kubeProxyMode="ipvs", version="1.31", name="alpha")
    before = sandbox.show()

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 1
    assert result.stderr.startswith("error: stale plan: 1 cluster(s) changed since the plan was made: alpha;")
    assert sandbox.show() == before


def test_an_update_whose_customization_someone_else_changed_is_refused(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"), live(2, "beta"), live(3, "gamma"))
    gamma = wanted("gamma")
    gamma["spec"]["updatePolicy"] = "ALWAYS_UPDATE"
    plan_file = saved_plan(
        run_ovhkube,
        sandbox,
        tmp_path,
        wanted("alpha", kubeProxy=IPTABLES_60S),
        wanted("beta", apiServer=MORE_PLUGINS),
        gamma,
    )
    changed = {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT45S"}}
    for number in (1, 2, 3):
        sandbox.client().put(f"{KUBE}/{cluster_id(number)}/customization", kubeProxy=changed)

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    # alpha's PUT sends the block changed; beta's carries it as read and would put the old value back. gamma's entry
    # sends its update policy alone: it does not rest on the customization.
    assert result.returncode == 1
    assert result.stderr.startswith("error: stale plan: 2 cluster(s) changed since the plan was made: alpha, beta;")


TARGET = ClusterTarget(PROJECT, "x")
PUT_CUSTOMIZATION = Step(StepKind.PUT_CUSTOMIZATION, TARGET, {"kubeProxy": {}})
PUT_POLICY = Step(StepKind.UPDATE_POLICY, TARGET, {"updatePolicy": "ALWAYS_UPDATE"})
IDENTITY_AND_MINOR = ("id", "name", "region", "version")


@pytest.mark.parametrize(
    ("action", "steps", "fields", "blocks", "patch"),
    [
        (Action.UPDATE, [PUT_CUSTOMIZATION], IDENTITY_AND_MINOR, None, False),
        (Action.UPDATE, [PUT_POLICY], IDENTITY_AND_MINOR, (), False),
        (
            Action.UPGRADE,
            [Step(StepKind.UPGRADE, TARGET, {"strategy": "NEXT_MINOR"})],
            (*IDENTITY_AND_MINOR, "updatePolicy"),
            (),
            False,
        ),
        (
            Action.UPGRADE,
            [Step(StepKind.UPGRADE, TARGET, {"strategy": "LATEST_PATCH"})],
            (*IDENTITY_AND_MINOR, "updatePolicy", "isUpToDate"),
            (),
            True,
        ),
    ],
)
def test_what_an_entry_rests_on(action, steps, fields, blocks, patch):
    rests = rests_on(action, steps)
    assert (rests.fields, rests.blocks, rests.patch) == (fields, blocks, patch)


def test_a_reset_rests_on_its_mode_the_whole_customization_and_what_it_puts_back():
    rests = rests_on(Action.RESET, [Step(StepKind.RESET, TARGET, {})])
    assert "kubeProxyMode" in rests.fields and "updatePolicy" in rests.fields and rests.blocks is None
    assert rests.parts == ("ipRestrictions", "openIdConnect") and rests.patch is False
