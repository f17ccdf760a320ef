"""The sandbox's node pools, through the real `ovh` client over HTTP: the shapes of OVHcloud's API description
(cloud.kube.NodePool, cloud.kube.Node, cloud.kube.Flavor), status transitions in time, nodes that appear and
disappear, what the API refuses, the expanded listing, seeded pools, pools in a create body and the autoscaler."""

import time

import ovh
import pytest

PROJECT = "0123456789abcdef0123456789abcdef"
CLUSTER_ID = "6f3c1a52-0000-4c1e-9a55-000000000001"
KUBE = f"/cloud/project/{PROJECT}/kube"
POOLS = f"{KUBE}/{CLUSTER_ID}/nodepool"
TRANSITION = 1.5
POOL_FIELDS = {
    "antiAffinity", "attachFloatingIps", "autoscale", "autoscaling", "availabilityZones", "availableNodes",
    "createdAt", "currentNodes", "desiredNodes", "flavor", "id", "maxNodes", "minNodes", "monthlyBilled", "name",
    "projectId", "sizeStatus", "status", "template", "upToDateNodes", "updatedAt",
}  # fmt: skip
TEMPLATE = {
    "metadata": {"annotations": {}, "finalizers": [], "labels": {"tier": "web"}},
    "spec": {"taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}], "unschedulable": False},
}


def seed(sandbox, pools=(), status="READY"):
    cluster = {"id": CLUSTER_ID, "name": "alpha", "region": "GRA7", "status": status, "nodePools": list(pools)}
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [cluster]}]})


def wait_for(read, wanted, timeout=10.0):
    deadline = time.monotonic() + timeout
    while (value := read()) != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_a_created_pool_installs_its_nodes_then_is_ready_in_the_api_shape(sandbox_factory):
    sandbox = sandbox_factory(transition_seconds=TRANSITION)
    seed(sandbox)
    client = sandbox.client()
    created = client.post(POOLS, name="workers", flavorName="b3-8", desiredNodes=2, template=TEMPLATE)
    assert set(created) == POOL_FIELDS
    assert (created["status"], created["flavor"], created["desiredNodes"], created["template"]) == (
        "INSTALLING", "b3-8", 2, TEMPLATE,
    )  # fmt: skip
    nodes = client.get(f"{POOLS}/{created['id']}/nodes")
    assert [node["status"] for node in nodes] == ["INSTALLING", "INSTALLING"]
    assert {node["nodePoolId"] for node in nodes} == {created["id"]}
    pool = f"{POOLS}/{created['id']}"
    assert wait_for(lambda: client.get(pool)["status"], "READY") == "READY"
    ready = client.get(pool)
    assert (ready["currentNodes"], ready["availableNodes"], ready["sizeStatus"]) == (2, 2, "CAPACITY_OK")
    assert [node["status"] for node in client.get(f"{pool}/nodes")] == ["READY", "READY"]


def test_resizing_and_deleting_show_their_statuses_and_nodes_come_and_go(sandbox_factory):
    sandbox = sandbox_factory(transition_seconds=TRANSITION)
    seed(
        sandbox,
        [{"id": "0a0a0a0a-0000-4000-8000-000000000001", "name": "workers", "flavor": "b3-8", "desiredNodes": 2}],
    )
    client = sandbox.client()
    pool = f"{POOLS}/0a0a0a0a-0000-4000-8000-000000000001"
    client.put(pool, desiredNodes=3)
    assert client.get(pool)["status"] == "UPSCALING"
    assert sorted(node["status"] for node in client.get(f"{pool}/nodes")) == ["INSTALLING", "READY", "READY"]
    with pytest.raises(ovh.exceptions.APIError, match="not ready"):  # 409 while it moves
        client.put(pool, desiredNodes=1)
    wait_for(lambda: client.get(pool)["status"], "READY")
    client.put(pool, desiredNodes=1)
    assert client.get(pool)["status"] == "DOWNSCALING"
    assert sorted(node["status"] for node in client.get(f"{pool}/nodes")) == ["DELETING", "DELETING", "READY"]
    assert wait_for(lambda: len(client.get(f"{pool}/nodes")), 1) == 1
    client.put(pool, template=TEMPLATE)
    assert client.get(pool)["status"] == "UPDATING"
    wait_for(lambda: client.get(pool)["status"], "READY")
    client.delete(pool)
    assert client.get(pool)["status"] == "DELETING"
    assert wait_for(lambda: client.get(POOLS), []) == []
    with pytest.raises(ovh.exceptions.ResourceNotFoundError):
        client.get(pool)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "w", "desiredNodes": 1}, "flavorName: required"),
        ({"name": "w", "flavorName": "b9-99"}, 'flavorName: "b9-99" is not an available flavor'),
        ({"name": "w", "flavorName": "b3-8", "minNodes": 3, "desiredNodes": 2}, "desiredNodes: must be between"),
        ({"name": "w", "flavorName": "b3-8", "antiAffinity": True, "desiredNodes": 6}, "at most 5 nodes"),
        ({"name": "w", "flavorName": "b3-8", "template": {"metadata": {"labels": {}}}}, "template.spec: required"),
        ({"name": "w", "flavorName": "b3-8", "size": 3}, "size: unknown field"),
        ({"name": "old", "flavorName": "b3-8"}, 'a node pool named "old" already exists'),
    ],
)
def test_what_the_api_refuses_in_a_pool_body_is_a_400(sandbox, body, message):
    seed(sandbox, [{"name": "old", "flavor": "b3-8"}])
    with pytest.raises(ovh.exceptions.BadParametersError, match=message):
        sandbox.client().post(POOLS, **body)


def test_an_update_may_not_change_what_is_fixed_at_creation(sandbox):
    seed(sandbox, [{"id": "0a0a0a0a-0000-4000-8000-000000000001", "name": "workers", "flavor": "b3-8"}])
    with pytest.raises(ovh.exceptions.BadParametersError, match="flavorName: unknown field"):
        sandbox.client().put(f"{POOLS}/0a0a0a0a-0000-4000-8000-000000000001", flavorName="b3-16")


def test_the_listing_answers_full_pools_and_the_expanded_form_pages(sandbox):
    seed(sandbox, [{"name": f"p{index}", "flavor": "b3-8"} for index in range(3)])
    client = sandbox.client()
    assert [pool["name"] for pool in client.get(POOLS)] == ["p0", "p1", "p2"]
    headers = {"X-Pagination-Mode": "CachedObjectList-Pages", "X-Pagination-Size": "2", "X-Pagination-Number": "2"}
    answer = client.raw_call("GET", POOLS, None, True, headers=headers)
    assert [pool["name"] for pool in answer.json()] == ["p2"]
    assert answer.headers["X-Pagination-Elements"] == "3"
    assert sandbox.requests()[-1]["expanded"] is True


def test_a_create_body_carries_its_pools(sandbox):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": []}]})
    client = sandbox.client()
    pool = {"name": "workers", "flavorName": "b3-16", "desiredNodes": 2, "autoscale": True, "maxNodes": 4}
    created = client.post(KUBE, region="GRA7", name="beta", nodepools=[pool])
    (shown,) = client.get(f"{KUBE}/{created['id']}/nodepool")
    assert (shown["name"], shown["flavor"], shown["desiredNodes"], shown["autoscale"], shown["maxNodes"]) == (
        "workers", "b3-16", 2, True, 4,
    )  # fmt: skip
    with pytest.raises(ovh.exceptions.BadParametersError, match=r"nodepools\[0\].flavorName"):
        client.post(KUBE, region="GRA7", name="gamma", nodepools=[{"name": "w", "flavorName": "zz-1"}])


def test_the_autoscaler_moves_desired_nodes_of_autoscaled_pools_only(sandbox_factory):
    sandbox = sandbox_factory(autoscaler_nodes=4)
    pools = [
        {"name": "auto", "flavor": "b3-8", "desiredNodes": 2, "autoscale": True, "minNodes": 1, "maxNodes": 5},
        {"name": "fixed", "flavor": "b3-8", "desiredNodes": 2},
    ]
    seed(sandbox, pools)
    shown = {pool["name"]: pool for pool in sandbox.client().get(POOLS)}
    assert (shown["auto"]["desiredNodes"], shown["auto"]["currentNodes"]) == (4, 4)
    assert (shown["fixed"]["desiredNodes"], shown["fixed"]["currentNodes"]) == (2, 2)
    nodes = sandbox.client().get(f"{POOLS}/{shown['auto']['id']}/nodes")
    assert [node["status"] for node in nodes] == ["READY"] * 4


def test_flavors_and_show_round_trip_through_a_seed(sandbox):
    seed(sandbox, [{"name": "workers", "flavor": "b3-8", "desiredNodes": 2, "template": TEMPLATE}])
    flavors = sandbox.client().get(f"{KUBE}/{CLUSTER_ID}/flavors")
    assert {"name": "b3-8", "category": "b", "vCPUs": 2, "ram": 8, "gpus": 0, "state": "available"} in flavors
    shown = sandbox.show()
    (pool,) = shown["projects"][0]["clusters"][0]["nodePools"]
    assert (pool["name"], pool["desiredNodes"], pool["template"]) == ("workers", 2, TEMPLATE)
    sandbox.seed(shown)  # show's shape seeds back
    assert sandbox.show()["projects"][0]["clusters"][0]["nodePools"][0]["id"] == pool["id"]


def test_pool_calls_answer_the_iam_refusal_of_their_action(sandbox_factory):
    sandbox = sandbox_factory(iam_denied=("publicCloudProject:apiovh:kube/nodepool/create",))
    seed(sandbox)
    with pytest.raises(ovh.exceptions.APIError, match="not granted"):
        sandbox.client().post(POOLS, name="w", flavorName="b3-8")
    assert sandbox.client().get(POOLS) == []
