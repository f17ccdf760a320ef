"""`ovhkube plan` end to end: the real ovh client against the sandbox over HTTP."""

import gc
import json
import textwrap

import pytest

from reconciler.plan.data import FORMAT_VERSION

PROJECT = "0123456789abcdef0123456789abcdef"
CLUSTER_ID = "6f3c1a52-1111-4c1e-9a55-000000000001"


def live(name="alpha", **fields):
    cluster = {
        "id": CLUSTER_ID,
        "name": name,
        "region": "GRA5",
        "version": "1.31",
        "kubeProxyMode": "iptables",
        "status": "READY",
        "updatePolicy": "MINIMAL_DOWNTIME",
        "customization": {
            "apiServer": {"admissionPlugins": {"enabled": ["NodeRestriction"], "disabled": []}},
            "kubeProxy": {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S"}},
        },
    }
    cluster.update(fields)
    return cluster


def seed(sandbox, *clusters):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": list(clusters)}]})


def desired(tmp_path, body, name="alpha", filename="clusters.yaml"):
    text = f"""\
        apiVersion: ovhkube/v1
        kind: Cluster
        metadata:
          name: {name}
        spec:
          project: {PROJECT}
    """
    path = tmp_path / filename
    path.write_text(textwrap.dedent(text) + textwrap.indent(textwrap.dedent(body), "  "))
    return path


def plan_json(run_ovhkube, sandbox, *args):
    result = run_ovhkube("plan", *map(str, args), "--format", "json", env=sandbox.env())
    return result, json.loads(result.stdout)


def test_in_sync_cluster_plans_no_changes(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live())
    path = desired(
        tmp_path,
        """\
        region: GRA5
        kubeProxyMode: iptables
        customization:
          kubeProxy:
            iptables: {minSyncPeriod: PT1S, syncPeriod: PT30S}
    """,
    )
    result = run_ovhkube("plan", str(path), "--detailed-exitcode", env=sandbox.env())
    assert result.returncode == 0, result.stderr
    assert "No changes" in result.stdout


def test_same_meaning_written_differently_is_no_change(sandbox, run_ovhkube, tmp_path):
    seed(
        sandbox,
        live(
            kubeProxyMode="ipvs",
            customization={
                "apiServer": {"admissionPlugins": {"enabled": ["NodeRestriction", "AlwaysPullImages"], "disabled": []}},
                "kubeProxy": {
                    "ipvs": {"minSyncPeriod": "P0D", "syncPeriod": "PT1M", "tcpTimeout": "P0D", "scheduler": "rr"}
                },
            },
        ),
    )
    path = desired(
        tmp_path,
        """\
        kubeProxyMode: ipvs
        customization:
          apiServer:
            admissionPlugins: {enabled: [AlwaysPullImages, NodeRestriction], disabled: null}
          kubeProxy:
            ipvs: {minSyncPeriod: PT0S, syncPeriod: PT0H1M0S, scheduler: rr, udpTimeout: PT0S}
    """,
    )
    result = run_ovhkube("plan", str(path), "--detailed-exitcode", env=sandbox.env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_field_update_puts_the_whole_kube_proxy_block_and_the_api_server_as_read(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live())
    path = desired(
        tmp_path,
        """\
        customization:
          kubeProxy:
            iptables: {minSyncPeriod: PT1S, syncPeriod: PT60S}
    """,
    )
    before = sandbox.show()
    result, plan = plan_json(run_ovhkube, sandbox, path)
    assert result.returncode == 0, result.stderr
    [change] = plan["changes"]
    assert change["action"] == "update"
    assert change["diff"] == [
        {
            "path": "customization.kubeProxy.iptables.syncPeriod",
            "before": "PT30S",
            "after": "PT60S",
            "source": f"{path}:9",  # the line of the desired value: where to edit it
            "defaults": None,
        }
    ]
    assert change["requests"] == [
        {
            "kind": "put_customization",
            "method": "PUT",
            "path": f"/cloud/project/{PROJECT}/kube/{CLUSTER_ID}/customization",
            "body": {
                # Not managed, so carried as the API answered it: a PUT that replaced the whole customization
                # would otherwise wipe it.
                "apiServer": {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"], "disabled": []}},
                "kubeProxy": {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT60S"}},
            },
        }
    ]
    assert plan["summary"] == {"create": 0, "update": 1, "upgrade": 0, "reset": 0, "delete": 0, "noop": 0, "error": 0}
    assert sandbox.show() == before, "plan must never change anything"


def test_a_block_the_file_does_not_manage_is_sent_only_as_read(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live())
    path = desired(
        tmp_path,
        """\
        customization:
          kubeProxy: {}
    """,
    )
    _, plan = plan_json(run_ovhkube, sandbox, path)
    [change] = plan["changes"]
    live_api_server = {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"], "disabled": []}}
    assert change["requests"][0]["body"] == {"apiServer": live_api_server, "kubeProxy": {}}
    assert all(entry["path"].startswith("customization.kubeProxy.") for entry in change["diff"])
    assert (
        "customization.kubeProxy.iptables.syncPeriod is removed: kube-proxy falls back to its default (30s)"
        in (change["warnings"])
    )


def test_mode_change_without_allow_reset_is_an_error_naming_the_setting(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(), live(name="beta", id="6f3c1a52-1111-4c1e-9a55-000000000002"))
    path = desired(tmp_path, "kubeProxyMode: ipvs\n")
    other = desired(tmp_path, "customization: {kubeProxy: {iptables: {syncPeriod: PT45S}}}\n", "beta", "beta.yaml")
    result = run_ovhkube("plan", str(path), str(other), env=sandbox.env())
    assert result.returncode == 1
    assert "spec.lifecycle.allowReset: true" in result.stdout
    assert "beta" in result.stdout and "PT45S" in result.stdout, "the rest of the plan still comes out"
    assert "Plan: 0 to create, 1 to update, 0 to upgrade, 0 to reset, 0 to delete." in result.stdout


def test_allowed_mode_change_resets_and_keeps_version_name_policy_and_unmanaged_blocks(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(version="1.32"))
    path = desired(
        tmp_path,
        """\
        kubeProxyMode: ipvs
        customization:
          kubeProxy:
            ipvs: {scheduler: lc}
        lifecycle: {allowReset: true, workerNodesPolicy: reinstall}
    """,
    )
    text = run_ovhkube("plan", str(path), env=sandbox.env()).stdout
    assert "ALL KUBERNETES DATA WILL BE ERASED" in text and "worker nodes will be reinstalled" in text
    _, plan = plan_json(run_ovhkube, sandbox, path)
    [change] = plan["changes"]
    assert change["action"] == "reset"
    [request] = change["requests"]
    assert request["method"] == "POST" and request["path"].endswith(f"/kube/{CLUSTER_ID}/reset")
    body = request["body"]
    assert body["kubeProxyMode"] == "ipvs"
    # No spec.version: the version is left out, and the reset keeps it (API description).
    assert "version" not in body and body["name"] == "alpha" and body["updatePolicy"] == "MINIMAL_DOWNTIME"
    assert body["workerNodesPolicy"] == "reinstall"
    assert body["customization"] == {  # the live apiServer block as the API answers it: each plugin's state
        "apiServer": {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"], "disabled": []}},
        "kubeProxy": {"ipvs": {"scheduler": "lc"}},
    }
    assert "region" not in body
    assert sandbox.show()["projects"][0]["clusters"][0]["resets"] == 0


def test_absent_cluster_is_created_with_an_explicit_mode(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live())
    path = desired(
        tmp_path,
        """\
        region: GRA7
        version: "1.33"
        kubeProxyMode: iptables
        customization:
          kubeProxy:
            iptables: {syncPeriod: PT30S}
    """,
        name="gamma",
    )
    result, plan = plan_json(run_ovhkube, sandbox, path, "--detailed-exitcode")
    assert result.returncode == 2
    [change] = plan["changes"]
    assert change["action"] == "create"
    assert change["requests"] == [
        {
            "kind": "create",
            "method": "POST",
            "path": f"/cloud/project/{PROJECT}/kube",
            "body": {
                "name": "gamma",
                "region": "GRA7",
                "version": "1.33",
                "kubeProxyMode": "iptables",
                "customization": {"kubeProxy": {"iptables": {"syncPeriod": "PT30S"}}},
            },
        }
    ]


def test_region_mismatch_is_an_error_never_a_create(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live())
    result, plan = plan_json(run_ovhkube, sandbox, desired(tmp_path, "region: BHS5\n"))
    assert result.returncode == 1
    [change] = plan["changes"]
    assert change["action"] == "error" and "BHS5" in change["error"] and "GRA5" in change["error"]
    assert change["reason"] == "region_mismatch" and change["requests"] == []


def test_target_limits_the_plan_and_an_unknown_target_is_an_error(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live())
    desired(tmp_path, "customization: {kubeProxy: {}}\n")
    desired(tmp_path, "region: GRA7\n", name="delta", filename="delta.yaml")
    _, plan = plan_json(run_ovhkube, sandbox, tmp_path, "--target", "delta")
    assert [c["cluster"]["name"] for c in plan["changes"]] == ["delta"]
    result = run_ovhkube("plan", str(tmp_path), "--target", "nope", "--target", " ", env=sandbox.env())
    assert result.returncode == 1 and '--target matches no cluster in the files: "nope", " "' in result.stderr


def test_formats_out_file_and_step_summary(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live())
    path = desired(tmp_path, "customization: {kubeProxy: {iptables: {syncPeriod: PT90S}}}\n")
    out, summary = tmp_path / "plan.json", tmp_path / "summary.md"
    env = {**sandbox.env(), "GITHUB_STEP_SUMMARY": str(summary)}
    text = run_ovhkube("plan", str(path), "--out", str(out), env=env)
    assert '~ customization.kubeProxy.iptables.syncPeriod: "PT30S" -> "PT90S"' in text.stdout
    assert "kube-proxy will be restarted" in text.stdout
    assert text.stdout.rstrip().endswith(
        "Plan: 0 to create, 1 to update, 0 to upgrade, 0 to reset, 0 to delete. (0 unchanged)"
    )
    saved = json.loads(out.read_text())
    assert saved["format_version"] == FORMAT_VERSION and saved["changes"][0]["action"] == "update"
    assert saved["changes"][0]["reason"] is None  # only an error has a reason
    assert saved["changes"][0]["live_fingerprint"].startswith("sha256:")
    assert "### ovhkube plan: 0 to create, 1 to update, 0 to upgrade, 0 to reset, 0 to delete." in summary.read_text()
    markdown = run_ovhkube("plan", str(path), "--format", "markdown", env=sandbox.env()).stdout
    assert "<details>" in markdown and "```diff" in markdown and "PT90S" in markdown


def test_invalid_files_stop_before_any_api_call(sandbox, run_ovhkube, tmp_path):
    path = desired(tmp_path, "kubeProxyMode: nftables\n")
    result = run_ovhkube("plan", str(path), env=sandbox.env())
    assert result.returncode == 1
    assert "clusters.yaml:7:18: spec.kubeProxyMode: must be one of: iptables, ipvs" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("faults", [{"error_rate": 0.3, "random_seed": 7}, {"rate_limit": 20}])
def test_plan_is_the_same_through_faults(sandbox_factory, run_ovhkube, tmp_path, faults):
    clusters = [live(name=f"c{i}", id=f"6f3c1a52-1111-4c1e-9a55-0000000000{i:02d}") for i in range(12)]
    steady, faulty = sandbox_factory(), sandbox_factory(**faults)
    for server in (steady, faulty):
        seed(server, *clusters)
    for i in range(12):
        block = f"{{minSyncPeriod: PT1S, syncPeriod: PT{30 + i % 3}S}}"
        desired(tmp_path, f"customization: {{kubeProxy: {{iptables: {block}}}}}\n", name=f"c{i}", filename=f"c{i}.yaml")
    _, expected = plan_json(run_ovhkube, steady, tmp_path)
    result, got = plan_json(run_ovhkube, faulty, tmp_path)
    assert result.returncode == 0, result.stderr
    assert got["changes"] == expected["changes"]
    assert got["summary"]["update"] == 8


def test_warnings_busy_cluster_ipvs_deprecation_inactive_block(sandbox_factory, run_ovhkube, tmp_path):
    server = sandbox_factory(transition_seconds=600)
    seed(server, live(kubeProxyMode="ipvs", version="1.35", status="UPDATING", customization={}))
    path = desired(
        tmp_path,
        """\
        version: "1.35"
        customization:
          kubeProxy:
            iptables: {syncPeriod: PT30S}
    """,
    )
    _, plan = plan_json(run_ovhkube, server, path)
    [change] = plan["changes"]
    assert change["status"] == "UPDATING"
    assert change["warnings"] == [
        "the cluster is UPDATING, not READY: apply will wait for READY before changing it",
        "IPVS mode is deprecated upstream from Kubernetes 1.35 (KEP-5495) and this cluster runs 1.35.0",
        "kubeProxy.iptables settings are kept but unused: kube-proxy runs in ipvs mode",
    ]


def test_markdown_stays_under_the_comment_limit_and_says_what_it_left_out(sandbox, run_ovhkube, tmp_path):
    from reconciler.plan.data import plan_from_dict
    from reconciler.plan.render import render_markdown

    clusters = [live(name=f"c{i}", id=f"6f3c1a52-1111-4c1e-9a55-0000000000{i:02d}") for i in range(40)]
    seed(sandbox, *clusters)
    for i in range(40):  # each cluster another change: nothing to group (tests/test_fleet_plan.py groups them)
        block = f"customization: {{kubeProxy: {{ipvs: {{syncPeriod: PT{31 + i}S}}}}}}\n"
        desired(tmp_path, block, name=f"c{i}", filename=f"{i}.yaml")
    _, data = plan_json(run_ovhkube, sandbox, tmp_path)
    plan = plan_from_dict(data)
    full = render_markdown(plan)
    assert full.count("<details>") == 40 and "not shown" not in full
    cut = render_markdown(plan, limit=8000)
    assert len(cut) <= 8000 and 0 < cut.count("<details>") < 40
    shown = cut.count("<details>")
    assert f"_{40 - shown} more cluster(s) not shown: the comment would pass its limit of 8,000 characters" in cut
    tiny = render_markdown(plan, limit=2000)
    assert len(tiny) <= 2000 and tiny.startswith("### ovhkube plan: 0 to create, 40 to update")
    assert tiny.count("more cluster(s) not shown") == 1


@pytest.mark.parametrize("status", ["SUSPENDED", "ERROR", "DELETING"])
def test_a_change_to_a_cluster_that_will_not_become_ready_is_an_error(sandbox, run_ovhkube, tmp_path, status):
    seed(sandbox, live(status=status))
    result, plan = plan_json(run_ovhkube, sandbox, desired(tmp_path, "customization: {kubeProxy: {}}\n"))
    assert result.returncode == 1
    [change] = plan["changes"]
    assert change["action"] == "error" and change["reason"] == "not_ready" and change["requests"] == []
    assert change["error"] == (
        f"the cluster is {status}: it will not become READY by itself, so nothing can be applied to it"
    )
    assert change["diff"], "what would change is still shown"


def test_a_spec_id_or_name_that_picks_the_wrong_clusters_names_the_line_to_edit_in_every_format(
    sandbox, run_ovhkube, tmp_path
):
    twin_ids = ["6f3c1a52-1111-4c1e-9a55-000000000002", "6f3c1a52-1111-4c1e-9a55-000000000003"]
    seed(sandbox, live("alpha"), *(live("twin", id=cluster_id) for cluster_id in twin_ids))
    fleet = tmp_path / "fleet.yaml"
    document = "apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: {}\nspec:\n  project: " + PROJECT + "\n"
    fleet.write_text(
        document.format("beta") + f"  id: {CLUSTER_ID}\n---\n"  # line 7: alpha's id
        + document.format("gone") + "  id: 6f3c1a52-1111-4c1e-9a55-000000000009\n---\n"  # line 15: no such id
        + document.format("twin")  # line 20: the name of two clusters
    )  # fmt: skip
    errors = [
        f"{fleet}:7: spec.id {CLUSTER_ID} is the cluster named "
        + '"alpha", not "beta"; to rename it, write metadata.renamedFrom: "alpha"',
        f"{fleet}:15: spec.id 6f3c1a52-1111-4c1e-9a55-000000000009 is not a cluster of project {PROJECT}",
        f'{fleet}:20: metadata.name "twin" is the name of 2 clusters ({", ".join(twin_ids)}): pin spec.id',
    ]

    text = run_ovhkube("plan", str(fleet), env=sandbox.env())
    as_json = run_ovhkube("plan", str(fleet), "--format", "json", env=sandbox.env())
    markdown = run_ovhkube("plan", str(fleet), "--format", "markdown", env=sandbox.env())

    assert (text.returncode, as_json.returncode, markdown.returncode) == (1, 1, 1)
    assert [line.strip() for line in text.stdout.splitlines() if "error: " in line] == [f"error: {e}" for e in errors]
    assert [change["error"] for change in json.loads(as_json.stdout)["changes"]] == errors
    for error in errors:
        assert f"! error: {error}\n" in markdown.stdout


@pytest.mark.parametrize("whole_projects", [False, True])
def test_clusters_planned_while_the_fleet_is_read_get_the_plan_of_the_whole_view(
    sandbox, tmp_path, monkeypatch, whole_projects
):
    """A project's clusters are planned as soon as its listing is in (those needing no other GET), while the other
    projects are read: the entries are those make_plan makes of the whole view, for every kind of entry."""
    from reconciler.commands.connect import open_api
    from reconciler.commands.settings import Settings
    from reconciler.commands.workflow import plan_fleet
    from reconciler.files.validate import load_desired
    from reconciler.plan.planner import make_plan

    other = "fedcba9876543210fedcba9876543210"  # not seeded: its listing is refused, its clusters an error each
    db = live("db", id="6f3c1a52-1111-4c1e-9a55-000000000002", ipRestrictions=["198.51.100.0/24"])
    seed(sandbox, live("web"), db, live("same", id="6f3c1a52-1111-4c1e-9a55-000000000003"))
    desired(tmp_path, "region: GRA5\n", "same", "same.yaml")
    desired(tmp_path, "customization: {kubeProxy: {iptables: {syncPeriod: PT60S}}}\n", "web", "web.yaml")
    desired(tmp_path, "ipRestrictions: [203.0.113.0/24]\n", "db", "db.yaml")  # one more GET: planned after it
    desired(tmp_path, "region: GRA7\nkubeProxyMode: ipvs\n", "fresh", "fresh.yaml")
    away = desired(tmp_path, "region: GRA5\n", "away", "other.yaml")
    away.write_text(away.read_text().replace(PROJECT, other))
    loaded = load_desired([str(tmp_path)])
    assert loaded.ok, [str(p) for p in loaded.problems]
    clusters = loaded.clusters
    for key in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        monkeypatch.setenv(key, sandbox.env()[key])

    with open_api(Settings(endpoint=sandbox.url), read_only=True) as api:
        view, pipelined = plan_fleet(api, clusters, 2, Settings(), whole_projects=whole_projects)

    assert gc.isenabled()  # paused while the fleet was read and planned, and only then
    assert pipelined.changes == make_plan(clusters, view, api.endpoint_label).changes
    actions = {change.cluster.name: str(change.action) for change in pipelined.changes}
    assert actions == {"web": "update", "db": "update", "fresh": "create", "same": "noop", "away": "error"}
