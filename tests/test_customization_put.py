"""A customization PUT under either reading of the API: it keeps a top-level block it is not sent (OVHcloud's
kube-proxy guide), or it replaces the whole customization (the sandbox's `put_replaces_customization`). ovhkube
sends every block it does not change as the live value it read, so nothing is wiped either way, and the saved
plan shows those blocks like any value carried from the cluster (apply checks them against it)."""

import json

import pytest
from apply_helpers import (
    IPTABLES_60S,
    PLUGINS,
    PROJECT,
    apply_json,
    cluster_id,
    clusters_by_name,
    live,
    seed,
    wanted,
    write_fleet,
)

READINGS = pytest.mark.parametrize("replaces", [False, True], ids=["put-keeps-blocks", "put-replaces-all"])


@READINGS
def test_the_sandbox_put_of_one_block_keeps_or_wipes_the_other_as_told(sandbox_factory, replaces):
    sandbox = sandbox_factory(put_replaces_customization=replaces)
    seed(sandbox, live(1, "alpha"))  # AlwaysPullImages disabled
    path = f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}/customization"

    sandbox.client().put(path, kubeProxy=IPTABLES_60S)

    api_server = sandbox.client().get(path)["apiServer"]
    both_on = {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"], "disabled": []}}
    assert api_server == (both_on if replaces else PLUGINS)


@READINGS
def test_a_kube_proxy_change_never_wipes_the_api_server_block(sandbox_factory, run_ovhkube, tmp_path, replaces):
    sandbox = sandbox_factory(put_replaces_customization=replaces)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))  # apiServer: not managed

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0, result.stdout + result.stderr
    alpha = clusters_by_name(sandbox)["alpha"]
    assert alpha["customization"]["kubeProxy"] == IPTABLES_60S
    assert alpha["customization"]["apiServer"] == PLUGINS  # AlwaysPullImages still disabled
    assert run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env()).returncode == 0


@READINGS
def test_the_saved_plan_carries_the_unmanaged_block_and_apply_checks_it(
    sandbox_factory, run_ovhkube, tmp_path, replaces
):
    sandbox = sandbox_factory(put_replaces_customization=replaces)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    data = json.loads(saved.read_text())
    [request] = data["changes"][0]["requests"]
    assert request["body"] == {"apiServer": PLUGINS, "kubeProxy": IPTABLES_60S}  # the live block, as read
    request["body"]["apiServer"]["admissionPlugins"] = {"enabled": ["AlwaysPullImages", "NodeRestriction"]}
    saved.write_text(json.dumps(data))

    assert run_ovhkube("show", saved).returncode == 0  # a live value: nothing offline can tell it was edited
    result, _ = apply_json(run_ovhkube, sandbox, "--plan", saved)

    assert result.returncode == 1
    assert "send values the cluster does not have (customization.apiServer.admissionPlugins" in result.stdout
    alpha = clusters_by_name(sandbox)["alpha"]
    assert alpha["customization"] == {"apiServer": PLUGINS, "kubeProxy": live(1, "alpha")["customization"]["kubeProxy"]}
