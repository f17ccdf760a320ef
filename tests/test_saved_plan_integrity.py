"""A saved plan is checked whole before anything is sent: a plan edited into something else is refused, whole, in
one line, and the live state is untouched; the plan as written applies. Which forgery gets which refusal is proved
in process by test_saved_plan_table.py."""

import json

import pytest
from apply_helpers import IPTABLES_30S, IPTABLES_60S, MORE_PLUGINS, PROJECT, cluster_id, live, seed, wanted, write_fleet


@pytest.fixture
def saved(sandbox, run_ovhkube, tmp_path):
    """A saved plan: alpha reset to ipvs, beta updated, fresh created, gamma unchanged; the file and its JSON."""
    seed(sandbox, live(1, "alpha"), live(2, "beta"), live(3, "gamma"))
    fleet = write_fleet(
        tmp_path,
        wanted("alpha", mode="ipvs", allow_reset=True, kubeProxy={"ipvs": {"scheduler": "lc"}}),
        wanted("beta", apiServer=MORE_PLUGINS),
        wanted("fresh", mode="iptables", kubeProxy=IPTABLES_60S),
        wanted("gamma", mode="iptables", kubeProxy=IPTABLES_30S),
    )
    plan_file = tmp_path / "plan.json"
    made = run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env())
    assert made.returncode == 0, made.stderr
    return plan_file, json.loads(plan_file.read_text())


def entry(plan: dict, name: str) -> dict:
    return next(change for change in plan["changes"] if change["cluster"]["name"] == name)


def rename_in_the_reset(plan):
    entry(plan, "alpha")["requests"][0]["body"]["name"] = "someone-else"


def update_turned_into_two_resets(plan):
    request = entry(plan, "beta")["requests"][0]
    request["kind"], request["method"] = "reset", "POST"
    request["path"] = f"/cloud/project/{PROJECT}/kube/{cluster_id(2)}/reset"
    entry(plan, "beta")["requests"].append(dict(request))


# Each forgery and its refusal is in test_saved_plan_table.py (in process); here, what only a run shows: the
# refusal is one line on stderr, exit 1, and nothing reaches the API.
TAMPERED = {
    rename_in_the_reset: 'body.name is "someone-else" where the entry makes "alpha"',
    update_turned_into_two_resets: "2 request(s) where it makes 1",
}


@pytest.mark.parametrize("tamper", TAMPERED, ids=lambda tamper: tamper.__name__)
def test_a_tampered_saved_plan_is_refused_whole_and_nothing_is_sent(sandbox, run_ovhkube, saved, tamper):
    plan_file, plan = saved
    tamper(plan)
    plan_file.write_text(json.dumps(plan, indent=2))
    before = sandbox.show()

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {plan_file}: refused, the plan is not as ovhkube wrote it: ")
    assert TAMPERED[tamper] in result.stderr and "nothing was changed" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""
    assert sandbox.show() == before


def test_a_saved_plan_of_the_wrong_types_gets_one_line_with_file_and_line(sandbox, run_ovhkube, saved):
    plan_file, plan = saved
    entry(plan, "beta")["cluster"].update(name=7)
    plan_file.write_text(json.dumps(plan, indent=2))

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cluster.name: must be a string, not 7" in result.stderr and len(result.stderr.splitlines()) == 1
    line = int(result.stderr.split(f"error: {plan_file}:")[1].split(":")[0])  # FILE:LINE of the object holding it
    assert '"cluster": {' in plan_file.read_text().splitlines()[line - 1]


def test_the_plan_as_written_passes_every_check(sandbox, run_ovhkube, saved):
    plan_file, _ = saved

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 0, result.stderr
    assert "Apply complete: 1 created, 1 updated, 0 upgraded, 1 reset, 0 failed." in result.stdout
