"""`access-rules --iam-policy`: the IAM policy an OAuth2 service account needs, with the same least privilege as
the consumer-key rules (the same calls, as IAM actions; OVHcloud's API description, the sandbox's contract, says
which action each is)."""

import json

import pytest

from reconciler.live.access import IAM_ACTIONS, IAM_PREFIX, READ_RULES, WRITE_RULES
from reconciler.sandbox.contract import contract
from reconciler.sandbox.server import PROJECT_IAM, PROJECT_PATH, route

PROJECT = "0123456789abcdef0123456789abcdef"
IDENTITY = "urn:v1:eu:identity:credential:xx1111-ovh/oauth2-EU.0f0f0f0f0f0f0f0f"


def test_every_call_ovhkube_makes_has_the_iam_action_the_api_names():
    assert set(READ_RULES + WRITE_RULES) <= set(IAM_ACTIONS)  # a new rule needs its action here
    for (method, path), action in IAM_ACTIONS.items():
        concrete = path.format(project=PROJECT).replace("*", "6f3c1a52-2222-4c1e-9a55-000000000001")
        if PROJECT_PATH.fullmatch(concrete):  # the project object (its description): outside the kube contract
            assert (IAM_PREFIX + action,) == PROJECT_IAM
            continue
        route(method, concrete)  # served by the sandbox, which takes the action's name from the API's description
        assert contract().operation(method, concrete).iam == (IAM_PREFIX + action,), (method, path)


@pytest.mark.parametrize("read_only", [True, False])
def test_the_policy_names_the_service_account_the_projects_and_only_the_actions_needed(run_ovhkube, read_only):
    flags = ["--read-only"] if read_only else []
    result = run_ovhkube("access-rules", "--iam-policy", *flags, "--project", PROJECT, "--identity", IDENTITY)

    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout)
    assert policy["identities"] == [IDENTITY]
    assert policy["resources"] == [{"urn": f"urn:v1:eu:resource:publicCloudProject:{PROJECT}"}]
    actions = {allowed["action"] for allowed in policy["permissions"]["allow"]}
    reads = {IAM_PREFIX + a for a in ("kube/get", "kube/customization/get", "kube/ipRestrictions/get")}
    assert reads <= actions
    writes = {IAM_PREFIX + a for a in ("kube/create", "kube/reset", "kube/customization/edit", "kube/update")}
    assert (writes & actions == set()) if read_only else (writes <= actions)


def test_a_canadian_service_account_gets_canadian_resources_and_a_bad_urn_is_one_line(run_ovhkube):
    canadian = IDENTITY.replace(":eu:", ":ca:")
    policy = json.loads(run_ovhkube("access-rules", "--iam-policy", "--identity", canadian).stdout)
    assert policy["resources"] == [{"urn": "urn:v1:ca:resource:publicCloudProject:*"}]

    bad = run_ovhkube("access-rules", "--iam-policy", "--identity", "EU.0f0f0f0f")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "a service account's URN is urn:v1:eu:identity:credential:ACCOUNT/oauth2-CLIENT_ID" in bad.stderr


def test_a_service_account_with_the_policy_may_make_every_call_plan_and_apply_make(sandbox, run_ovhkube, tmp_path):
    """Each call plan (text: the project's description too) and apply send, named by its IAM action as the sandbox
    takes it from the API's description, is allowed by the policy printed for that command."""
    from apply_helpers import IPTABLES_60S, live, seed, wanted, write_fleet
    from apply_helpers import PROJECT as PROJECT_ID

    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))

    def actions_of_calls() -> set[str]:
        calls = [(e["method"], e["path"].removeprefix("/1.0")) for e in sandbox.requests()]
        actions = set()
        for method, path in calls:
            if path.startswith("/auth/"):
                continue  # the clock, unsigned
            actions |= set(PROJECT_IAM if PROJECT_PATH.fullmatch(path) else contract().operation(method, path).iam)
        return actions

    def policy(*flags: str) -> set[str]:
        printed = run_ovhkube("access-rules", "--iam-policy", *flags, "--project", PROJECT_ID, "--identity", IDENTITY)
        return {allowed["action"] for allowed in json.loads(printed.stdout)["permissions"]["allow"]}

    sandbox.forget_requests()
    assert run_ovhkube("plan", fleet, env=sandbox.env()).returncode == 0
    assert ("GET", f"/cloud/project/{PROJECT_ID}") in [(e["method"], e["path"]) for e in sandbox.requests()]
    planned = actions_of_calls()
    sandbox.forget_requests()
    assert run_ovhkube("apply", fleet, "--auto-approve", env=sandbox.env()).returncode == 0
    applied = actions_of_calls()

    assert "publicCloudProject:apiovh:get" in planned  # the project's description, which plans show
    assert planned <= policy("--read-only") and applied <= policy()
    assert "publicCloudProject:apiovh:kube/customization/edit" in applied - policy("--read-only")
