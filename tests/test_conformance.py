"""`ovhkube sandbox conformance`: the kit a user runs against ovh-eu is green against the sandbox, read-only unless
told otherwise, and fails where the API breaks an assumption ovhkube makes."""

import json

import pytest
from apply_helpers import PROJECT, cluster_id, live, seed

THROWAWAY = cluster_id(2)


def conformance(run_ovhkube, sandbox, *args):
    return run_ovhkube("sandbox", "conformance", "--project", PROJECT, *args, env=sandbox.env())


def checks(result) -> dict[str, set[str]]:
    """Check name -> the results it ended in (a check may run once per cluster)."""
    found: dict[str, set[str]] = {}
    for check in json.loads(result.stdout)["checks"]:
        found.setdefault(check["check"], set()).add(check["result"])
    return found


@pytest.mark.parametrize("replaces", [False, True], ids=["put-keeps-blocks", "put-replaces-all"])
def test_the_kit_is_green_against_the_sandbox_reads_and_writes(sandbox_factory, run_ovhkube, replaces):
    sandbox = sandbox_factory(transition_seconds=1, put_replaces_customization=replaces)
    zero = {"iptables": {"minSyncPeriod": "PT0S", "syncPeriod": "PT30S"}}
    seed(sandbox, live(1, "keep", kube_proxy=zero), live(2, "throwaway", mode="ipvs"))

    result = conformance(run_ovhkube, sandbox, "--write-cluster", THROWAWAY, "--auto-approve", "--format", "json")

    assert result.returncode == 0, result.stdout + result.stderr
    found = checks(result)
    # The other reading of a customization PUT is a warning: ovhkube is right under both, the sandbox's default not.
    assert found.pop("put-keeps-blocks") == ({"warn"} if replaces else {"pass"})
    assert all(results == {"pass"} for results in found.values()), found
    new_checks = {"oidc-none", "oidc-create-answer", "reset-version", "reset-update-policy", "rename"}
    assert new_checks <= set(found)
    assert {"expanded-list", "customization-on-object", "admission-plugins", "durations", "error-body"} <= set(found)
    assert {"bad-signature", "busy-conflict", "default-plugins", "node-restriction", "reset-status"} <= set(found)
    control_plane = {"ip-restrictions", "oidc-read", "ip-address-form", "oidc-default", "reset-ip-restrictions"}
    assert control_plane | {"reset-oidc"} <= set(found)
    shown = {c["name"]: c for c in sandbox.show()["projects"][0]["clusters"]}
    assert (shown["throwaway"]["resets"], shown["keep"]["resets"]) == (1, 0)


def test_without_write_cluster_it_only_reads(sandbox, run_ovhkube):
    seed(sandbox, live(1, "keep"))
    sandbox.forget_requests()

    result = conformance(run_ovhkube, sandbox)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout
    assert {request["method"] for request in sandbox.requests()} == {"GET"}
    assert len(sandbox.requests()) <= 12  # about a dozen requests, whatever the project holds


def test_a_broken_assumption_fails_the_kit(sandbox, run_ovhkube):
    # A cluster the API shows with NodeRestriction disabled: ovhkube assumes that cannot be.
    off = {"admissionPlugins": {"enabled": ["AlwaysPullImages"], "disabled": ["NodeRestriction"]}}
    seed(sandbox, live(1, "odd", api_server=off))

    result = conformance(run_ovhkube, sandbox)

    assert result.returncode == 1
    assert "FAIL  admission-plugins: cluster " in result.stdout and "NodeRestriction disabled" in result.stdout


def test_an_endpoint_without_the_expanded_listing_is_a_warning(sandbox_factory, run_ovhkube):
    sandbox = sandbox_factory(expand_lists=False)
    seed(sandbox, live(1, "keep"))

    result = conformance(run_ovhkube, sandbox, "--format", "json")

    assert result.returncode == 0
    assert checks(result)["expanded-list"] == {"warn"}


def test_write_cluster_is_refused_without_approval_off_a_terminal(sandbox, run_ovhkube):
    seed(sandbox, live(1, "keep"), live(2, "throwaway"))

    result = conformance(run_ovhkube, sandbox, "--write-cluster", THROWAWAY)

    assert result.returncode == 1
    assert "--auto-approve" in result.stderr
    assert [c["resets"] for c in sandbox.show()["projects"][0]["clusters"]] == [0, 0]
