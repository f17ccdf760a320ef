"""apply against an API that shows what it accepted late (sandbox `show_late_seconds`: reads answer the cluster as it
was before a change, READY, for that long), and writes whose answers get lost (tests/lossy_gateway.py).

The settle window of these tests is 1 s (OVHKUBE_SETTLE_SECONDS, conftest's env): a change that shows within it is
found by looking again; one that shows later cannot be told from one that was not made, and is reported so.
"""

import time

import pytest
from apply_helpers import IPTABLES_60S, PROJECT, apply_json, cluster_id, clusters_by_name, live, seed, write_fleet

UPGRADE = ("POST", "/update")
OIDC_PATH = ("POST", "/openIdConnect")
OIDC = {"issuerUrl": "https://sso.example.org", "clientId": "k8s"}


def document(name: str, **spec) -> dict:
    spec = {"project": PROJECT, "region": "GRA5", **spec}
    return {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": spec}


SETTINGS = {
    # An upgrade step and an OIDC creation (POSTs: never sent twice), answered 502 once done; a customization and an
    # update policy (PUTs, which the client retries), answered 503 "come back in an hour", past its retry budget.
    "upgrade": (UPGRADE, "after", {"version": "1.32", "lifecycle": {"allowUpgrade": True}}),
    "oidc": (OIDC_PATH, "after", {"openIdConnect": OIDC}),
    "customization": (("PUT", "/customization"), "after_unavailable", {"customization": {"kubeProxy": IPTABLES_60S}}),
    "policy": (("PUT", "/updatePolicy"), "after_unavailable", {"updatePolicy": "NEVER_UPDATE"}),
}


def _done(kind: str, cluster: dict) -> bool:
    if kind == "upgrade":
        return cluster["version"].startswith("1.32.")
    if kind == "customization":
        return cluster["customization"]["kubeProxy"]["iptables"]["syncPeriod"] == "PT60S"
    if kind == "policy":
        return cluster["updatePolicy"] == "NEVER_UPDATE"
    return (cluster["openIdConnect"] or {}).get("issuerUrl") == OIDC["issuerUrl"]


@pytest.mark.parametrize("kind", sorted(SETTINGS))
def test_a_setting_whose_answer_is_lost_is_looked_for_while_it_shows_late(
    sandbox_factory, through_gateway, run_ovhkube, tmp_path, kind
):
    sandbox = sandbox_factory(show_late_seconds=0.4)
    seed(sandbox, live(1, "alpha"))
    rule, fault, spec = SETTINGS[kind]
    fleet = write_fleet(tmp_path, document("alpha", **spec))
    gateway, env = through_gateway(sandbox, {rule: [fault]})

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "it went through (read back after no clear answer)" in result.stderr
    assert gateway.count(*rule) == 1  # not sent again
    (alpha,) = account["clusters"]
    assert alpha["result"] == "done" and alpha["verified"]
    assert _done(kind, clusters_by_name(sandbox)["alpha"])


@pytest.mark.parametrize("kind", sorted(SETTINGS))
def test_a_setting_whose_answer_is_lost_and_that_shows_too_late_is_not_called_unapplied(
    sandbox_factory, through_gateway, run_ovhkube, tmp_path, kind
):
    sandbox = sandbox_factory(show_late_seconds=4)  # past the 1 s settle window
    seed(sandbox, live(1, "alpha"))
    rule, fault, spec = SETTINGS[kind]
    fleet = write_fleet(tmp_path, document("alpha", **spec))
    gateway, env = through_gateway(sandbox, {rule: [fault]})

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1
    (alpha,) = account["clusters"]
    assert alpha["result"] == "failed"
    assert "may or may not have been applied" in alpha["reason"] and "run plan again" in alpha["reason"]
    assert "was not applied" not in result.stdout + result.stderr
    assert gateway.count(*rule) == 1
    assert _done(kind, clusters_by_name(sandbox)["alpha"])  # it was, in fact


def test_the_sandbox_shows_a_change_late_and_the_truth_to_sandbox_show(sandbox_factory):
    sandbox = sandbox_factory(show_late_seconds=1.5)
    seed(sandbox, live(1, "alpha") | {"ipRestrictions": ["203.0.113.0/24"]})
    client, base = sandbox.client(), f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}"

    client.put(f"{base}/updatePolicy", updatePolicy="NEVER_UPDATE")
    client.put(f"{base}/ipRestrictions", ips=["198.51.100.0/24"])
    started = time.monotonic()

    assert client.get(base)["updatePolicy"] == "MINIMAL_DOWNTIME" and client.get(base)["status"] == "READY"
    assert client.get(f"{base}/ipRestrictions") == ["203.0.113.0/24"]
    truth = clusters_by_name(sandbox)["alpha"]  # `sandbox show` knows no lateness
    assert truth["updatePolicy"] == "NEVER_UPDATE" and truth["ipRestrictions"] == ["198.51.100.0/24"]
    assert time.monotonic() - started < 1.5  # else the reads above proved nothing
    time.sleep(1.6)
    assert client.get(base)["updatePolicy"] == "NEVER_UPDATE"
    assert client.get(f"{base}/ipRestrictions") == ["198.51.100.0/24"]
