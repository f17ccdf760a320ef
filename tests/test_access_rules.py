"""`ovhkube access-rules`: the rules cover every call each command makes (checked against the sandbox's request log),
and the read-only set holds GETs only."""

import json

from apply_helpers import IPTABLES_60S, PROJECT, live, seed, wanted, write_fleet

from reconciler.live.access import allows


def rules(run_ovhkube, *args) -> list[dict]:
    result = run_ovhkube("access-rules", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["accessRules"]


def calls(sandbox) -> list[tuple[str, str]]:
    return [(entry["method"], entry["path"].removeprefix("/1.0")) for entry in sandbox.requests()]


def not_allowed(granted: list[dict], made: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The calls no rule covers; GET /auth/time is sent unsigned, so it needs none."""
    return [call for call in made if call != ("GET", "/auth/time") and not allows(granted, *call)]


def test_each_command_stays_within_its_rules(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    alpha = wanted("alpha", kubeProxy=IPTABLES_60S)  # update
    alpha["spec"]["nodePools"] = {"workers": {"flavorName": "b3-8"}}  # its pools and flavors are read
    fresh = wanted("fresh", mode="iptables")  # create, with a pool: its region's flavors are read
    fresh["spec"]["nodePools"] = {"workers": {"flavorName": "b3-8"}}
    fleet = write_fleet(
        tmp_path,
        alpha,
        wanted("beta", mode="ipvs", allow_reset=True),  # reset
        fresh,
    )
    read_only, full = rules(run_ovhkube, "--read-only"), rules(run_ovhkube)
    assert {rule["method"] for rule in read_only} == {"GET"}

    sandbox.forget_requests()
    for args in (
        ["plan", fleet],
        ["drift", fleet, "--unmanaged"],
        ["export", "--project", PROJECT, "--output", tmp_path / "x"],
    ):
        result = run_ovhkube(*args, env=sandbox.env())
        assert result.returncode in (0, 2), result.stderr
    assert calls(sandbox) and not_allowed(read_only, calls(sandbox)) == []

    sandbox.forget_requests()
    applied = run_ovhkube("apply", fleet, "--auto-approve", env=sandbox.env())
    assert applied.returncode == 0, applied.stderr
    writes = {(method, path.split("/")[-1]) for method, path in calls(sandbox) if method != "GET"}
    assert writes == {("PUT", "customization"), ("POST", "reset"), ("POST", "kube"), ("POST", "nodepool")}
    assert not_allowed(full, calls(sandbox)) == []
    assert len(not_allowed(read_only, calls(sandbox))) == 4  # the read-only key could not have done it


def test_rules_for_named_projects_only(run_ovhkube):
    paths = {rule["path"] for rule in rules(run_ovhkube, "--read-only", "--project", PROJECT)}
    assert paths and all(path.startswith(f"/cloud/project/{PROJECT}") for path in paths)
    assert f"/cloud/project/{PROJECT}" in paths  # its description, for plans
    refused = run_ovhkube("access-rules", "--project", "../me")
    assert refused.returncode == 1 and refused.stderr.startswith('error: --project "../me" is not a Public Cloud')
