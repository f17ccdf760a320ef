"""The sandbox behaves like the OVHcloud API, seen through the real `ovh` client over HTTP."""

import time

import ovh
import pytest
import requests

PROJECT = "0123456789abcdef0123456789abcdef"
KUBE = f"/cloud/project/{PROJECT}/kube"
CLUSTER_ID = "6f3c1a52-0000-4c1e-9a55-000000000001"
TRANSITION = 1.5  # seconds: long enough that a busy machine still sees the busy status between two calls
FULL_BLOCKS = {
    "apiServer": {"admissionPlugins": {"enabled": ["NodeRestriction"], "disabled": ["AlwaysPullImages"]}},
    "kubeProxy": {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S"}},
}
# What a cluster created or reset without apiServer customization answers (ovh/docs, TF acceptance tests).
DEFAULT_PLUGINS = {
    "apiServer": {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"], "disabled": []}}
}


def seed_one(sandbox, **fields):
    cluster = {
        "id": CLUSTER_ID,
        "name": "alpha",
        "region": "GRA5",
        "version": "1.31",
        "kubeProxyMode": "iptables",
        "status": "READY",
        "customization": FULL_BLOCKS,
    } | fields
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [cluster]}]})
    return f"{KUBE}/{CLUSTER_ID}"


def test_auth_time_is_unsigned_and_an_integer_near_now(sandbox):
    answer = requests.get(sandbox.url + "/auth/time", timeout=5).json()
    assert isinstance(answer, int) and abs(answer - time.time()) < 5


def test_list_and_get_show_the_seeded_cluster_with_a_patch_level(sandbox):
    path = seed_one(sandbox)
    client = sandbox.client()
    assert client.get(KUBE) == [CLUSTER_ID]
    cluster = client.get(path)
    assert cluster["version"] == "1.31.4"
    assert (cluster["name"], cluster["region"], cluster["status"], cluster["kubeProxyMode"]) == (
        "alpha", "GRA5", "READY", "iptables",
    )  # fmt: skip
    for field in ("updatePolicy", "privateNetworkId", "url", "nodesUrl", "isUpToDate", "nextUpgradeVersions",
                  "controlPlaneIsUpToDate", "auditLogsSubscribed", "createdAt", "updatedAt", "plan"):  # fmt: skip
        assert field in cluster


@pytest.mark.parametrize("path", [f"{KUBE}/no-such-cluster", "/cloud/project/unknown/kube", "/no/such/path"])
def test_unknown_things_are_ovh_not_found_errors(sandbox, path):
    seed_one(sandbox)
    with pytest.raises(ovh.exceptions.ResourceNotFoundError) as caught:
        sandbox.client().get(path)
    assert caught.value.query_id.startswith("SBX.")


def test_wrong_method_is_refused_without_change(sandbox):
    path = seed_one(sandbox)
    with pytest.raises(ovh.exceptions.APIError) as caught:
        sandbox.client().post(path)  # the cluster's path takes GET, PUT (rename) and DELETE
    assert caught.value.response.status_code == 405
    assert sandbox.client().get(KUBE) == [CLUSTER_ID]


def test_a_malformed_request_or_a_sandbox_fault_is_an_ovh_error_not_a_traceback(sandbox, monkeypatch, capfd):
    import http.client
    from urllib.parse import urlsplit

    path = seed_one(sandbox)
    url = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.putrequest("POST", f"/1.0{KUBE}")
    connection.putheader("Content-Length", "abc")
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 400 and b"Client::BadRequest" in answer.read()
    connection.close()

    def broken(*args):
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(sandbox.server.clusters, "get", broken)
    with pytest.raises(ovh.exceptions.APIError) as caught:
        sandbox.client().get(path)
    assert caught.value.response.status_code == 500
    assert caught.value.response.json()["class"] == "Server::InternalServerError"
    monkeypatch.undo()
    assert sandbox.client().get(KUBE) == [CLUSTER_ID]  # still serving
    assert "Traceback" not in capfd.readouterr().err


def test_put_keeps_a_block_left_out_and_replaces_a_block_sent(sandbox_factory):
    # The default reading of a customization PUT, whatever the suite's mode.
    sandbox = sandbox_factory(put_replaces_customization=False)
    path = seed_one(sandbox)
    client = sandbox.client()
    answer = client.call("PUT", f"{path}/customization", {"kubeProxy": {"iptables": {"syncPeriod": "PT60S"}}})
    assert set(answer) == {"message"}
    customization = client.get(f"{path}/customization")
    assert customization["apiServer"] == FULL_BLOCKS["apiServer"]
    assert customization["kubeProxy"] == {"iptables": {"syncPeriod": "PT60S"}}  # minSyncPeriod is gone
    assert client.get(path)["customization"] == customization


def test_put_cannot_change_the_mode(sandbox):
    path = seed_one(sandbox)
    with pytest.raises(ovh.exceptions.BadParametersError, match="kubeProxyMode"):
        sandbox.client().call("PUT", f"{path}/customization", {"kubeProxyMode": "ipvs"})
    assert sandbox.client().get(path)["kubeProxyMode"] == "iptables"


def test_zero_durations_are_answered_as_p0d_but_kept_as_sent(sandbox):
    path = seed_one(sandbox)
    ipvs = {"minSyncPeriod": "PT0S", "syncPeriod": "PT30S", "tcpTimeout": "PT0S", "udpTimeout": "PT0M"}
    sandbox.client().call("PUT", f"{path}/customization", {"kubeProxy": {"ipvs": ipvs}})
    answered = sandbox.client().get(f"{path}/customization")["kubeProxy"]["ipvs"]
    assert answered == {"minSyncPeriod": "P0D", "syncPeriod": "PT30S", "tcpTimeout": "P0D", "udpTimeout": "P0D"}


def test_reset_resets_what_is_left_out_keeps_the_version_and_is_counted(sandbox):
    path = seed_one(sandbox, version="1.32", updatePolicy="NEVER_UPDATE", privateNetworkId="pn-1")
    client = sandbox.client()
    assert client.post(f"{path}/reset", name="alpha") is None
    cluster = client.get(path)
    assert cluster["kubeProxyMode"] == "ipvs"
    assert cluster["customization"] == DEFAULT_PLUGINS
    assert cluster["version"] == "1.32.3"
    assert (cluster["updatePolicy"], cluster["privateNetworkId"]) == ("ALWAYS_UPDATE", None)
    assert sandbox.show()["projects"][0]["clusters"][0]["resets"] == 1


def test_reset_takes_what_it_is_given(sandbox):
    path = seed_one(sandbox)
    body = {"name": "alpha", "kubeProxyMode": "iptables", "version": "1.33", "customization": FULL_BLOCKS,
            "updatePolicy": "MINIMAL_DOWNTIME", "workerNodesPolicy": "reinstall"}  # fmt: skip
    sandbox.client().call("POST", f"{path}/reset", body)
    cluster = sandbox.client().get(path)
    assert (cluster["kubeProxyMode"], cluster["version"], cluster["updatePolicy"]) == (
        "iptables", "1.33.2", "MINIMAL_DOWNTIME",
    )  # fmt: skip
    assert cluster["customization"] == FULL_BLOCKS


def test_region_is_not_a_reset_field(sandbox):
    path = seed_one(sandbox)
    with pytest.raises(ovh.exceptions.BadParametersError, match="region"):
        sandbox.client().post(f"{path}/reset", region="GRA5", kubeProxyMode="ipvs")
    assert sandbox.show()["projects"][0]["clusters"][0]["resets"] == 0
    assert sandbox.client().get(path)["kubeProxyMode"] == "iptables"


def test_create_needs_a_region_and_has_the_documented_defaults(sandbox):
    seed_one(sandbox)
    client = sandbox.client()
    with pytest.raises(ovh.exceptions.BadParametersError, match="region"):
        client.post(KUBE, name="nope")
    created = client.post(KUBE, region="GRA7")
    assert created["kubeProxyMode"] == "iptables"
    assert created["version"].startswith("1.35.")
    assert created["name"] and created["region"] == "GRA7"
    assert client.get(KUBE) == [CLUSTER_ID, created["id"]]


def test_a_cluster_never_customized_shows_both_admission_plugins_enabled(sandbox):
    seed_one(sandbox)
    created = sandbox.client().post(KUBE, region="GRA7", name="fresh")
    assert sandbox.client().get(f"{KUBE}/{created['id']}")["customization"] == DEFAULT_PLUGINS
    assert sandbox.client().get(f"{KUBE}/{created['id']}/customization") == DEFAULT_PLUGINS


@pytest.mark.parametrize(
    "api_server",
    [{}, {"admissionPlugins": {}}, {"admissionPlugins": {"enabled": ["NodeRestriction"], "disabled": []}}],
)
def test_admission_plugins_read_back_as_each_plugins_state(sandbox, api_server):
    # A plugin the request does not disable is enabled: the API's default for both plugins.
    path = seed_one(sandbox)
    sandbox.client().call("PUT", f"{path}/customization", {"apiServer": api_server})
    assert sandbox.client().get(path)["customization"]["apiServer"] == DEFAULT_PLUGINS["apiServer"]


def test_node_restriction_cannot_be_disabled(sandbox):
    path = seed_one(sandbox)
    refused = {"apiServer": {"admissionPlugins": {"enabled": [], "disabled": ["NodeRestriction"]}}}
    with pytest.raises(ovh.exceptions.BadParametersError, match="NodeRestriction cannot be disabled"):
        sandbox.client().call("PUT", f"{path}/customization", refused)
    with pytest.raises(ovh.exceptions.BadParametersError, match="NodeRestriction cannot be disabled"):
        sandbox.client().post(KUBE, region="GRA7", customization=refused)
    assert sandbox.client().get(path)["customization"]["apiServer"] == FULL_BLOCKS["apiServer"]


def test_a_cilium_block_is_kept_untouched(sandbox_factory):
    # The default reading of a customization PUT, whatever the suite's mode.
    sandbox = sandbox_factory(put_replaces_customization=False)
    cilium = {"hubble": {"enabled": True}}
    path = seed_one(sandbox, customization=FULL_BLOCKS | {"cilium": cilium})
    sandbox.client().call("PUT", f"{path}/customization", {"apiServer": {}})
    assert sandbox.client().get(f"{path}/customization")["cilium"] == cilium


REFUSED_CUSTOMIZATIONS = [
    {"kubeProxy": {"ipvs": {"scheduler": "round-robin"}}},
    {"apiServer": {"admissionPlugins": {"enabled": ["PodSecurityPolicy"]}}},
    {"kubeProxy": {"iptables": {"syncPeriod": "30s"}}},
    {"kubeProxy": {"iptables": {"syncPeriod": "P1M"}}},
    {"kubeProxy": {"iptables": {"syncPeriod": "PT"}}},
    {"kubeProxy": {"iptables": {"syncPeriod": "PT0S"}}},
    {"kubeProxy": {"ipvs": {"syncPeriod": "P0D"}}},
    {"kubeProxy": {"ipvs": {"tcpTimeout": "PT3S"}}},
    {"kubeProxy": {"ipvs": {"tcpTimeout": "PT0.5S"}}},
    {"kubeProxy": {"nftables": {}}},
    {"kubeProxy": {"iptables": {"syncPeriod": 30}}},
    {"apiServer": {"admissionPlugins": {"enabled": "AlwaysPullImages"}}},
    {"apiServer": []},
]


@pytest.mark.parametrize("body", REFUSED_CUSTOMIZATIONS)
def test_what_the_real_api_refuses_is_a_400_and_changes_nothing(sandbox, body):
    path = seed_one(sandbox)
    before = sandbox.show()
    with pytest.raises(ovh.exceptions.BadParametersError) as caught:
        sandbox.client().call("PUT", f"{path}/customization", body)
    assert "Invalid body" in str(caught.value)
    assert sandbox.show() == before


@pytest.mark.parametrize("timeout", ["PT0S", "PT5S", "PT1M"])
def test_tcp_timeout_of_zero_or_at_least_five_seconds_is_accepted(sandbox, timeout):
    path = seed_one(sandbox)
    answer = sandbox.client().call("PUT", f"{path}/customization", {"kubeProxy": {"ipvs": {"tcpTimeout": timeout}}})
    assert answer == {"message": "The customization is being applied to the cluster"}
    stored = sandbox.client().get(f"{path}/customization")["kubeProxy"]["ipvs"]["tcpTimeout"]
    assert stored == ("P0D" if timeout == "PT0S" else timeout)  # stored as sent; a zero reads back as the API's P0D


@pytest.mark.parametrize(
    "body",
    [{"region": "GRA5", "kubeProxyMode": "nftables"}, {"region": "GRA5", "version": "1.30"},
     {"region": "GRA5", "updatePolicy": "SOMETIMES"}, {"region": "GRA5", "colour": "blue"}, {"region": 5}],
)  # fmt: skip
def test_create_refuses_bad_bodies(sandbox, body):
    seed_one(sandbox)
    with pytest.raises(ovh.exceptions.BadParametersError):
        sandbox.client().call("POST", KUBE, body)
    assert sandbox.client().get(KUBE) == [CLUSTER_ID]


def test_reset_refuses_an_unknown_worker_nodes_policy(sandbox):
    path = seed_one(sandbox)
    with pytest.raises(ovh.exceptions.BadParametersError, match="workerNodesPolicy"):
        sandbox.client().post(f"{path}/reset", workerNodesPolicy="keep")


def test_a_change_makes_the_cluster_busy_then_ready_after_the_transition(sandbox_factory):
    sandbox = sandbox_factory(transition_seconds=TRANSITION)
    path = seed_one(sandbox)
    client = sandbox.client()
    client.call("PUT", f"{path}/customization", {"kubeProxy": {}})
    assert client.get(path)["status"] in ("UPDATING", "REDEPLOYING")
    with pytest.raises(ovh.exceptions.ResourceConflictError) as caught:
        client.post(f"{path}/reset", name="alpha")
    assert caught.value.response.json()["class"] == "Client::Conflict::ServiceNotReady"
    time.sleep(TRANSITION + 0.1)
    assert client.get(path)["status"] == "READY"
    client.post(f"{path}/reset", name="alpha")
    assert client.get(path)["status"] == "REDEPLOYING"  # the reset guide's example; --reset-status RESETTING
    with pytest.raises(ovh.exceptions.ResourceConflictError):
        client.call("PUT", f"{path}/customization", {"apiServer": {}})
    assert sandbox.show()["projects"][0]["clusters"][0]["resets"] == 1


def test_a_created_cluster_is_installing_then_ready(sandbox_factory):
    sandbox = sandbox_factory(transition_seconds=TRANSITION)
    seed_one(sandbox)
    created = sandbox.client().post(KUBE, region="GRA7", kubeProxyMode="ipvs")
    assert created["status"] == "INSTALLING"
    time.sleep(TRANSITION + 0.1)
    assert sandbox.client().get(f"{KUBE}/{created['id']}")["status"] == "READY"


def test_a_cluster_seeded_busy_turns_ready_counted_from_the_seeding(sandbox_factory):
    sandbox = sandbox_factory(transition_seconds=TRANSITION)
    path = seed_one(sandbox, status="UPDATING")
    assert sandbox.client().get(path)["status"] == "UPDATING"
    time.sleep(TRANSITION + 0.1)
    assert sandbox.client().get(path)["status"] == "READY"


def test_a_cluster_seeded_in_error_stays_there_and_refuses_changes(sandbox):
    path = seed_one(sandbox, status="ERROR")
    with pytest.raises(ovh.exceptions.ResourceConflictError):
        sandbox.client().call("PUT", f"{path}/customization", {"apiServer": {}})
    assert sandbox.client().get(path)["status"] == "ERROR"


def test_a_reset_body_field_cannot_be_null(sandbox):
    # The schema's reset body has no nullable field, unlike the creation body: a client must leave a field out.
    path = seed_one(sandbox)
    with pytest.raises(ovh.exceptions.BadParametersError, match="privateNetworkId: must not be null"):
        sandbox.client().call("POST", f"{path}/reset", {"name": "alpha", "privateNetworkId": None})
    assert sandbox.show()["projects"][0]["clusters"][0]["resets"] == 0
    # A create takes null for four fields only (customization, ipAllocationPolicy, plan, updatePolicy).
    sandbox.client().post(
        KUBE, region="GRA7", customization=None, ipAllocationPolicy=None, plan=None, updatePolicy=None
    )
    with pytest.raises(ovh.exceptions.BadParametersError, match="privateNetworkId: must not be null"):
        sandbox.client().post(KUBE, region="GRA7", privateNetworkId=None)
