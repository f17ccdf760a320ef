"""`ovhkube drift` end to end: the real CLI and ovh client against the sandbox, changes made behind its back."""

import json
import socket
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

PROJECT = "0123456789abcdef0123456789abcdef"
ABSENT_PROJECT = "fedcba9876543210fedcba9876543210"  # never seeded: listing it fails, so its clusters cannot be read
WEB_ID = "11111111-2222-4333-8444-000000000001"
BATCH_ID = "11111111-2222-4333-8444-000000000002"
STRAY_ID = "11111111-2222-4333-8444-000000000003"

WEB = {
    "id": WEB_ID,
    "name": "web",
    "region": "GRA7",
    "version": "1.31",
    "kubeProxyMode": "iptables",
    "status": "READY",
    "customization": {
        "apiServer": {"admissionPlugins": {"enabled": ["NodeRestriction", "AlwaysPullImages"], "disabled": []}},
        "kubeProxy": {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S"}},
    },
}
BATCH = {
    "id": BATCH_ID,
    "name": "batch",
    "region": "GRA5",
    "version": "1.32",
    "kubeProxyMode": "ipvs",
    "status": "READY",
    "customization": {"kubeProxy": {"ipvs": {"scheduler": "rr", "syncPeriod": "PT1M", "tcpTimeout": "PT0S"}}},
}
STRAY = {"id": STRAY_ID, "name": "stray", "region": "SBG5", "version": "1.31", "kubeProxyMode": "iptables"}

# The same settings as WEB and BATCH, written the way a person would (other spellings, other order).
FILES = f"""\
apiVersion: ovhkube/v1
kind: Cluster
metadata: {{name: web}}
spec:
  project: {PROJECT}
  region: GRA7
  kubeProxyMode: iptables
  customization:
    apiServer:
      admissionPlugins: {{enabled: [AlwaysPullImages, NodeRestriction]}}
    kubeProxy:
      iptables: {{minSyncPeriod: PT1S, syncPeriod: PT30S}}
---
apiVersion: ovhkube/v1
kind: Cluster
metadata: {{name: batch}}
spec:
  project: {PROJECT}
  region: GRA5
  kubeProxyMode: ipvs
  customization:
    kubeProxy:
      ipvs: {{scheduler: rr, syncPeriod: PT60S}}
"""
MISSING_CLUSTER = f"""\
---
apiVersion: ovhkube/v1
kind: Cluster
metadata: {{name: analytics}}
spec: {{project: {PROJECT}, region: BHS5, kubeProxyMode: ipvs}}
"""
UNREADABLE_CLUSTER = f"""\
---
apiVersion: ovhkube/v1
kind: Cluster
metadata: {{name: elsewhere}}
spec: {{project: {ABSENT_PROJECT}, region: GRA9}}
"""


@pytest.fixture
def fleet(sandbox, tmp_path):
    """The sandbox seeded with WEB and BATCH, and a file that declares both as they are."""
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [WEB, BATCH]}]})
    path = tmp_path / "clusters.yaml"
    path.write_text(FILES)
    return path


def change_behind_the_back(sandbox, cluster_id=WEB_ID, **blocks):
    """What someone does in the console or with a script: a PUT through the real ovh client, of the whole
    customization with these blocks changed (so it means the same under either reading of a customization PUT)."""
    path = f"/cloud/project/{PROJECT}/kube/{cluster_id}/customization"
    client = sandbox.client()
    client.put(path, **(client.get(path) | blocks))


def drift(run_ovhkube, sandbox, *args):
    return run_ovhkube("drift", *map(str, args), env=sandbox.env())


def drift_json(run_ovhkube, sandbox, *args):
    result = drift(run_ovhkube, sandbox, *args, "--format", "json")
    return result, json.loads(result.stdout)


def by_name(report):
    return {cluster["name"]: cluster for cluster in report["clusters"]}


def metrics(text):
    """{(metric, labels as a sorted tuple): value}, read back with prometheus_client's own parser."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def labels(cluster, project=PROJECT):
    return (("cluster", cluster), ("project", project))


def test_in_sync_fleet_exits_0(fleet, sandbox, run_ovhkube):
    result = drift(run_ovhkube, sandbox, fleet)
    assert result.returncode == 0, result.stderr
    assert "In sync: 0 drifted, 0 missing, 0 error(s), 2 in sync." in result.stdout


def test_change_behind_the_back_is_drift_naming_the_field_and_drift_changes_nothing(fleet, sandbox, run_ovhkube):
    change_behind_the_back(sandbox, kubeProxy={"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT45S"}})
    before = sandbox.show()

    result = run_ovhkube("drift", str(fleet), "-v", env=sandbox.env())

    assert result.returncode == 2, result.stderr
    assert 'customization.kubeProxy.iptables.syncPeriod: desired "PT30S", live "PT45S"' in result.stdout
    assert "web (" in result.stdout and "batch (" not in result.stdout
    assert sandbox.show() == before  # same settings, statuses, timestamps and reset counts
    methods = {line.split()[1] for line in result.stderr.splitlines() if line.startswith("api: ")}
    assert methods == {"GET"}


def test_unreachable_api_is_said_once_and_exit_1(fleet, run_ovhkube, sandbox):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    # The first call gives up after 1 s instead of 10: the test is about what is said, not about the wait.
    env = sandbox.env(OVH_ENDPOINT=f"http://127.0.0.1:{closed_port}/1.0", OVHKUBE_CLOCK_BUDGET_SECONDS="1")

    result = run_ovhkube("drift", str(fleet), env=env, timeout=150)

    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("retrying for up to 1 s: GET /auth/time")  # said once, while it retries
    assert len(lines) == 2 and lines[1].startswith("error: ") and "no answer from the API" in lines[1]


def test_unmanaged_lists_the_stray_cluster_only_when_asked(fleet, sandbox, run_ovhkube):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [WEB, BATCH, STRAY]}]})

    plain = drift(run_ovhkube, sandbox, fleet)
    assert plain.returncode == 0, plain.stderr
    assert "stray" not in plain.stdout

    result = drift(run_ovhkube, sandbox, fleet, "--unmanaged")
    assert result.returncode == 2, result.stderr
    assert f"? stray ({PROJECT}/{STRAY_ID}) is not declared in any file" in result.stdout

    _, report = drift_json(run_ovhkube, sandbox, fleet, "--unmanaged")
    assert report["summary"]["unmanaged"] == 1
    assert [(u["name"], u["id"], u["region"]) for u in report["unmanaged"]] == [("stray", STRAY_ID, "SBG5")]


def line_of(path, text: str, after: str = "") -> int:
    """The 1-based line of the first `text` in the file (after the first `after`): where drift says to edit."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


def test_json_reports_each_cluster_state_with_desired_and_live(fleet, sandbox, run_ovhkube):
    off = {"enabled": ["NodeRestriction"], "disabled": ["AlwaysPullImages"]}
    change_behind_the_back(sandbox, apiServer={"admissionPlugins": off})
    fleet.write_text(FILES + MISSING_CLUSTER)

    result, report = drift_json(run_ovhkube, sandbox, fleet)

    assert result.returncode == 2, result.stderr
    clusters = by_name(report)
    assert {name: c["state"] for name, c in clusters.items()} == {
        "web": "drifted",
        "batch": "in_sync",
        "analytics": "missing",
    }
    assert clusters["web"]["fields"] == [
        {
            "path": "customization.apiServer.admissionPlugins.disabled",
            "desired": [],  # not written: each plugin's state, the API's default for what the file leaves out
            "live": ["AlwaysPullImages"],
            "source": f"{fleet}:{line_of(fleet, 'admissionPlugins')}",  # the nearest line that writes it
            "defaults": None,
        },
        {
            "path": "customization.apiServer.admissionPlugins.enabled",
            "desired": ["AlwaysPullImages", "NodeRestriction"],
            "live": ["NodeRestriction"],
            "source": f"{fleet}:{line_of(fleet, 'enabled: [AlwaysPullImages, NodeRestriction]')}",
            "defaults": None,
        },
    ]
    assert clusters["web"]["id"] == WEB_ID and clusters["web"]["status"] == "READY"
    assert clusters["web"]["checked_at"] == report["checked_at"]
    assert report["summary"] == {"in_sync": 1, "drifted": 1, "missing": 1, "error": 0, "unmanaged": None}


def test_unreadable_cluster_is_an_error_not_drift_and_the_report_still_shows_the_drift(fleet, sandbox, run_ovhkube):
    change_behind_the_back(sandbox, kubeProxy={"iptables": {"syncPeriod": "PT45S"}})
    fleet.write_text(FILES + UNREADABLE_CLUSTER)

    result, report = drift_json(run_ovhkube, sandbox, fleet)

    assert result.returncode == 1
    clusters = by_name(report)
    assert clusters["elsewhere"]["state"] == "error"
    assert ABSENT_PROJECT in clusters["elsewhere"]["error"]
    assert clusters["web"]["state"] == "drifted"


def test_prometheus_output_parses_and_carries_the_values(fleet, sandbox, run_ovhkube):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [WEB, BATCH, STRAY]}]})
    change_behind_the_back(sandbox, kubeProxy={"iptables": {"syncPeriod": "PT45S"}})
    fleet.write_text(FILES + MISSING_CLUSTER + UNREADABLE_CLUSTER)
    started = time.time()

    result = drift(run_ovhkube, sandbox, fleet, "--format", "prometheus", "--unmanaged")

    assert result.returncode == 1, result.stderr  # an error outranks drift, and the metrics still come out whole
    found = metrics(result.stdout)
    assert found[("ovhkube_cluster_drift", labels("web"))] == 1
    assert found[("ovhkube_cluster_drift", labels("batch"))] == 0
    assert found[("ovhkube_cluster_drift", labels("analytics"))] == 1
    assert found[("ovhkube_cluster_read_error", labels("web"))] == 0
    assert found[("ovhkube_cluster_read_error", labels("elsewhere", ABSENT_PROJECT))] == 1
    assert ("ovhkube_cluster_drift", labels("elsewhere", ABSENT_PROJECT)) not in found  # unknown, not "in sync"
    assert found[("ovhkube_unmanaged_clusters", (("project", PROJECT),))] == 1
    assert found[("ovhkube_cluster_ready", labels("web"))] == 1
    assert started - 1 <= found[("ovhkube_drift_check_timestamp_seconds", ())] <= time.time() + 1
    assert "# TYPE ovhkube_cluster_drift gauge" in result.stdout


def test_markdown_starts_with_the_same_title_whether_or_not_anything_drifted(fleet, sandbox, run_ovhkube):
    in_sync = drift(run_ovhkube, sandbox, fleet, "--format", "markdown")
    change_behind_the_back(sandbox, kubeProxy={"iptables": {"syncPeriod": "PT45S"}})
    drifted = drift(run_ovhkube, sandbox, fleet, "--format", "markdown")

    assert (in_sync.returncode, drifted.returncode) == (0, 2)
    assert in_sync.stdout.splitlines()[0] == drifted.stdout.splitlines()[0] == "# ovhkube drift report"
    assert "| `web` | `" + PROJECT + "` | **drifted** | READY |" in drifted.stdout
    assert '| `customization.kubeProxy.iptables.syncPeriod` | `"PT30S"` | `"PT45S"` |' in drifted.stdout


def test_a_cluster_that_is_not_ready_is_reported_with_its_status(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(transition_seconds=3600)
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [WEB | {"status": "REDEPLOYING"}, BATCH]}]})
    path = tmp_path / "clusters.yaml"
    path.write_text(FILES)

    text = drift(run_ovhkube, sandbox, path)
    _, report = drift_json(run_ovhkube, sandbox, path)
    prometheus = metrics(drift(run_ovhkube, sandbox, path, "--format", "prometheus").stdout)

    assert text.returncode == 0, text.stderr  # in sync, only busy
    assert "status: REDEPLOYING (not READY)" in text.stdout
    assert by_name(report)["web"]["status"] == "REDEPLOYING"
    assert prometheus[("ovhkube_cluster_ready", labels("web"))] == 0


def test_a_mode_change_the_file_does_not_allow_a_reset_for_is_still_drift(fleet, sandbox, run_ovhkube):
    fleet.write_text(FILES.replace("kubeProxyMode: ipvs", "kubeProxyMode: iptables"))

    result, report = drift_json(run_ovhkube, sandbox, fleet)

    assert result.returncode == 2, result.stderr
    batch = by_name(report)["batch"]
    assert batch["state"] == "drifted"
    mode_line = line_of(fleet, "kubeProxyMode: iptables", after="name: batch")
    source = f"{fleet}:{mode_line}"
    assert {"path": "kubeProxyMode", "desired": "iptables", "live": "ipvs", "source": source, "defaults": None} in (
        batch["fields"]
    )
    assert "allowReset" in batch["note"]


def test_out_writes_the_report_file_whole_and_prints_only_a_summary(fleet, sandbox, run_ovhkube, tmp_path):
    change_behind_the_back(sandbox, kubeProxy={"iptables": {"syncPeriod": "PT45S"}})
    folder = tmp_path / "textfile"
    folder.mkdir()
    target = folder / "ovhkube.prom"

    result = drift(run_ovhkube, sandbox, fleet, "--format", "prometheus", "--out", target)

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "1 drifted" in result.stderr
    assert metrics(target.read_text())[("ovhkube_cluster_drift", labels("web"))] == 1
    assert [p.name for p in folder.iterdir()] == ["ovhkube.prom"]  # no temporary file left behind
    assert oct(target.stat().st_mode & 0o044) == oct(0o044)  # node_exporter, another user, can read it


def test_target_checks_only_the_named_cluster(fleet, sandbox, run_ovhkube):
    change_behind_the_back(sandbox, kubeProxy={"iptables": {"syncPeriod": "PT45S"}})

    only_batch, report = drift_json(run_ovhkube, sandbox, fleet, "--target", "batch")

    assert only_batch.returncode == 0, only_batch.stderr
    assert [c["name"] for c in report["clusters"]] == ["batch"]


def test_a_suspended_cluster_that_differs_is_drift_with_the_reason(sandbox, run_ovhkube, tmp_path):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [WEB | {"status": "SUSPENDED"}, BATCH]}]})
    path = tmp_path / "clusters.yaml"
    path.write_text(FILES.replace("syncPeriod: PT30S}", "syncPeriod: PT45S}"))

    result, report = drift_json(run_ovhkube, sandbox, path)

    assert result.returncode == 2, result.stderr
    web = by_name(report)["web"]
    assert (web["state"], web["status"]) == ("drifted", "SUSPENDED")
    assert "will not become READY by itself" in web["note"]


def test_a_cluster_in_another_region_is_an_error_not_drift(fleet, sandbox, run_ovhkube):
    fleet.write_text(FILES.replace("region: GRA5", "region: BHS5").replace("syncPeriod: PT60S", "syncPeriod: PT90S"))

    result, report = drift_json(run_ovhkube, sandbox, fleet)

    assert result.returncode == 1, result.stderr
    batch = by_name(report)["batch"]
    assert batch["state"] == "error"
    # Where to edit: the line of batch's region in the file (its document is the last one).
    lines = fleet.read_text().splitlines()
    region_line = max(n for n, line in enumerate(lines, 1) if line == "  region: BHS5")
    assert batch["error"].startswith(f"{fleet}:{region_line}") and "is BHS5 but the cluster is in" in batch["error"]


def test_every_error_reason_of_the_plan_has_a_drift_state():
    from reconciler.drift.report import STATE_OF_REASON
    from reconciler.model import ErrorReason

    assert set(STATE_OF_REASON) == set(ErrorReason) and set(STATE_OF_REASON.values()) <= {"drifted", "error"}


def test_markdown_report_stays_under_the_size_limit_however_many_clusters_drifted():
    from reconciler.drift.report import ClusterDrift, DriftedField, DriftReport, DriftState, render_markdown

    drifted = [
        ClusterDrift(
            PROJECT,
            f"c{i:04d}",
            f"fleet.yaml:{i}",
            DriftState.DRIFTED,
            fields=[DriftedField("customization.kubeProxy.iptables.syncPeriod", "PT60S", "PT30S")],
        )
        for i in range(2000)
    ]
    text = render_markdown(DriftReport(drifted, "ovh-eu"))
    assert len(text) <= 65_536
    assert text.startswith("# ovhkube drift report\n") and "| `c0000` |" in text
    assert text.count("more cluster(s) not shown") == 1
