"""What a command costs in requests, counted from the sandbox's request log: one expanded listing per project,
a fresh listing of the project right before the writes (shared by its clusters), and the fallback where an endpoint
answers ids only."""

import json
import os

import yaml

from tests.apply_helpers import IPTABLES_30S, IPTABLES_60S, PLUGINS, apply_json, wanted

PROJECTS = [f"{n:x}" * 32 for n in (10, 11, 12)]  # aaaa..., bbbb..., cccc...


def cluster_id(project: int, number: int) -> str:
    return f"6f3c1a52-3333-4c1e-{project:04d}-{number:012d}"


def seed_projects(sandbox, per_project: int = 3) -> None:
    projects = []
    for p, project in enumerate(PROJECTS):
        clusters = [
            {
                "id": cluster_id(p, n),
                "name": f"p{p}c{n}",
                "region": "GRA5",
                "version": "1.31",
                "kubeProxyMode": "iptables",
                "customization": {"apiServer": PLUGINS, "kubeProxy": IPTABLES_30S},
            }
            for n in range(per_project)
        ]
        projects.append({"serviceName": project, "clusters": clusters})
    sandbox.seed({"projects": projects})


def fleet(tmp_path, per_project: int = 3, kube_proxy=IPTABLES_30S, pin: bool = False, only=None) -> str:
    documents = []
    for p, project in enumerate(PROJECTS):
        for n in range(per_project):
            if only is not None and (p, n) not in only:
                continue
            document = wanted(f"p{p}c{n}", kubeProxy=kube_proxy, apiServer=PLUGINS)
            document["spec"]["project"] = project
            if pin:
                document["spec"]["id"] = cluster_id(p, n)
            documents.append(document)
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return str(path)


def kinds(requests: list[dict]) -> list[tuple[str, str, bool]]:
    """(method, what, expanded) per request, the path reduced to its shape."""
    shapes = []
    for entry in requests:
        parts = entry["path"].split("/")
        what = {3: "time", 4: "project", 5: "list", 6: "cluster"}.get(len(parts), "/".join(parts[6:]))
        shapes.append((entry["method"], what, entry["expanded"]))
    return shapes


def test_a_plan_of_three_projects_sends_three_expanded_listings_and_nothing_per_cluster(sandbox, run_ovhkube, tmp_path):
    seed_projects(sandbox)
    files = fleet(tmp_path, kube_proxy=IPTABLES_60S)
    sandbox.forget_requests()

    result = run_ovhkube("plan", files, env=sandbox.env())

    assert result.returncode == 0, result.stderr
    # every cluster read, customization too
    assert "Plan: 0 to create, 9 to update, 0 to upgrade, 0 to reset, 0 to delete." in result.stdout
    # And one GET per project for its description, which the text plan shows beside its id.
    expected = [("GET", "list", True)] * 3 + [("GET", "project", False)] * 3 + [("GET", "time", False)]
    assert sorted(kinds(sandbox.requests())) == expected


def test_drift_and_export_read_a_project_with_one_listing(sandbox, run_ovhkube, tmp_path):
    seed_projects(sandbox)
    sandbox.forget_requests()
    drift = run_ovhkube("drift", fleet(tmp_path), "--unmanaged", env=sandbox.env())
    exported = run_ovhkube("export", "--project", PROJECTS[0], env=sandbox.env())

    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert exported.returncode == 0 and exported.stdout.count("kind: Cluster") == 3, exported.stderr
    assert "syncPeriod: PT30S" in exported.stdout  # the customization, from the listing
    # Export also reads each cluster's IP restrictions and OIDC, which have their own GETs (no expanded form).
    beside = [("GET", "ipRestrictions", False)] * 3 + [("GET", "openIdConnect", False)] * 3
    # And the node pools: drift --unmanaged lists those of every declared cluster (9), export those of each (3).
    pools = [("GET", "nodepool", True)] * (9 + 3)
    expected = [("GET", "list", True)] * 4 + [("GET", "time", False)] * 2 + beside + pools
    assert sorted(kinds(sandbox.requests())) == sorted(expected)


def test_where_the_listing_answers_ids_each_cluster_is_read_once_and_said_under_v(
    sandbox_factory, run_ovhkube, tmp_path
):
    sandbox = sandbox_factory(expand_lists=False)
    seed_projects(sandbox)
    sandbox.forget_requests()

    result = run_ovhkube("plan", fleet(tmp_path, kube_proxy=IPTABLES_60S), "-v", env=sandbox.env())

    assert result.returncode == 0, result.stderr
    assert "Plan: 0 to create, 9 to update, 0 to upgrade, 0 to reset, 0 to delete." in result.stdout
    assert result.stderr.count("answered cluster ids, not cluster objects") == 1
    assert sorted(kinds(sandbox.requests())) == sorted(
        [("GET", "list", False)] * 3
        + [("GET", "cluster", False)] * 9
        + [("GET", "project", False)] * 3  # each project's description
        + [("GET", "time", False)]
    )  # no GET .../customization: the cluster object carries it


def test_without_the_expanded_listing_a_pinned_cluster_is_read_alone(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(expand_lists=False)
    seed_projects(sandbox)
    sandbox.forget_requests()

    result = run_ovhkube("plan", fleet(tmp_path, pin=True, only={(0, 1)}), env=sandbox.env())

    assert result.returncode == 0, result.stderr
    assert "No changes" in result.stdout
    paths = [e["path"] for e in sandbox.requests() if e["path"] != "/auth/time"]
    assert paths == [
        f"/cloud/project/{PROJECTS[0]}/kube",
        f"/cloud/project/{PROJECTS[0]}/kube/{cluster_id(0, 1)}",
        f"/cloud/project/{PROJECTS[0]}",  # its description, for the text plan
    ]


def test_apply_reads_each_cluster_afresh_right_before_writing_it(sandbox, run_ovhkube, tmp_path):
    seed_projects(sandbox)
    files = fleet(tmp_path, kube_proxy=IPTABLES_60S, only={(0, 0), (1, 1)})
    sandbox.forget_requests()

    result, account = apply_json(run_ovhkube, sandbox, files, "--auto-approve")

    assert result.returncode == 0, result.stderr
    assert all(c["verified"] for c in account["clusters"])
    requests = sandbox.requests()
    for p, n in ((0, 0), (1, 1)):
        listing = f"/cloud/project/{PROJECTS[p]}/kube"
        path = f"{listing}/{cluster_id(p, n)}"
        mine = [(e["method"], e["path"], e["expanded"]) for e in requests if e["path"].startswith(listing)]
        put = mine.index(("PUT", path + "/customization", False))
        # The plan's listing, then a second one for the write: the plan's may be minutes old (a prompt, a saved plan).
        assert mine[:put] == [("GET", listing, True), ("GET", listing, True)]
        assert ("GET", path + "/customization", False) not in mine  # verified on the cluster object


def test_the_clusters_of_a_project_written_together_share_the_read_before_the_writes(
    sandbox_factory, run_ovhkube, tmp_path
):
    sandbox = sandbox_factory(latency_ms=50)
    seed_projects(sandbox, per_project=10)
    files = fleet(tmp_path, per_project=10, kube_proxy=IPTABLES_60S, only={(0, n) for n in range(10)})
    sandbox.forget_requests()

    env = sandbox.env(OVHKUBE_MAX_RPS="1000")  # a known pace: the ten clusters start together
    result, account = apply_json(run_ovhkube, sandbox, files, "--auto-approve", env=env)

    assert result.returncode == 0, result.stderr
    assert all(c["verified"] for c in account["clusters"])
    shapes = kinds(sandbox.requests())
    puts = [index for index, shape in enumerate(shapes) if shape == ("PUT", "customization", False)]
    assert len(puts) == 10
    assert ("GET", "cluster", False) not in shapes
    # Before the first PUT: the plan's listing and one more, read for all ten (a GET each would be ten).
    assert shapes[: puts[0]].count(("GET", "list", True)) == 2, shapes


def test_waiting_clusters_of_a_project_share_one_listing_per_poll_round(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(transition_seconds=2)
    seed_projects(sandbox, per_project=5)
    files = fleet(tmp_path, per_project=5, kube_proxy=IPTABLES_60S, only={(0, n) for n in range(5)})
    sandbox.forget_requests()

    # A known pace: the five PUTs go at once, so the five waits overlap whole (without one, apply ramps up by
    # seconds and the waits start apart: tests/test_request_budget.py).
    env = sandbox.env(OVHKUBE_MAX_RPS="1000")
    result, account = apply_json(run_ovhkube, sandbox, files, "--auto-approve", "--parallelism", "5", env=env)

    assert result.returncode == 0, result.stderr
    assert all(c["verified"] for c in account["clusters"])
    shapes = kinds(sandbox.requests())
    assert shapes.count(("PUT", "customization", False)) == 5
    assert shapes.count(("GET", "cluster", False)) == 0  # the read before the PUTs and the polls are listings
    polls = shapes.count(("GET", "list", True)) - 2  # the plan's listing and the one before the PUTs aside
    # Five clusters waited 2 s each, some 8 polls apiece on their own: 40 GETs. Together: one listing a round.
    assert 1 <= polls <= 12, shapes


def test_the_embedded_sandbox_keeps_a_request_log_when_asked(run_ovhkube, tmp_path):
    log = tmp_path / "embedded.jsonl"
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump({"projects": [{"serviceName": PROJECTS[0], "clusters": []}]}))
    env = {"OVHKUBE_SANDBOX_STATE": str(tmp_path / "embedded.sqlite3"), "OVHKUBE_SANDBOX_REQUEST_LOG": str(log)}
    environment = {**os.environ, **env}
    assert run_ovhkube("sandbox", "seed", str(seed), env=environment).returncode == 0
    document = wanted("new", mode="iptables")
    document["spec"]["project"] = PROJECTS[0]
    (tmp_path / "new.yaml").write_text(yaml.safe_dump(document))

    result = run_ovhkube("--endpoint", "sandbox", "plan", str(tmp_path / "new.yaml"), env=environment)

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["method"], e["path"], e["expanded"]) for e in lines] == [
        ("GET", "/auth/time", False),
        ("GET", f"/cloud/project/{PROJECTS[0]}/kube", True),
        ("GET", f"/cloud/project/{PROJECTS[0]}", False),  # its description, for the text plan
    ]
