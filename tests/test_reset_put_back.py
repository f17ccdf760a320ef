"""After a reset, apply puts back the IP restrictions and OIDC the reset wipes (no reset field carries them), and
checks that they took, also where the plan leaves them unchanged; an API that shows the reset late (sandbox
`show_late_seconds`: READY in the old mode for a while) gets them only once the reset is over.

End to end: the CLI, the real ovh client, the sandbox over HTTP, and a lossy gateway (tests/lossy_gateway.py) that
can answer a request 200 without passing it on (an API that accepts a change and loses it).
"""

import time

import ovh
import pytest
from apply_helpers import PROJECT, apply_json, cluster_id, clusters_by_name, live, seed, write_fleet

RESTRICTIONS = ["203.0.113.0/24", "198.51.100.7/32"]
OIDC = {"issuerUrl": "https://sso.example.org", "clientId": "k8s", "signingAlgorithms": ["RS256"]}
IPS_PUT = ("PUT", "/ipRestrictions")
OIDC_POST = ("POST", "/openIdConnect")


def reset_fleet(sandbox, tmp_path) -> str:
    """alpha has IP restrictions and OIDC, which the file holds as they are; the file changes its mode (a reset)."""
    seed(sandbox, live(1, "alpha") | {"ipRestrictions": RESTRICTIONS, "openIdConnect": OIDC})
    spec = {
        "project": PROJECT,
        "region": "GRA5",
        "kubeProxyMode": "ipvs",
        "ipRestrictions": RESTRICTIONS,
        "openIdConnect": OIDC,
        "lifecycle": {"allowReset": True},
    }
    return write_fleet(
        tmp_path, {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "alpha"}, "spec": spec}
    )


@pytest.mark.parametrize("lost", [IPS_PUT, OIDC_POST])
def test_a_put_back_that_did_not_take_fails_the_cluster_saying_what_to_set_again(
    sandbox, through_gateway, run_ovhkube, tmp_path, lost
):
    fleet = reset_fleet(sandbox, tmp_path)
    gateway, env = through_gateway(sandbox, {lost: ["dropped"]})

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    (alpha,) = account["clusters"]
    assert alpha["result"] == "failed" and not alpha["verified"]
    part = lost[1].lstrip("/")
    assert f"the {part} did not take when put back after the reset" in alpha["reason"]
    assert "set again" in alpha["reason"] and "the next plan shows them missing" in alpha["reason"]
    [miss] = alpha["mismatches"]
    assert miss["path"] == part and miss["expected"] == (OIDC if part == "openIdConnect" else RESTRICTIONS)
    now = clusters_by_name(sandbox)["alpha"]
    assert now["resets"] == 1 and now["kubeProxyMode"] == "ipvs"
    assert (now["ipRestrictions"] is None) == (part == "ipRestrictions")
    assert (now["openIdConnect"] is None) == (part == "openIdConnect")


def test_put_backs_that_took_are_verified_with_one_read_each(sandbox, run_ovhkube, tmp_path):
    fleet = reset_fleet(sandbox, tmp_path)
    sandbox.forget_requests()

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0, result.stdout + result.stderr
    assert account["clusters"][0]["verified"]
    gets = [r["path"].rsplit("/", 1)[-1] for r in sandbox.requests() if r["method"] == "GET"]
    # plan: one of each; the fresh read before the reset: one of each; the check after it: one of each
    assert (gets.count("ipRestrictions"), gets.count("openIdConnect")) == (3, 3)


def test_a_reset_that_starts_late_gets_its_put_backs_only_once_it_is_over(sandbox_factory, run_ovhkube, tmp_path):
    # READY in the old mode for 0.6 s after the reset is accepted, and taking changes meanwhile: IP restrictions put
    # back then would be wiped when the reset starts. apply waits for the new mode first.
    sandbox = sandbox_factory(reset_delay_seconds=0.6)
    fleet = reset_fleet(sandbox, tmp_path)

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0, result.stdout + result.stderr
    (alpha,) = account["clusters"]
    assert alpha["result"] == "done" and alpha["verified"]
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in alpha["requests"]] == [
        ("POST", "reset"),
        ("PUT", "ipRestrictions"),
        ("POST", "openIdConnect"),
    ]
    now = clusters_by_name(sandbox)["alpha"]
    assert now["resets"] == 1 and now["kubeProxyMode"] == "ipvs"
    assert now["ipRestrictions"] == RESTRICTIONS and now["openIdConnect"] == OIDC


def test_the_sandbox_starts_a_delayed_reset_late_and_wipes_what_came_meanwhile(sandbox_factory):
    sandbox = sandbox_factory(reset_delay_seconds=1.0)
    seed(sandbox, live(1, "alpha"))
    client, base = sandbox.client(), f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}"

    client.post(f"{base}/reset", name="alpha", kubeProxyMode="ipvs")
    client.put(f"{base}/ipRestrictions", ips=RESTRICTIONS)  # taken: the reset has not started
    started = time.monotonic()
    before = client.get(base)
    shown = clusters_by_name(sandbox)["alpha"]
    assert time.monotonic() - started < 1.0  # else the reads above proved nothing
    assert (before["status"], before["kubeProxyMode"]) == ("READY", "iptables")
    assert shown["resets"] == 0 and shown["ipRestrictions"] == RESTRICTIONS
    with pytest.raises(ovh.exceptions.ResourceConflictError, match="one modification at a time"):
        client.post(f"{base}/reset", name="alpha", kubeProxyMode="ipvs")
    time.sleep(1.1)
    after = clusters_by_name(sandbox)["alpha"]
    assert (after["resets"], after["kubeProxyMode"], after["ipRestrictions"]) == (1, "ipvs", None)
    assert client.get(base)["kubeProxyMode"] == "ipvs" and client.get(f"{base}/ipRestrictions") == []


def test_no_wait_still_puts_back_only_after_a_reset_that_starts_late(sandbox_factory, run_ovhkube, tmp_path):
    # --no-wait would send the put-backs straight after the POST reset: a reset that starts a second later wipes them.
    # What a reset puts back is waited for.
    sandbox = sandbox_factory(reset_delay_seconds=1.0)
    fleet = reset_fleet(sandbox, tmp_path)

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", "--no-wait")

    assert result.returncode == 0, result.stdout + result.stderr
    (alpha,) = account["clusters"]
    assert alpha["result"] == "done" and alpha["verified"]
    now = clusters_by_name(sandbox)["alpha"]
    assert now["kubeProxyMode"] == "ipvs" and now["resets"] == 1
    assert now["ipRestrictions"] == RESTRICTIONS and now["openIdConnect"] == OIDC


@pytest.mark.parametrize(
    ("rule", "names", "lost"),
    [
        ((IPS_PUT, "refused"), "IP restrictions and OIDC", {"ipRestrictions": RESTRICTIONS, "openIdConnect": OIDC}),
        ((OIDC_POST, "before"), "OIDC", {"openIdConnect": OIDC}),  # lost on the way: read back, not sent again
    ],
    ids=["refused", "lost"],
)
def test_a_put_back_that_cannot_be_sent_says_the_reset_wiped_it_and_gives_the_values(
    sandbox, through_gateway, run_ovhkube, tmp_path, rule, names, lost
):
    # Refused by the API, or lost on the way: the report gives the values, and the next plan restores them from the
    # file.
    fleet = reset_fleet(sandbox, tmp_path)
    gateway, env = through_gateway(sandbox, {rule[0]: [rule[1]]})

    result, account = apply_json(
        run_ovhkube, sandbox, fleet, "--auto-approve", env=env | {"OVHKUBE_SETTLE_SECONDS": "1"}
    )

    assert result.returncode == 1, result.stdout + result.stderr
    (alpha,) = account["clusters"]
    assert alpha["result"] == "failed"
    assert f"the reset went through, but its {names} may not be put back" in alpha["reason"]
    assert "set them by hand" in alpha["reason"]
    assert alpha["mismatches"] == [{"path": path, "expected": value, "live": None} for path, value in lost.items()]
    now = clusters_by_name(sandbox)["alpha"]
    assert now["resets"] == 1 and all(now[path] is None for path in lost)


def test_the_sandbox_shows_a_reset_s_new_mode_during_the_change_after_it(sandbox_factory):
    # Once the reset is over, a change that keeps the cluster busy (putting its IP restrictions back) shows the
    # settings the reset made, not those it replaced.
    sandbox = sandbox_factory(transition_seconds=0.5)
    seed(sandbox, live(1, "alpha"))
    client, base = sandbox.client(), f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}"
    client.post(f"{base}/reset", name="alpha", kubeProxyMode="ipvs")
    assert client.get(base)["kubeProxyMode"] == "iptables"  # shown late while the reset runs
    time.sleep(0.6)

    client.put(f"{base}/ipRestrictions", ips=RESTRICTIONS)
    busy = client.get(base)

    assert (busy["status"], busy["kubeProxyMode"]) == ("REDEPLOYING", "ipvs")
