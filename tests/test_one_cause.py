"""A cause shared by the whole run is said once, with what to do: bad credentials, a key without the access rules,
an unseeded sandbox, an API that does not answer (with a line while retrying, not seconds of silence)."""

import pytest
from apply_helpers import PROJECT, live, seed, wanted, write_fleet

from reconciler.errors import ApiError
from reconciler.live.causes import one_cause

OTHER_PROJECT = "fedcba9876543210fedcba9876543210"


def fleet_in_two_projects(tmp_path) -> str:
    other = wanted("gamma")
    other["spec"]["project"] = OTHER_PROJECT
    return write_fleet(tmp_path, wanted("alpha"), wanted("beta"), other)


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("command", ["plan", "drift", "export"])
def test_bad_credentials_are_one_error_with_the_hint(sandbox, run_ovhkube, tmp_path, command):
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    args = ["export", "--project", PROJECT] if command == "export" else [command, fleet_in_two_projects(tmp_path)]
    result = run_ovhkube(*args, env=sandbox.env(OVH_CONSUMER_KEY="not-the-key"))
    assert result.returncode == 1
    (line,) = error_lines(result)
    assert line.startswith("error: the API refused the credentials (GET /cloud/project/")
    assert "INVALID_CREDENTIAL" in line and line.endswith("(or write them in ovh.conf)")
    assert "alpha" not in result.stdout + result.stderr  # no entry per cluster


def test_an_unseeded_sandbox_is_one_error_saying_to_seed_it(sandbox, run_ovhkube, tmp_path):
    result = run_ovhkube("plan", fleet_in_two_projects(tmp_path), env=sandbox.env())
    assert result.returncode == 1
    (line,) = error_lines(result)
    assert "404" in line and "seed it first, e.g. `ovhkube sandbox seed examples/sandbox-seed.yaml`" in line
    assert result.stdout == ""


def test_one_missing_project_among_others_stays_an_error_of_its_clusters(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    result = run_ovhkube("plan", fleet_in_two_projects(tmp_path), env=sandbox.env())
    assert result.returncode == 1
    assert "gamma" in result.stdout and "cannot be planned" in result.stdout


def test_an_unreachable_api_says_it_retries_then_one_error_naming_the_endpoint(run_ovhkube, tmp_path, sandbox):
    url = "http://127.0.0.1:9/1.0"  # discard port: nothing listens
    env = sandbox.env(OVH_ENDPOINT=url, OVHKUBE_CLOCK_BUDGET_SECONDS="1")  # the retry window, short for the test
    result = run_ovhkube("plan", fleet_in_two_projects(tmp_path), env=env)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    retrying = [i for i, line in enumerate(lines) if line.startswith("retrying for up to 1 s: GET /auth/time")]
    (line,) = error_lines(result)
    assert len(retrying) == 1 and retrying[0] < lines.index(line)
    assert line.startswith(f"error: cannot reach the API at {url}: ") and "check --endpoint (or OVH_ENDPOINT)" in line


def test_a_key_without_the_access_rules_is_told_to_use_access_rules():
    refused = ApiError(
        "This call has not been granted",
        status=403,
        error_class="NOT_GRANTED_CALL",
        method="GET",
        path=f"/cloud/project/{PROJECT}/kube",
    )
    cause = one_cause({PROJECT: refused, OTHER_PROJECT: refused}, projects=2, sandbox=False)
    assert cause.endswith(
        "create a key with the rules `ovhkube access-rules` prints (--read-only is enough for plan, drift and export)"
    )
    assert one_cause({PROJECT: ApiError("gone", status=404)}, projects=2, sandbox=False) is None
    # A key made for one project of two (access-rules --project): the other project's clusters are still planned.
    assert one_cause({OTHER_PROJECT: refused}, projects=2, sandbox=False) is None
