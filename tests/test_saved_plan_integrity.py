"""A saved plan is checked whole before anything is sent: a plan edited into something else (a replay without
fingerprints, a repeated entry, a reset hidden in a create, a body the files could never make) is refused, whole,
with the reason, and the live state is untouched."""

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


def forget_fingerprints(plan):
    for change in plan["changes"]:
        change.pop("live_fingerprint")


def repeat_the_create(plan):
    plan["changes"].append(json.loads(json.dumps(entry(plan, "fresh"))))
    plan["summary"]["create"] += 1


def reset_hidden_in_a_create(plan):
    fresh = entry(plan, "fresh")
    fresh["cluster"]["project"] = f"{PROJECT}/kube/{cluster_id(3)}/reset?x="
    fresh["requests"][0]["path"] = f"/cloud/project/{PROJECT}/kube/{cluster_id(3)}/reset?x=/kube"


def edit_beta(plan, block: str, value: dict, diff: list[tuple]) -> None:
    """beta's request and diff edited together, as a careful forger would."""
    beta = entry(plan, "beta")
    beta["requests"][0]["body"] = {block: value}
    beta["diff"] = [{"path": f"customization.{block}.{path}", "before": None, "after": after} for path, after in diff]


def disable_node_restriction(plan):
    plugins = {"enabled": ["AlwaysPullImages"], "disabled": ["NodeRestriction"]}
    edit_beta(
        plan, "apiServer", {"admissionPlugins": plugins}, [(f"admissionPlugins.{k}", v) for k, v in plugins.items()]
    )


def rename_in_the_reset(plan):
    entry(plan, "alpha")["requests"][0]["body"]["name"] = "someone-else"


def update_turned_into_two_resets(plan):
    request = entry(plan, "beta")["requests"][0]
    request["method"], request["path"] = "POST", f"/cloud/project/{PROJECT}/kube/{cluster_id(2)}/reset"
    entry(plan, "beta")["requests"].append(dict(request))


def body_the_files_refuse(plan):
    edit_beta(plan, "kubeProxy", {"iptables": {"syncPeriod": "PT0S"}}, [("iptables.syncPeriod", "PT0S")])


def body_unlike_its_diff(plan):
    entry(plan, "fresh")["requests"][0]["body"]["customization"]["kubeProxy"]["iptables"]["syncPeriod"] = "PT45S"


def forged_summary(plan):
    plan["summary"]["reset"] = 0


TAMPERED = {
    forget_fingerprints: "without a live_fingerprint",
    repeat_the_create: "the same cluster as changes[2]",
    reset_hidden_in_a_create: "is not a project id",
    disable_node_restriction: "NodeRestriction cannot be disabled",
    rename_in_the_reset: 'body.name is "someone-else" where the entry makes "alpha"',
    update_turned_into_two_resets: "2 request(s) where it makes 1",
    body_the_files_refuse: "syncPeriod: must be greater than 0",
    body_unlike_its_diff: "body.customization is",
    forged_summary: "does not count its entries",
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


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda plan: entry(plan, "beta")["cluster"].update(name=7), "cluster.name: must be a string, not 7"),
        (lambda plan: entry(plan, "beta").update(requests={}), ".requests: must be a list"),
        (lambda plan: entry(plan, "beta").update(live_fingerprint=10**5000), "a number of more than 100 digits"),
        (lambda plan: entry(plan, "beta").update(action="explode"), '.action: unknown action "explode"'),
        (lambda plan: entry(plan, "beta").update(reason="why"), '.reason: unknown reason "why"'),
        (lambda plan: entry(plan, "beta")["cluster"].update({"x\ny": 1}), '.cluster: unknown field "x\\ny"'),
        (lambda plan: entry(plan, "beta").update(defaults=[{"source": "a.yaml:1"}]), ".defaults[0].name: missing"),
        (lambda plan: plan.update(tool_version=["0.1"]), 'the plan was made by ovhkube ["0.1"] (plan format 3)'),
    ],
    ids=[
        "name-a-number",
        "requests-an-object",
        "huge-integer",
        "action",
        "reason",
        "cluster-field",
        "defaults",
        "tool",
    ],
)
def test_a_saved_plan_of_the_wrong_types_gets_one_line_with_file_and_line(sandbox, run_ovhkube, saved, edit, message):
    import sys

    sys.set_int_max_str_digits(0)
    plan_file, plan = saved
    edit(plan)
    plan_file.write_text(json.dumps(plan, indent=2))

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"error: {plan_file}")  # which file, and no Python repr ('explode', ['0.1'])
    if "cluster.name" in message:  # FILE:LINE: the line of the object holding the field
        line = int(result.stderr.split(f"{plan_file}:")[1].split(":")[0])
        assert '"cluster": {' in plan_file.read_text().splitlines()[line - 1]


def test_a_key_twice_in_one_object_refuses_the_plan_at_that_objects_line(sandbox, run_ovhkube, saved):
    plan_file, plan = saved
    text = json.dumps(plan, indent=2)
    # A second "requests" after the first: Python keeps the last, a reviewer reading the file sees the first.
    text = text.replace('"requests": [', '"requests": [], "requests": [', 1)
    plan_file.write_text(text)
    before = sandbox.show()

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 1 and result.stdout == ""
    line = int(result.stderr.split(f"error: {plan_file}:")[1].split(":")[0])
    twice = 'the object here holds the key "requests" twice; nothing was changed'
    assert result.stderr.endswith(f": not a plan file: {twice}\n")
    assert text.splitlines()[line - 1].strip() == "{"  # the entry holding it
    assert sandbox.show() == before


def test_the_plan_as_written_passes_every_check(sandbox, run_ovhkube, saved):
    plan_file, _ = saved

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 0, result.stderr
    assert "Apply complete: 1 created, 1 updated, 0 upgraded, 1 reset, 0 failed." in result.stdout
