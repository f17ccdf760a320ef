"""Node pools end to end through the CLI against the sandbox over HTTP: what reading them costs, drift --unmanaged
listing the pools no file declares, and export writing every pool whole."""

import json

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
    assert len(requests) == 22  # no flavors: no pool is created or replaced
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
