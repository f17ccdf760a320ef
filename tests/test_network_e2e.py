"""The Standard plan and the private network end to end, through the CLI against the sandbox over HTTP: a Standard
cluster in a 3-AZ region (private network, pools in three zones, custom pod and service ranges, Cilium) created from
one file plans no changes afterwards; the load balancers' subnet and the gateway change in place; the pod range
plans a reset gated by allowReset that keeps everything else; the plan never changes; export round-trips."""

import copy
import json

import yaml

from tests.apply_helpers import PROJECT, apply_json, clusters_by_name, write_fleet

NETWORK = "5e1b2c3d-1111-4aaa-8bbb-000000000001"
NODES = "6f3c1e2a-2222-4ccc-9ddd-000000000001"
BALANCERS = "7a4c2e9f-3333-4eee-afff-000000000001"
OTHER_BALANCERS = "7a4c2e9f-3333-4eee-afff-000000000002"
OTHER_NODES = "6f3c1e2a-2222-4ccc-9ddd-000000000002"
CILIUM = {"hubble": {"enabled": True, "relay": {"enabled": True}}, "clusterMesh": {"enabled": False}}


def paris(**changes) -> dict:
    spec = {
        "project": PROJECT,
        "region": "EU-WEST-PAR",
        "version": "1.33",
        "plan": "standard",
        "privateNetwork": {
            "id": NETWORK,
            "nodesSubnetId": NODES,
            "loadBalancersSubnetId": BALANCERS,
            "gateway": "192.168.0.1",
            "routingAsDefault": True,
        },
        "ipAllocationPolicy": {"podsIpv4Cidr": "10.100.0.0/16", "servicesIpv4Cidr": "10.101.0.0/16"},
        "updatePolicy": "MINIMAL_DOWNTIME",
        "customization": {"cilium": CILIUM},
        "nodePools": {
            zone: {"flavorName": "b3-8", "desiredNodes": 1, "availabilityZones": [f"eu-west-par-{zone}"]}
            for zone in "abc"
        },
    }
    for path, value in changes.items():
        *parents, last = path.split(".")
        place = spec
        for parent in parents:
            place = place.setdefault(parent, {})
        place[last] = value
    return {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "paris"}, "spec": spec}


def plan_json(run_ovhkube, sandbox, path: str) -> dict:
    result = run_ovhkube("plan", path, "--format", "json", env=sandbox.env())
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def created(tmp_path, sandbox, run_ovhkube) -> dict:
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": []}]})
    saved = tmp_path / "create.plan"
    assert run_ovhkube("plan", write_fleet(tmp_path, paris()), "--out", str(saved), env=sandbox.env()).returncode == 0
    result, account = apply_json(run_ovhkube, sandbox, "--plan", str(saved))  # the saved plan's reader takes it
    assert result.returncode == 0, result.stderr + result.stdout
    return clusters_by_name(sandbox)["paris"]


def test_a_standard_3az_cluster_is_created_from_one_file_then_plans_no_changes(tmp_path, sandbox, run_ovhkube):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": []}]})
    path = write_fleet(tmp_path, paris())
    plan = plan_json(run_ovhkube, sandbox, path)
    (change,) = plan["changes"]
    (create,) = [r for r in change["requests"] if r["kind"] == "create"]
    body = create["body"]
    assert body["plan"] == "standard" and body["region"] == "EU-WEST-PAR"
    assert (body["privateNetworkId"], body["nodesSubnetId"], body["loadBalancersSubnetId"]) == (
        NETWORK,
        NODES,
        BALANCERS,
    )
    assert body["privateNetworkConfiguration"] == {
        "defaultVrackGateway": "192.168.0.1",
        "privateNetworkRoutingAsDefault": True,
    }
    assert body["ipAllocationPolicy"] == {"podsIpv4Cidr": "10.100.0.0/16", "servicesIpv4Cidr": "10.101.0.0/16"}
    assert body["customization"] == {"cilium": CILIUM}
    assert sorted(pool["availabilityZones"][0] for pool in body["nodepools"]) == [f"eu-west-par-{z}" for z in "abc"]

    result, account = apply_json(run_ovhkube, sandbox, path, "--auto-approve")
    assert result.returncode == 0, result.stderr + result.stdout
    cluster = clusters_by_name(sandbox)["paris"]
    assert cluster["plan"] == "standard" and cluster["privateNetworkId"] == NETWORK
    assert cluster["ipAllocationPolicy"] == {"podsIpv4Cidr": "10.100.0.0/16", "servicesIpv4Cidr": "10.101.0.0/16"}
    assert cluster["customization"]["cilium"] == CILIUM
    again = run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env())
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout

    exported = run_ovhkube("export", "--project", PROJECT, "--output", str(tmp_path / "out"), env=sandbox.env())
    assert exported.returncode == 0, exported.stderr
    (written,) = list((tmp_path / "out").rglob("*.yaml"))
    spec = yaml.safe_load(written.read_text())["spec"]
    assert spec["plan"] == "standard" and spec["privateNetwork"] == paris()["spec"]["privateNetwork"]
    assert spec["ipAllocationPolicy"] == paris()["spec"]["ipAllocationPolicy"]
    assert spec["customization"]["cilium"] == {"hubble": {"enabled": True, "relay": {"enabled": True}},
                                               "clusterMesh": {"enabled": False}}  # fmt: skip
    round_trip = run_ovhkube("plan", str(written), "--detailed-exitcode", env=sandbox.env())
    assert round_trip.returncode == 0, round_trip.stdout + round_trip.stderr


def test_the_load_balancers_subnet_and_the_gateway_change_in_place(tmp_path, sandbox, run_ovhkube):
    before = created(tmp_path, sandbox, run_ovhkube)
    moved = paris(**{"privateNetwork.loadBalancersSubnetId": OTHER_BALANCERS, "privateNetwork.gateway": "192.168.0.2"})
    path = write_fleet(tmp_path, moved)
    (change,) = plan_json(run_ovhkube, sandbox, path)["changes"]
    assert change["action"] == "update"
    assert [(r["kind"], r["method"], r["path"].rsplit("/", 1)[1], r["body"]) for r in change["requests"]] == [
        ("load_balancers_subnet", "PUT", "updateLoadBalancersSubnetId", {"loadBalancersSubnetId": OTHER_BALANCERS}),
        (
            "network_configuration",
            "PUT",
            "privateNetworkConfiguration",
            {"defaultVrackGateway": "192.168.0.2", "privateNetworkRoutingAsDefault": True},
        ),
    ]
    assert any("every node is redeployed" in warning for warning in change["warnings"])
    saved = tmp_path / "in-place.plan"
    text = run_ovhkube("plan", path, "--out", str(saved), env=sandbox.env()).stdout
    assert "every node is redeployed" in text and "ERASE" not in text

    result, account = apply_json(run_ovhkube, sandbox, "--plan", str(saved))  # the saved plan's reader takes it
    assert result.returncode == 0, result.stderr + result.stdout
    after = clusters_by_name(sandbox)["paris"]
    assert after["id"] == before["id"] and after["loadBalancersSubnetId"] == OTHER_BALANCERS
    assert after["privateNetworkConfiguration"]["defaultVrackGateway"] == "192.168.0.2"
    assert sandbox.show()["projects"][0]["clusters"][0]["resets"] == 0
    assert run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env()).returncode == 0


def test_a_new_pod_range_is_a_reset_gated_by_allow_reset_that_keeps_everything_else(tmp_path, sandbox, run_ovhkube):
    before = created(tmp_path, sandbox, run_ovhkube)
    sandbox.client().put(
        f"/cloud/project/{PROJECT}/kube/{before['id']}/ipRestrictions", ips=["203.0.113.0/24"]
    )  # behind ovhkube's back: the file does not manage them, so the reset must not be planned
    document = paris(**{"ipAllocationPolicy.podsIpv4Cidr": "10.200.0.0/16"})
    path = write_fleet(tmp_path, document)
    (change,) = plan_json(run_ovhkube, sandbox, path)["changes"]
    assert change["action"] == "error" and change["reason"] == "reset_not_allowed"
    assert "ipAllocationPolicy.podsIpv4Cidr 10.100.0.0/16 -> 10.200.0.0/16 needs a reset" in change["error"]
    assert change["requests"] == []

    document["spec"]["lifecycle"] = {"allowReset": True, "workerNodesPolicy": "reinstall"}
    document["spec"]["ipRestrictions"] = ["203.0.113.0/24"]
    path = write_fleet(tmp_path, document)
    (change,) = plan_json(run_ovhkube, sandbox, path)["changes"]
    assert change["action"] == "reset"
    reset, *follow_ups = change["requests"]
    assert reset["body"]["ipAllocationPolicy"] == {"podsIpv4Cidr": "10.200.0.0/16", "servicesIpv4Cidr": "10.101.0.0/16"}
    for key, value in {
        "privateNetworkId": NETWORK,
        "nodesSubnetId": NODES,
        "loadBalancersSubnetId": BALANCERS,
        "updatePolicy": "MINIMAL_DOWNTIME",
        "name": "paris",
    }.items():
        assert reset["body"][key] == value, key
    assert reset["body"]["customization"]["cilium"] == CILIUM
    assert [r["kind"] for r in follow_ups] == ["ip_restrictions"]
    saved = tmp_path / "reset.plan"
    text = run_ovhkube("plan", path, "--out", str(saved), env=sandbox.env()).stdout
    assert "ALL KUBERNETES DATA WILL BE ERASED" in text

    result, account = apply_json(run_ovhkube, sandbox, "--plan", str(saved))  # the saved plan's reader takes it
    assert result.returncode == 0, result.stderr + result.stdout
    after = clusters_by_name(sandbox)["paris"]
    assert after["id"] == before["id"]
    assert after["ipAllocationPolicy"]["podsIpv4Cidr"] == "10.200.0.0/16"
    kept = ("privateNetworkId", "nodesSubnetId", "loadBalancersSubnetId", "privateNetworkConfiguration", "plan")
    assert {key: after[key] for key in kept} == {key: before[key] for key in kept}
    assert after["customization"]["cilium"] == CILIUM
    assert run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env()).returncode == 0


def test_a_plan_change_is_an_error_before_any_request(tmp_path, sandbox, run_ovhkube):
    created(tmp_path, sandbox, run_ovhkube)
    document = copy.deepcopy(paris(plan="free"))
    del document["spec"]["ipAllocationPolicy"], document["spec"]["customization"]
    path = write_fleet(tmp_path, document)
    sandbox.forget_requests()
    result, account = apply_json(run_ovhkube, sandbox, path, "--auto-approve")
    assert result.returncode == 1
    assert [r["method"] for r in sandbox.requests() if r["path"] != "/auth/time"] == ["GET"] * len(
        [r for r in sandbox.requests() if r["path"] != "/auth/time"]
    )
    (change,) = plan_json(run_ovhkube, sandbox, path)["changes"]
    assert change["reason"] == "plan_change" and change["requests"] == []
    # At the line to edit, as a file problem reads.
    assert change["error"].startswith(f"{path}:") and ": spec.plan standard -> free: " in change["error"]
    assert "back up its workloads" in change["error"]
    drift = run_ovhkube("drift", path, env=sandbox.env())
    assert drift.returncode == 2, drift.stdout + drift.stderr


def test_the_sandbox_refuses_cilium_and_ranges_on_free_and_a_standard_cluster_without_network(sandbox):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": []}]})
    client = sandbox.client()
    refused = []
    for body in (
        {"region": "GRA7", "ipAllocationPolicy": {"podsIpv4Cidr": "10.100.0.0/16"}},
        {"region": "GRA7", "customization": {"cilium": {"hubble": {"enabled": True}}}},
        {"region": "GRA7", "plan": "standard"},
        {"region": "EU-WEST-PAR", "privateNetworkId": NETWORK, "nodesSubnetId": NODES,
         "nodepools": [{"flavorName": "b3-8", "name": "nozone"}]},
    ):  # fmt: skip
        try:
            client.post(f"/cloud/project/{PROJECT}/kube", **body)
        except Exception as exc:  # the ovh client's BadParametersError
            refused.append(str(exc))
    assert len(refused) == 4, refused
    assert "only on the Standard plan" in refused[0] and "only on the Standard plan" in refused[1]
    assert "needs a private network" in refused[2] and "availabilityZones" in refused[3]


def test_drift_reports_a_network_setting_changed_behind_gits_back(tmp_path, sandbox, run_ovhkube):
    cluster = created(tmp_path, sandbox, run_ovhkube)
    sandbox.client().put(
        f"/cloud/project/{PROJECT}/kube/{cluster['id']}/updateLoadBalancersSubnetId",
        loadBalancersSubnetId=OTHER_BALANCERS,
    )
    result = run_ovhkube("drift", write_fleet(tmp_path, paris()), "--format", "json", env=sandbox.env())
    assert result.returncode == 2, result.stdout + result.stderr
    (entry,) = json.loads(result.stdout)["clusters"]
    assert entry["state"] == "drifted"
    assert [(f["path"], f["live"], f["desired"]) for f in entry["fields"]] == [
        ("privateNetwork.loadBalancersSubnetId", OTHER_BALANCERS, BALANCERS)
    ]


def test_a_new_nodes_subnet_is_a_reset_that_keeps_the_mode_and_gets_its_put_backs_once_over(
    tmp_path, sandbox_factory, run_ovhkube
):
    # The reset keeps the kube-proxy mode, so the mode cannot say it is over; the API shows it late here (READY as
    # before for 0.6 s), and the IP restrictions put back meanwhile would be wiped when it starts.
    sandbox = sandbox_factory(reset_delay_seconds=0.6)
    before = created(tmp_path, sandbox, run_ovhkube)
    restrictions = ["192.168.0.1/32", "203.0.113.0/24"]  # the gateway, as the Standard plan needs
    sandbox.client().put(f"/cloud/project/{PROJECT}/kube/{before['id']}/ipRestrictions", ips=restrictions)
    document = paris(**{"privateNetwork.nodesSubnetId": OTHER_NODES})
    document["spec"]["lifecycle"] = {"allowReset": True, "workerNodesPolicy": "reinstall"}
    document["spec"]["ipRestrictions"] = restrictions
    path = write_fleet(tmp_path, document)
    sandbox.forget_requests()

    result, account = apply_json(run_ovhkube, sandbox, path, "--auto-approve")

    assert result.returncode == 0, result.stderr + result.stdout
    (paris_account,) = account["clusters"]
    assert paris_account["result"] == "done" and paris_account["verified"]
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in paris_account["requests"]] == [
        ("POST", "reset"),
        ("PUT", "ipRestrictions"),
    ]
    after = clusters_by_name(sandbox)["paris"]
    assert after["id"] == before["id"] and after["resets"] == before.get("resets", 0) + 1
    assert after["nodesSubnetId"] == OTHER_NODES and after["ipRestrictions"] == restrictions
    kept = ("privateNetworkId", "loadBalancersSubnetId", "privateNetworkConfiguration", "ipAllocationPolicy")
    assert {key: after[key] for key in kept} == {key: before[key] for key in kept}
    assert run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env()).returncode == 0
