"""ClusterDefaults end to end: the real CLI and ovh client against the sandbox over HTTP. A defaults change plans
updates for exactly the clusters it selects, shows where every changed value is written, and counts its blast
radius; conflicts and permissions in defaults stop the command before any API call."""

import json

import pytest
import yaml

PROJECT = "0123456789abcdef0123456789abcdef"
NAMES = ("web-prod", "api-prod", "own-prod", "web-staging")


def live(index: int, name: str) -> dict:
    return {
        "id": f"6f3c1a52-1111-4c1e-9a55-{index:012d}",
        "name": name,
        "region": "GRA5",
        "version": "1.31",
        "kubeProxyMode": "iptables",
        "status": "READY",
        "customization": {"kubeProxy": {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S"}}},
    }


DEFAULTS = f"""\
# yaml-language-server: $schema=../schemas/cluster.schema.json
apiVersion: ovhkube/v1
kind: ClusterDefaults
metadata:
  name: prod
selector:
  projects: [{PROJECT}]
  matchLabels: {{env: prod}}
spec:
  kubeProxyMode: iptables
  customization:
    kubeProxy:
      iptables:
        minSyncPeriod: PT1S
        syncPeriod: PT45S
"""
SYNC_LINE = 15  # of syncPeriod in DEFAULTS


def cluster(name: str, env: str, own: str = "") -> str:
    return (
        f"apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: {name}\n  labels: {{env: {env}}}\n"
        f"spec:\n  project: {PROJECT}\n  region: GRA5\n{own}"
    )


OWN_PERIOD = "  customization:\n    kubeProxy:\n      iptables: {syncPeriod: PT30S}\n"


@pytest.fixture
def fleet(sandbox, tmp_path):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [live(i, n) for i, n in enumerate(NAMES)]}]})
    folder = tmp_path / "fleet"
    folder.mkdir()
    (folder / "defaults.yaml").write_text(DEFAULTS)
    documents = [
        cluster("web-prod", "prod"),
        cluster("api-prod", "prod"),
        cluster("own-prod", "prod", OWN_PERIOD),  # its own syncPeriod wins over the defaults'
        cluster("web-staging", "staging"),
    ]
    (folder / "clusters.yaml").write_text("---\n".join(documents))
    return folder


def plan(run_ovhkube, sandbox, *args):
    return run_ovhkube("plan", *map(str, args), env=sandbox.env())


def test_a_defaults_change_plans_updates_for_every_selected_cluster_and_only_those(fleet, sandbox, run_ovhkube):
    before = sandbox.show()
    result = plan(run_ovhkube, sandbox, fleet, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    actions = {c["cluster"]["name"]: c["action"] for c in document["changes"]}
    assert actions == {"web-prod": "update", "api-prod": "update", "own-prod": "noop", "web-staging": "noop"}
    defaults_file = str(fleet / "defaults.yaml")
    for change in document["changes"]:
        if change["action"] == "update":
            assert change["diff"] == [
                {
                    "path": "customization.kubeProxy.iptables.syncPeriod",
                    "before": "PT30S",
                    "after": "PT45S",
                    "source": f"{defaults_file}:{SYNC_LINE}",
                    "defaults": "prod",
                }
            ]
            body = change["requests"][0]["body"]
            assert body["kubeProxy"] == {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT45S"}}
            assert set(body) == {"apiServer", "kubeProxy"}  # apiServer as read: not managed, never wiped
    assert document["defaults"] == [{"name": "prod", "source": f"{defaults_file}:2", "selected": 3, "changed": 2}]
    assert sandbox.show() == before


def test_the_text_and_markdown_plans_show_where_each_change_is_written_and_the_blast_radius(
    fleet, sandbox, run_ovhkube
):
    origin = f'{fleet / "defaults.yaml"}:{SYNC_LINE} (ClusterDefaults "prod")'
    text = plan(run_ovhkube, sandbox, fleet)
    assert text.returncode == 0, text.stderr
    assert f'~ customization.kubeProxy.iptables.syncPeriod: "PT30S" -> "PT45S"  # {origin}' in text.stdout
    # The same change to both clusters it selects: one group naming them (issue 22), the line said once.
    assert text.stdout.count(origin) == 1 and "# 2 clusters will be updated in place" in text.stdout
    assert "web-prod, api-prod" in text.stdout
    assert text.stdout.rstrip().splitlines()[-1] == (
        f'ClusterDefaults "prod" ({fleet / "defaults.yaml"}:2): changes 2 of the 3 planned cluster(s) it selects'
    )
    markdown = plan(run_ovhkube, sandbox, fleet, "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert f"| `prod` | `{fleet / 'defaults.yaml'}:2` | 3 | **2** |" in markdown.stdout
    assert markdown.stdout.count(f"# {origin}") == 1 and "<b>2 clusters</b>" in markdown.stdout


def test_drift_says_which_file_to_edit(fleet, sandbox, run_ovhkube):
    result = run_ovhkube("drift", str(fleet), env=sandbox.env())
    assert result.returncode == 2, result.stderr
    line = (
        'customization.kubeProxy.iptables.syncPeriod: desired "PT45S", live "PT30S"; '
        f'edit {fleet / "defaults.yaml"}:{SYNC_LINE} (ClusterDefaults "prod")'
    )
    assert result.stdout.count(line) == 2
    report = json.loads(run_ovhkube("drift", str(fleet), "--format", "json", env=sandbox.env()).stdout)
    drifted = {c["name"]: c["fields"] for c in report["clusters"] if c["state"] == "drifted"}
    assert sorted(drifted) == ["api-prod", "web-prod"]
    assert drifted["web-prod"][0]["source"] == f"{fleet / 'defaults.yaml'}:{SYNC_LINE}"


def test_a_clusters_own_value_shows_its_own_line(fleet, sandbox, run_ovhkube):
    (fleet / "clusters.yaml").write_text(
        (fleet / "clusters.yaml").read_text().replace("iptables: {syncPeriod: PT30S}", "iptables: {syncPeriod: PT50S}")
    )
    document = json.loads(plan(run_ovhkube, sandbox, fleet, "--format", "json").stdout)
    (own,) = [c for c in document["changes"] if c["cluster"]["name"] == "own-prod"]
    assert own["action"] == "update"
    assert [(d["after"], d["source"], d["defaults"]) for d in own["diff"]] == [
        ("PT50S", f"{fleet / 'clusters.yaml'}:29", None)
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "apiVersion: ovhkube/v1\nkind: ClusterDefaults\nmetadata:\n  name: fast\nselector: {names: [web-*]}\n"
            "spec:\n  customization:\n    kubeProxy:\n      iptables: {syncPeriod: PT20S}\n",
            ':9:30: spec.customization.kubeProxy.iptables.syncPeriod: conflicts with ClusterDefaults "prod" at '
            "{defaults}:" + str(SYNC_LINE) + ', which sets it to "PT45S"; both select cluster web-prod.',
        ),
        (
            "apiVersion: ovhkube/v1\nkind: ClusterDefaults\nmetadata:\n  name: risky\nselector: {}\n"
            "spec:\n  lifecycle:\n    allowReset: true\n",
            ":8:5: spec.lifecycle.allowReset: a permission is refused in ClusterDefaults",
        ),
    ],
)
def test_conflicts_and_permissions_in_defaults_stop_the_plan_before_any_api_call(
    fleet, sandbox, run_ovhkube, extra, expected
):
    extra_file = fleet / "more.yaml"
    extra_file.write_text(extra)
    env = sandbox.env(OVH_ENDPOINT="http://127.0.0.1:9/1.0")  # nothing listens: an API call would fail otherwise
    result = run_ovhkube("plan", str(fleet), env=env)
    assert result.returncode == 1
    assert f"{extra_file}{expected.format(defaults=fleet / 'defaults.yaml')}" in result.stderr
    assert "Traceback" not in result.stderr


def comparable(plan_document: dict) -> list:
    """What a plan does, whatever file each value is written in."""
    return [
        (
            c["cluster"],
            c["action"],
            [(d["path"], d["before"], d["after"]) for d in c["diff"]],
            c["requests"],
            c["live_fingerprint"],
        )
        for c in plan_document["changes"]
    ]


def test_render_prints_documents_that_validate_and_plan_exactly_as_the_fleet(fleet, sandbox, run_ovhkube, tmp_path):
    rendered = run_ovhkube("render", str(fleet), env=sandbox.env(OVH_ENDPOINT="http://127.0.0.1:9/1.0"))
    assert rendered.returncode == 0, rendered.stderr
    assert f'syncPeriod: "PT45S"  # {fleet / "defaults.yaml"}:{SYNC_LINE} (ClusterDefaults "prod")' in rendered.stdout
    assert f'syncPeriod: "PT30S"  # {fleet / "clusters.yaml"}:29' in rendered.stdout  # own-prod's own value
    out = tmp_path / "rendered" / "all.yaml"
    out.parent.mkdir()
    out.write_text(rendered.stdout)
    validated = run_ovhkube("validate", str(out))
    assert validated.returncode == 0 and "4 clusters: valid" in validated.stdout, validated.stdout
    original = json.loads(plan(run_ovhkube, sandbox, fleet, "--format", "json").stdout)
    again = json.loads(plan(run_ovhkube, sandbox, out, "--format", "json").stdout)
    assert comparable(again) == comparable(original)
    assert [c["action"] for c in again["changes"]] == ["update", "update", "noop", "noop"]
    assert again["defaults"] == [] and all(
        d["source"].startswith(f"{out}:") for c in again["changes"] for d in c["diff"]
    )


def test_render_one_cluster_and_refuse_a_name_that_matches_none(fleet, run_ovhkube):
    one = run_ovhkube("render", str(fleet), "--cluster", f"{PROJECT}/api-prod")
    assert one.returncode == 0, one.stderr
    assert one.stdout.count("kind: Cluster") == 1 and 'name: "api-prod"' in one.stdout
    missing = run_ovhkube("render", str(fleet), "--cluster", "nope", "--cluster", "")
    assert missing.returncode == 1
    assert '--cluster matches no cluster in the files: "", "nope"' in missing.stderr  # an empty name is seen


def test_render_of_an_empty_file_is_an_error_that_does_not_speak_of_the_api(run_ovhkube, tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    result = run_ovhkube("render", str(empty))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "error: 1 problem(s) in the files"  # render never reads the API


def test_render_quotes_label_keys_other_yaml_readers_would_not_read_as_text(run_ovhkube, tmp_path):
    labels = {"2": "x", "1.5": "w", "true": "y", "null": "z", "on": "v", "team": "a"}
    document = {
        "apiVersion": "ovhkube/v1",
        "kind": "Cluster",
        "metadata": {"name": "lab", "labels": labels},
        "spec": {"project": PROJECT, "region": "GRA5"},
    }
    path = tmp_path / "lab.yaml"
    path.write_text(json.dumps(document))
    result = run_ovhkube("render", str(path))
    assert result.returncode == 0, result.stderr
    # PyYAML reads YAML 1.1, where a plain on, true, null or 2 is no string: each key must come back as written.
    assert yaml.safe_load(result.stdout)["metadata"]["labels"] == labels
    assert " team: " in result.stdout and '"team"' not in result.stdout  # an ordinary key stays plain


def test_export_with_defaults_factors_what_every_cluster_shares_and_still_plans_no_changes(
    sandbox, run_ovhkube, tmp_path
):
    clusters = [live(index, name) for index, name in enumerate(("a", "b", "c"))]
    clusters[2]["customization"]["kubeProxy"]["iptables"]["syncPeriod"] = "PT1M"  # the one exception
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": clusters}]})
    out = tmp_path / "exported"
    result = run_ovhkube("export", "--project", PROJECT, "--defaults", "--output", str(out), env=sandbox.env())
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.yaml", "b.yaml", "c.yaml", "defaults.yaml"]
    shared = yaml.safe_load((out / "defaults.yaml").read_text())
    assert shared["kind"] == "ClusterDefaults" and shared["selector"] == {"projects": [PROJECT]}
    assert shared["spec"] == {
        "version": "1.31",
        "kubeProxyMode": "iptables",
        "plan": "free",
        "updatePolicy": "ALWAYS_UPDATE",
        "customization": {"kubeProxy": {"iptables": {"minSyncPeriod": "PT1S"}}},
    }
    c = yaml.safe_load((out / "c.yaml").read_text())
    assert c["spec"]["customization"] == {"kubeProxy": {"iptables": {"syncPeriod": "PT60S"}}}  # export writes seconds
    assert c["spec"]["lifecycle"] == {"allowReset": False}  # a permission stays with each cluster
    plan_again = run_ovhkube("plan", str(out), "--detailed-exitcode", env=sandbox.env())
    assert plan_again.returncode == 0, plan_again.stdout + plan_again.stderr
    assert "No changes" in plan_again.stdout


def test_a_one_line_defaults_change_after_an_apply_updates_exactly_the_clusters_it_selects(fleet, sandbox, run_ovhkube):
    applied = run_ovhkube("apply", str(fleet), "--auto-approve", env=sandbox.env())
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert plan(run_ovhkube, sandbox, fleet, "--detailed-exitcode").returncode == 0  # in sync
    defaults_file = fleet / "defaults.yaml"
    defaults_file.write_text(defaults_file.read_text().replace("syncPeriod: PT45S", "syncPeriod: PT50S"))
    result = plan(run_ovhkube, sandbox, fleet, "--format", "json", "--detailed-exitcode")
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    changed = {c["cluster"]["name"]: c["diff"] for c in document["changes"] if c["action"] != "noop"}
    assert sorted(changed) == ["api-prod", "web-prod"]  # own-prod keeps its own value; web-staging is not selected
    assert all(
        d["after"] == "PT50S" and d["source"] == f"{defaults_file}:{SYNC_LINE}"
        for diff in changed.values()
        for d in diff
    )
    assert document["defaults"][0]["changed"] == 2


ACCESS = """\
apiVersion: ovhkube/v1
kind: ClusterDefaults
metadata:
  name: access
selector:
  matchLabels: {env: prod}
spec:
  updatePolicy: MINIMAL_DOWNTIME
  ipRestrictions: [203.0.113.0/24]
"""


def test_control_plane_settings_come_from_defaults_like_any_other(fleet, sandbox, run_ovhkube):
    (fleet / "access.yaml").write_text(ACCESS)
    clusters_file = fleet / "clusters.yaml"
    own = "iptables: {syncPeriod: PT30S}\n"
    clusters_file.write_text(clusters_file.read_text().replace(own, own + "  ipRestrictions: []\n"))  # own-prod's own
    result = plan(run_ovhkube, sandbox, fleet, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    diffs = {c["cluster"]["name"]: {d["path"]: d for d in c["diff"]} for c in document["changes"]}
    access = str(fleet / "access.yaml")
    for name in ("web-prod", "api-prod"):
        assert diffs[name]["updatePolicy"]["after"] == "MINIMAL_DOWNTIME"
        assert (diffs[name]["updatePolicy"]["source"], diffs[name]["updatePolicy"]["defaults"]) == (
            f"{access}:8",
            "access",
        )
        assert diffs[name]["ipRestrictions"]["after"] == ["203.0.113.0/24"]
        assert diffs[name]["ipRestrictions"]["source"] == f"{access}:9"
    assert "ipRestrictions" not in diffs["own-prod"] and diffs["own-prod"]["updatePolicy"]["defaults"] == "access"
    assert diffs["web-staging"] == {}
    impact = {entry["name"]: (entry["selected"], entry["changed"]) for entry in document["defaults"]}
    assert impact == {"prod": (3, 2), "access": (3, 3)}


def test_a_control_plane_meaning_rule_in_defaults_points_at_the_defaults_line(fleet, run_ovhkube):
    (fleet / "access.yaml").write_text(ACCESS.replace("203.0.113.0/24", "203.0.113.7/24"))
    result = run_ovhkube("validate", str(fleet))
    assert result.returncode == 1
    assert (
        f"{fleet / 'access.yaml'}:9:" in result.stdout and "spec.ipRestrictions[0]: has host bits set" in result.stdout
    )
    assert "(in the effective settings of clusters web-prod, api-prod, own-prod)" in result.stdout


def test_a_saved_plan_keeps_the_sources_and_applies_as_reviewed(fleet, sandbox, run_ovhkube, tmp_path):
    saved = tmp_path / "plan.json"
    assert plan(run_ovhkube, sandbox, fleet, "--out", saved).returncode == 0
    shown = run_ovhkube("show", str(saved))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count(f'# {fleet / "defaults.yaml"}:{SYNC_LINE} (ClusterDefaults "prod")') == 1  # grouped
    assert 'ClusterDefaults "prod"' in shown.stdout.splitlines()[-1]
    applied = run_ovhkube("apply", "--plan", str(saved), env=sandbox.env())
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert plan(run_ovhkube, sandbox, fleet, "--detailed-exitcode").returncode == 0


def test_defaults_given_alone_are_one_error_not_also_a_warning_per_selector(run_ovhkube, tmp_path):
    alone = tmp_path / "defaults.yaml"
    alone.write_text(
        "apiVersion: ovhkube/v1\nkind: ClusterDefaults\nmetadata: {name: prod}\nselector: {matchLabels: {env: prod}}\n"
        "spec: {customization: {kubeProxy: {iptables: {syncPeriod: PT40S}}}}\n"
    )
    result = run_ovhkube("validate", str(alone))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{alone}: no Cluster documents, only ClusterDefaults: defaults apply to the cluster documents given with "
        "them; give the files or folder that hold both",
        "1 error in 1 file",
    ]
