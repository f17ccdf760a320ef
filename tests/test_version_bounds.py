"""Versions bounded: the file format refuses a version no cluster can have, and plan refuses an upgrade to a minor
the cluster does not offer, as an error for that cluster saying what is offered, before any request."""

import json

import pytest
from apply_helpers import PROJECT, apply_json, live, seed, write_fleet

from reconciler.plan.control_plane import upgrade_refusal
from reconciler.versions import minor_of


def document(name: str, version: str) -> dict:
    spec = {"project": PROJECT, "region": "GRA5", "version": version, "lifecycle": {"allowUpgrade": True}}
    return {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize(
    "have, want, offered, refusal",
    [
        ((1, 31), (1, 33), ["1.32"], None),  # the next minor offered, the last one described
        ((1, 31), (1, 32), None, None),  # no nextUpgradeVersions answered: the description alone
        ((1, 35), (1, 36), ["1.36"], None),  # newer than the description, offered by the cluster itself
        ((1, 35), (1, 37), ["1.36"], "not a version OVHcloud offers: the cluster offers 1.36 next, and the versions"),
        ((1, 31), (1, 36), ["1.32"], "not a version OVHcloud offers: the cluster offers 1.32 next, and the versions"),
        ((1, 33), (1, 34), [], "the cluster does not offer 1.34: it offers no upgrade now (nextUpgradeVersions)"),
        ((1, 31), (1, 32), ["1.33.1"], "the cluster does not offer 1.32: it offers 1.33.1 next (nextUpgradeVersions)"),
        ((1, 31), (1, 99), None, "not a version OVHcloud offers: the cluster offers no upgrade now, and the versions"),
    ],
)
def test_what_a_cluster_can_be_upgraded_to(have, want, offered, refusal):
    said = upgrade_refusal(have, want, offered)
    assert said == refusal if refusal is None else said.startswith(refusal), said


@pytest.mark.parametrize(
    "text, minor",
    [("1.31", (1, 31)), ("1.31.4", (1, 31)), ("2.0", (2, 0)), ("1.999999999", None), ("1.031", None), ("x", None)],
)
def test_a_minor_is_read_only_within_the_format(text, minor):
    assert minor_of(text) == minor


def test_a_huge_minor_never_reaches_the_api(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "web"))
    fleet = write_fleet(tmp_path, document("web", "1.99999999999"))

    for command in ("plan", "drift"):
        result = run_ovhkube(command, fleet, env=sandbox.env(), timeout=30)
        assert result.returncode == 1 and "spec.version: must be a Kubernetes minor version" in result.stderr
    assert [r for r in sandbox.requests() if r["path"] != "/auth/time"] == []


def test_an_upgrade_beyond_what_is_offered_is_an_error_before_any_request(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "web"), live(2, "api") | {"version": "1.33", "nextUpgradeVersions": []})
    fleet = write_fleet(tmp_path, document("web", "1.36"), document("api", "1.34"))

    result = run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env())
    applied, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", "--skip-errors")

    assert result.returncode == 1
    changes = {c["cluster"]["name"]: c for c in json.loads(result.stdout)["changes"]}
    assert {name: (c["action"], c["reason"], c["requests"]) for name, c in changes.items()} == {
        "web": ("error", "version_not_offered", []),
        "api": ("error", "version_not_offered", []),
    }
    assert changes["web"]["error"].endswith(
        "fleet.yaml:8: spec.version 1.36: not a version OVHcloud offers: the cluster offers 1.32 next, and the "
        "versions OVHcloud's API describes are 1.31 to 1.35"
    )
    assert "spec.version 1.34: the cluster does not offer 1.34: it offers no upgrade now" in changes["api"]["error"]
    assert applied.returncode == 1
    assert [r for r in sandbox.requests() if r["method"] != "GET"] == []
