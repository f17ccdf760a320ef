"""Node pools end to end through the CLI against the sandbox over HTTP: what reading them costs, drift --unmanaged
listing the pools no file declares, and export writing every pool whole."""

import json

import pytest
import yaml

from tests.apply_helpers import PROJECT, wanted

TEMPLATE = {
    "metadata": {"annotations": {"example.com/owner": "web"}, "finalizers": ["example.com/keep"], "labels": {"a": "b"}},
    "spec": {"taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}], "unschedulable": False},
}


def cluster_id(project: int, number: int) -> str:
    return f"6f3c1a52-5555-4c1e-{project:04d}-{number:012d}"


def pool(name: str, **fields) -> dict:
    return {"name": name, "flavor": "b3-8", "desiredNodes": 2} | fields


def seed(sandbox, projects: list[str], per_project: int, pools=lambda p, n: []) -> None:
    sandbox.seed(
        {
            "projects": [
                {
                    "serviceName": project,
                    "clusters": [
                        {"id": cluster_id(p, n), "name": f"p{p}c{n}", "region": "GRA5", "nodePools": pools(p, n)}
                        for n in range(per_project)
                    ],
                }
                for p, project in enumerate(projects)
            ]
        }
    )


def write(tmp_path, documents: list[dict]) -> str:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return str(path)


def test_a_plan_of_40_clusters_costs_one_pool_listing_per_pool_declaring_cluster_and_one_listing_per_project(
    tmp_path, sandbox, run_ovhkube
):
    projects = [f"{n:x}" * 32 for n in (10, 11)]
    seed(sandbox, projects, 20, pools=lambda p, n: [pool("workers"), pool(f"other-{n}")])
    documents = []
    for p, project in enumerate(projects):
        for n in range(20):
            document = wanted(f"p{p}c{n}")
            document["spec"]["project"] = project
            if n % 2 == 0:  # half of them declare a pool
                document["spec"]["nodePools"] = {"workers": {"flavorName": "b3-8", "desiredNodes": 2}}
            documents.append(document)
    sandbox.forget_requests()
    result = run_ovhkube("plan", write(tmp_path, documents), env=sandbox.env())
    assert result.returncode == 0, result.stderr
    requests = [(r["method"], r["path"], r["expanded"]) for r in sandbox.requests() if r["path"] != "/auth/time"]
    listings = [r for r in requests if r[1].endswith("/kube")]
    pool_listings = [r for r in requests if r[1].endswith("/nodepool")]
    assert len(listings) == 2 and all(expanded for _, _, expanded in listings)
    assert len(pool_listings) == 20 and all(expanded for _, _, expanded in pool_listings)
    descriptions = [r for r in requests if r[1] in {f"/cloud/project/{p}" for p in projects}]
    assert len(descriptions) == 2  # each project's description, for the text plan (issue 22)
    assert len(requests) == 24  # no flavors: no pool is created or replaced
    declaring = {
        f"/cloud/project/{projects[p]}/kube/{cluster_id(p, n)}/nodepool" for p in (0, 1) for n in range(0, 20, 2)
    }
    assert {path for _, path, _ in pool_listings} == declaring


def test_drift_unmanaged_lists_the_pools_no_file_declares(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, [PROJECT], 2, pools=lambda p, n: [pool("workers"), pool("karpenter-x1", desiredNodes=1)])
    first, second = wanted("p0c0"), wanted("p0c1")
    first["spec"]["nodePools"] = {"workers": {"flavorName": "b3-8"}}
    path = write(tmp_path, [first, second])
    plain = run_ovhkube("drift", path, env=sandbox.env())
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "karpenter" not in plain.stdout
    result = run_ovhkube("drift", path, "--unmanaged", env=sandbox.env())
    assert result.returncode == 2, result.stderr
    assert (
        f"? node pool karpenter-x1 of p0c0 ({PROJECT}/{cluster_id(0, 0)}) is not declared in any file" in result.stdout
    )
    # A cluster declaring no pools manages none: all of its pools are listed.
    assert f"? node pool workers of p0c1 ({PROJECT}/{cluster_id(0, 1)})" in result.stdout
    assert "? node pool workers of p0c0" not in result.stdout
    report = json.loads(run_ovhkube("drift", path, "--unmanaged", "--format", "json", env=sandbox.env()).stdout)
    assert sorted((p["cluster"], p["name"]) for p in report["unmanaged_pools"]) == [
        ("p0c0", "karpenter-x1"), ("p0c1", "karpenter-x1"), ("p0c1", "workers"),
    ]  # fmt: skip


def test_export_writes_every_pool_whole_and_the_files_validate(tmp_path, sandbox, run_ovhkube):
    pools = [
        pool("workers", template=TEMPLATE, availabilityZones=[]),
        pool("batch", flavor="c3-16", autoscale=True, minNodes=1, maxNodes=5, desiredNodes=3),
        pool("gpu", flavor="t2-45", antiAffinity=True, monthlyBilled=True, desiredNodes=1),
    ]
    seed(sandbox, [PROJECT], 1, pools=lambda p, n: pools)
    out = tmp_path / "exported"
    result = run_ovhkube("export", "--project", PROJECT, "--output", out, env=sandbox.env())
    assert result.returncode == 0, result.stderr
    (document,) = yaml.safe_load_all((out / "p0c0.yaml").read_text())
    exported = document["spec"]["nodePools"]
    assert list(exported) == ["workers", "batch", "gpu"]
    assert exported["workers"]["template"] == TEMPLATE
    assert exported["workers"]["desiredNodes"] == 2
    assert "desiredNodes" not in exported["batch"]  # the autoscaler's
    assert (exported["gpu"]["antiAffinity"], exported["gpu"]["monthlyBilled"]) == (True, True)
    validated = run_ovhkube("validate", out)
    assert validated.returncode == 0, validated.stdout


# --- plan and apply ------------------------------------------------------------------------------------------

CLUSTER = cluster_id(0, 0)
POOLS_PATH = f"/cloud/project/{PROJECT}/kube/{CLUSTER}/nodepool"


def one_cluster(sandbox, pools: list[dict]) -> None:
    seed(sandbox, [PROJECT], 1, pools=lambda p, n: pools)


def with_pools(tmp_path, pools: dict, lifecycle: dict | None = None) -> str:
    document = wanted("p0c0")
    document["spec"]["nodePools"] = pools
    if lifecycle:
        document["spec"]["lifecycle"] = lifecycle
    return write(tmp_path, [document])


def live_pools(sandbox) -> dict[str, dict]:
    return {pool["name"]: pool for pool in sandbox.client().get(POOLS_PATH)}


def apply(run_ovhkube, sandbox, path: str):
    return run_ovhkube("apply", path, "--auto-approve", env=sandbox.env())


def test_a_label_only_template_is_enforced_and_nothing_else_of_the_pool_changes(tmp_path, sandbox, run_ovhkube):
    one_cluster(sandbox, [pool("workers", template=TEMPLATE, minNodes=1, maxNodes=5), pool("karpenter-x1")])
    before = live_pools(sandbox)
    path = with_pools(tmp_path, {"workers": {"template": {"metadata": {"labels": {"tier": "api"}}}}})
    planned = run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env())
    assert planned.returncode == 2, planned.stderr
    assert '~ nodePools.workers.template.metadata.labels: {"a": "b"} -> {"tier": "api"}' in planned.stdout
    sandbox.forget_requests()
    result = apply(run_ovhkube, sandbox, path)
    assert result.returncode == 0, result.stdout + result.stderr
    (put,) = [r for r in sandbox.requests() if r["method"] != "GET" and r["path"] != "/auth/time"]
    assert (put["method"], put["path"]) == ("PUT", f"{POOLS_PATH}/{before['workers']['id']}")
    after = live_pools(sandbox)
    labelled = TEMPLATE | {"metadata": TEMPLATE["metadata"] | {"labels": {"tier": "api"}}}
    assert after["workers"]["template"] == labelled
    unchanged = ("flavor", "desiredNodes", "minNodes", "maxNodes", "autoscale", "autoscaling", "antiAffinity", "id")
    assert {key: after["workers"][key] for key in unchanged} == {key: before["workers"][key] for key in unchanged}
    assert after["karpenter-x1"] == before["karpenter-x1"]  # undeclared: never touched
    again = run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env())
    assert again.returncode == 0, again.stdout


def test_a_flavor_change_is_refused_without_the_flag_and_replaces_new_before_old_with_it(
    tmp_path, sandbox_factory, run_ovhkube
):
    sandbox = sandbox_factory(transition_seconds=1.0)
    one_cluster(sandbox, [pool("workers", desiredNodes=2), pool("karpenter-x1")])
    old_id = live_pools(sandbox)["workers"]["id"]
    refused = run_ovhkube("plan", with_pools(tmp_path, {"workers": {"flavorName": "b3-16"}}), env=sandbox.env())
    assert refused.returncode == 1
    assert "flavorName b3-8 -> b3-16 cannot change in place" in refused.stdout
    assert "lifecycle.allowPoolReplace: true" in refused.stdout
    path = with_pools(tmp_path, {"workers": {"flavorName": "b3-16"}}, {"allowPoolReplace": True})
    planned = run_ovhkube("plan", path, env=sandbox.env())
    assert planned.returncode == 0, planned.stderr
    assert "!!! NODE POOL workers WILL BE REPLACED: a new pool workers-r1 (b3-16, 2 node(s))" in planned.stdout
    assert "until then both run: 4 node(s) of this pool at once, against 2 now !!!" in planned.stdout
    sandbox.forget_requests()
    result = apply(run_ovhkube, sandbox, path)
    assert result.returncode == 0, result.stdout + result.stderr
    writes = [(r["method"], r["path"]) for r in sandbox.requests() if r["method"] in ("POST", "DELETE")]
    assert writes == [("POST", POOLS_PATH), ("DELETE", f"{POOLS_PATH}/{old_id}")]  # new first, then old
    # The delete went out only once the new pool's nodes were READY (INSTALLING for a second first).
    log = sandbox.requests()
    delete_at = next(i for i, r in enumerate(log) if r["method"] == "DELETE")
    assert any(r["path"] == POOLS_PATH and r["method"] == "GET" for r in log[:delete_at])
    progress = result.stderr
    assert "node pool workers-r1: INSTALLING, 0/2 node(s) READY" in progress
    assert progress.index("node pool workers-r1: READY, 2/2 node(s) READY") < progress.index("deleting a node pool")
    after = live_pools(sandbox)
    assert sorted(after) == ["karpenter-x1", "workers-r1"]
    assert (after["workers-r1"]["flavor"], after["workers-r1"]["availableNodes"]) == ("b3-16", 2)
    assert run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env()).returncode == 0


def test_an_autoscaled_pool_whose_desired_nodes_the_autoscaler_moves_plans_no_change(
    tmp_path, sandbox_factory, run_ovhkube
):
    sandbox = sandbox_factory(autoscaler_nodes=4)
    one_cluster(sandbox, [pool("workers", autoscale=True, minNodes=1, maxNodes=5, desiredNodes=2)])
    assert live_pools(sandbox)["workers"]["desiredNodes"] == 4
    fields = {"flavorName": "b3-8", "autoscale": True, "minNodes": 1, "maxNodes": 5, "desiredNodes": 2}
    result = run_ovhkube("plan", with_pools(tmp_path, {"workers": fields}), "--detailed-exitcode", env=sandbox.env())
    assert result.returncode == 0, result.stdout + result.stderr
    pinned = run_ovhkube(
        "plan", with_pools(tmp_path, {"workers": fields | {"pinDesiredNodes": True}}), env=sandbox.env()
    )
    assert "~ nodePools.workers.desiredNodes: 4 -> 2" in pinned.stdout
    assert "fights the autoscaler" in pinned.stdout


def test_an_undeclared_pool_survives_every_apply_and_shows_in_drift_unmanaged(tmp_path, sandbox, run_ovhkube):
    one_cluster(sandbox, [pool("workers"), pool("karpenter-x1", desiredNodes=1)])
    stray = live_pools(sandbox)["karpenter-x1"]
    path = with_pools(
        tmp_path,
        {"workers": {"desiredNodes": 3}, "batch": {"flavorName": "c3-8", "desiredNodes": 1}},
    )
    result = apply(run_ovhkube, sandbox, path)
    assert result.returncode == 0, result.stdout + result.stderr
    after = live_pools(sandbox)
    assert after["karpenter-x1"] == stray and after["workers"]["desiredNodes"] == 3 and "batch" in after
    drift = run_ovhkube("drift", path, "--unmanaged", env=sandbox.env())
    assert drift.returncode == 2
    assert "? node pool karpenter-x1 of p0c0" in drift.stdout
    assert "? node pool workers" not in drift.stdout and "? node pool batch" not in drift.stdout


def test_a_pool_is_deleted_only_when_marked_and_allowed(tmp_path, sandbox, run_ovhkube):
    one_cluster(sandbox, [pool("workers"), pool("legacy")])
    refused = run_ovhkube("plan", with_pools(tmp_path, {"legacy": {"delete": True}}), env=sandbox.env())
    assert refused.returncode == 1 and "lifecycle.allowPoolDelete: true" in refused.stdout
    path = with_pools(tmp_path, {"legacy": {"delete": True}}, {"allowPoolDelete": True})
    planned = run_ovhkube("plan", path, env=sandbox.env())
    assert "!!! NODE POOL legacy WILL BE DELETED with its 2 node(s)" in planned.stdout
    result = apply(run_ovhkube, sandbox, path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(live_pools(sandbox)) == ["workers"]


def test_export_of_a_cluster_with_three_pools_round_trips_to_no_changes(tmp_path, sandbox_factory, run_ovhkube):
    sandbox = sandbox_factory(autoscaler_nodes=3)
    one_cluster(
        sandbox,
        [
            pool("workers", template=TEMPLATE),
            pool("batch", flavor="c3-16", autoscale=True, minNodes=1, maxNodes=5, desiredNodes=2),
            pool("gpu", flavor="t2-45", antiAffinity=True, monthlyBilled=True, desiredNodes=1),
        ],
    )
    out = tmp_path / "exported"
    assert run_ovhkube("export", "--project", PROJECT, "--output", out, env=sandbox.env()).returncode == 0
    result = run_ovhkube("plan", out, "--detailed-exitcode", env=sandbox.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes" in result.stdout


def test_a_saved_plan_with_pool_steps_applies_and_a_tampered_one_is_refused(tmp_path, sandbox, run_ovhkube):
    one_cluster(sandbox, [pool("workers", template=TEMPLATE)])
    path = with_pools(tmp_path, {"workers": {"desiredNodes": 3, "template": {"spec": {"unschedulable": True}}}})
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", path, "--out", saved, env=sandbox.env()).returncode == 0
    plan = json.loads(saved.read_text())
    (request,) = plan["changes"][0]["requests"]
    assert (request["kind"], request["method"]) == ("pool_update", "PUT")
    tampered = tmp_path / "tampered.json"
    request["body"]["desiredNodes"] = 30
    tampered.write_text(json.dumps(plan))
    refused = run_ovhkube("apply", "--plan", tampered, env=sandbox.env())
    assert refused.returncode == 1 and "not as ovhkube wrote it" in refused.stderr
    result = run_ovhkube("apply", "--plan", saved, env=sandbox.env())
    assert result.returncode == 0, result.stdout + result.stderr
    workers = live_pools(sandbox)["workers"]
    assert (workers["desiredNodes"], workers["template"]["spec"]["unschedulable"]) == (3, True)


@pytest.mark.parametrize("forgery", ["another_pool", "a_delete_added"])
def test_a_saved_plan_cannot_be_turned_on_a_pool_the_file_does_not_declare(tmp_path, sandbox, run_ovhkube, forgery):
    # karpenter's pool is not in the file: a hand-edited plan must not reach it, by id or by an added delete.
    one_cluster(sandbox, [pool("workers", template=TEMPLATE), pool("karpenter")])
    path = with_pools(tmp_path, {"workers": {"desiredNodes": 3}})
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", path, "--out", saved, env=sandbox.env()).returncode == 0
    plan = json.loads(saved.read_text())
    requests = plan["changes"][0]["requests"]
    before = live_pools(sandbox)
    other = before["karpenter"]["id"]
    if forgery == "another_pool":
        requests[0]["path"] = requests[0]["path"].replace(requests[0]["pool"], other)
        requests[0]["pool"] = other
    else:
        requests.append(
            {"kind": "pool_delete", "method": "DELETE", "path": f"{POOLS_PATH}/{other}", "body": None, "pool": other}
        )
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(plan))

    refused = run_ovhkube("apply", "--plan", forged, env=sandbox.env())

    assert refused.returncode == 1 and "not as ovhkube wrote it" in refused.stdout + refused.stderr, refused.stdout
    assert live_pools(sandbox) == before


def test_a_replacement_of_an_autoscaled_pool_starts_at_the_autoscaler_size_and_states_the_overlap(
    tmp_path, sandbox_factory, run_ovhkube
):
    sandbox = sandbox_factory(autoscaler_nodes=4)
    one_cluster(sandbox, [pool("workers", autoscale=True, minNodes=1, maxNodes=6, desiredNodes=2, status="READY")])
    assert live_pools(sandbox)["workers"]["desiredNodes"] == 4  # the autoscaler's, not the seed's
    fields = {"flavorName": "b3-16", "autoscale": True, "desiredNodes": 1}  # 1: only the size a new pool starts at
    path = with_pools(tmp_path, {"workers": fields}, {"allowPoolReplace": True})
    planned = run_ovhkube("plan", path, env=sandbox.env())
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert (
        "NODE POOL workers WILL BE REPLACED: a new pool workers-r1 (b3-16, 4 node(s), then as its autoscaler decides)"
        in planned.stdout
    )
    assert "the old pool workers (b3-8, 4 node(s)) is DELETED" in planned.stdout
    assert "until then both run: 8 node(s) of this pool at once, against 4 now" in planned.stdout
    result = apply(run_ovhkube, sandbox, path)
    assert result.returncode == 0, result.stdout + result.stderr
    (created,) = [r for r in sandbox.requests() if r["method"] == "POST"]
    after = live_pools(sandbox)
    assert sorted(after) == ["workers-r1"]
    new = after["workers-r1"]
    assert (new["flavor"], new["minNodes"], new["maxNodes"], new["autoscale"]) == ("b3-16", 1, 6, True)
    assert created["status"] == 200


def test_a_saved_plan_cannot_add_a_delete_of_a_pool_its_diff_only_updates(tmp_path, sandbox, run_ovhkube):
    # The diff shows workers updated and extra created; a delete of workers added by hand is no step of that diff
    # (the file does not even allow a pool delete), though workers is a pool the entry may reach.
    one_cluster(sandbox, [pool("workers", template=TEMPLATE)])
    path = with_pools(tmp_path, {"workers": {"desiredNodes": 3}, "extra": {"flavorName": "b3-8", "desiredNodes": 1}})
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", path, "--out", saved, env=sandbox.env()).returncode == 0
    plan = json.loads(saved.read_text())
    requests = plan["changes"][0]["requests"]
    assert sorted(r["kind"] for r in requests) == ["pool_create", "pool_update"]
    before = live_pools(sandbox)
    own = before["workers"]["id"]
    requests.append(
        {"kind": "pool_delete", "method": "DELETE", "path": f"{POOLS_PATH}/{own}", "body": None, "pool": own}
    )
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(plan))

    refused = run_ovhkube("apply", "--plan", forged, env=sandbox.env())

    assert refused.returncode == 1, refused.stdout
    assert "its requests are not the ones its update entry makes (3 request(s) where it makes 2)" in refused.stderr
    assert live_pools(sandbox) == before
    result = run_ovhkube("apply", "--plan", saved, env=sandbox.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(live_pools(sandbox)) == ["extra", "workers"]


@pytest.mark.parametrize("before, after", [(False, True), (True, False)])
def test_monthly_billing_switches_by_a_replacement_new_before_old_never_a_wipe(
    tmp_path, sandbox_factory, run_ovhkube, before, after
):
    sandbox = sandbox_factory(transition_seconds=0.5)
    one_cluster(sandbox, [pool("workers", monthlyBilled=before, desiredNodes=3, minNodes=1, template=TEMPLATE)])
    old = live_pools(sandbox)["workers"]
    refused = run_ovhkube("plan", with_pools(tmp_path, {"workers": {"monthlyBilled": after}}), env=sandbox.env())
    assert refused.returncode == 1
    assert f"monthlyBilled {before} -> {after} cannot change in place" in refused.stdout
    path = with_pools(tmp_path, {"workers": {"monthlyBilled": after}}, {"allowPoolReplace": True})
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", path, "--out", saved, env=sandbox.env()).returncode == 0
    create, delete = json.loads(saved.read_text())["changes"][0]["requests"]
    assert (create["kind"], delete["kind"], delete["pool"]) == ("pool_create", "pool_delete", old["id"])
    # The new pool carries what the live one has: its size, its bounds, its template; only the billing differs.
    assert create["body"] | {"monthlyBilled": before, "name": "workers", "flavorName": "b3-8"} == {
        "name": "workers",
        "flavorName": "b3-8",
        "antiAffinity": False,
        "monthlyBilled": before,
        "availabilityZones": [],
        "minNodes": 1,
        "maxNodes": 100,
        "autoscale": False,
        "desiredNodes": 3,
        "attachFloatingIps": {"enabled": False},
        "autoscaling": old["autoscaling"],
        "template": TEMPLATE,
    }
    result = run_ovhkube("apply", "--plan", saved, env=sandbox.env())
    assert result.returncode == 0, result.stdout + result.stderr
    writes = [r["method"] for r in sandbox.requests() if r["method"] in ("POST", "PUT", "DELETE")]
    assert writes == ["POST", "DELETE"]  # never a PUT of monthlyBilled (the API's update body has none)
    new = live_pools(sandbox)["workers-r1"]
    assert (new["monthlyBilled"], new["availableNodes"], new["template"]) == (after, 3, TEMPLATE)
    assert run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env()).returncode == 0


def test_a_new_cluster_pool_flavor_is_checked_against_its_region_before_any_request(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, [PROJECT], 0)
    documents = []
    for name, region, flavor in (("new-a", "GRA5", "b3-8"), ("new-b", "GRA5", "b3-88"), ("new-c", "SBG5", "c3-8")):
        document = wanted(name)
        document["spec"]["region"] = region
        document["spec"]["nodePools"] = {"workers": {"flavorName": flavor, "desiredNodes": 1}}
        documents.append(document)
    path = write(tmp_path, documents)
    sandbox.forget_requests()

    result = run_ovhkube("plan", path, env=sandbox.env())

    assert result.returncode == 1
    line = yaml.safe_dump_all(documents, sort_keys=False).splitlines().index("      flavorName: b3-88") + 1
    assert f'{path}:{line}: nodePools.workers.flavorName: "b3-88" is not a flavor offered in region GRA5' in (
        result.stdout
    ), result.stdout
    assert "new-a" in result.stdout and "will be created" in result.stdout
    capabilities = [r for r in sandbox.requests() if r["path"].endswith("/capabilities/kube/flavors")]
    assert len(capabilities) == 2  # once per project and region, not per cluster
    assert [r for r in sandbox.requests() if r["method"] != "GET"] == []
    refused = run_ovhkube("apply", path, "--auto-approve", env=sandbox.env())
    assert refused.returncode == 1 and sandbox.show()["projects"][0]["clusters"] == []


def test_a_reset_that_deletes_the_nodes_says_the_pools_go_and_the_next_plan_creates_the_declared_ones(
    tmp_path, sandbox, run_ovhkube
):
    one_cluster(sandbox, [pool("workers", desiredNodes=3), pool("karpenter-x1", desiredNodes=1)])
    document = wanted("p0c0", mode="ipvs")  # the seed is iptables: a mode change needs a reset
    document["spec"]["nodePools"] = {"workers": {"flavorName": "b3-8", "desiredNodes": 3}}
    document["spec"]["lifecycle"] = {"allowReset": True}  # workerNodesPolicy left out: the API's delete
    path = write(tmp_path, [document])
    planned = run_ovhkube("plan", path, env=sandbox.env())
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "worker nodes will be deleted (the cluster comes back empty, without node pools)" in planned.stdout
    assert (
        "!!! NODE POOLS workers (b3-8, 3 node(s)), karpenter-x1 (b3-8, 1 node(s)) WILL BE GONE with the reset"
        in planned.stdout
    )
    assert "the pools the files declare are created by the next plan and apply" in planned.stdout
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", path, "--out", saved, env=sandbox.env()).returncode == 0
    (change,) = json.loads(saved.read_text())["changes"]
    assert [r["kind"] for r in change["requests"]] == ["reset"]  # no pool step: planned after the reset
    result = apply(run_ovhkube, sandbox, path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert live_pools(sandbox) == {}
    again = run_ovhkube("plan", path, env=sandbox.env())
    assert '+ nodePools.workers: {"name": "workers", "flavorName": "b3-8", "desiredNodes": 3}' in again.stdout
    assert apply(run_ovhkube, sandbox, path).returncode == 0
    assert sorted(live_pools(sandbox)) == ["workers"]  # karpenter's is its own to bring back


def test_a_reset_that_reinstalls_the_nodes_keeps_the_pools(tmp_path, sandbox, run_ovhkube):
    one_cluster(sandbox, [pool("workers", desiredNodes=3)])
    before = live_pools(sandbox)["workers"]
    document = wanted("p0c0", mode="ipvs")
    document["spec"]["nodePools"] = {"workers": {"flavorName": "b3-8"}}
    document["spec"]["lifecycle"] = {"allowReset": True, "workerNodesPolicy": "reinstall"}
    path = write(tmp_path, [document])
    planned = run_ovhkube("plan", path, env=sandbox.env())
    assert "worker nodes will be reinstalled (the node pools are kept)" in planned.stdout
    assert "the node pools are kept across the reset (workerNodesPolicy reinstall): workers (b3-8, 3 node(s))" in (
        planned.stdout
    )
    assert "WILL BE GONE" not in planned.stdout
    assert apply(run_ovhkube, sandbox, path).returncode == 0
    assert live_pools(sandbox)["workers"]["id"] == before["id"]
    assert run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env()).returncode == 0
