"""Deletes as reviewed changes (spec.delete: true, gated by lifecycle.allowDelete), end to end through the CLI against
the sandbox over HTTP, with the lossy gateway where an answer is lost."""

import json
import signal
import subprocess
import sys
import time

import yaml

from tests.apply_helpers import (
    IPTABLES_60S,
    PROJECT,
    apply_json,
    cluster_id,
    clusters_by_name,
    live,
    seed,
    wanted,
    write_fleet,
)

CLUSTER = f"/kube/{cluster_id(1)}"


def doomed(name: str, allow: bool = True) -> dict:
    document = wanted(name)
    document["spec"]["delete"] = True
    if allow:
        document["spec"]["lifecycle"] = {"allowDelete": True}
    return document


def deletes(requests: list[dict]) -> list[str]:
    return [r["path"] for r in requests if r["method"] == "DELETE"]


def test_a_delete_without_allow_delete_is_an_error_and_drift_reports_the_cluster(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "legacy"))
    fleet = write_fleet(tmp_path, doomed("legacy", allow=False))
    plan = run_ovhkube("plan", fleet, env=sandbox.env())
    assert plan.returncode == 1
    assert f"{fleet}:8: spec.delete: true deletes the cluster" in plan.stdout  # the line of `delete: true`
    assert "set spec.lifecycle.allowDelete: true to allow it" in plan.stdout
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", "--skip-errors")
    assert "legacy" in clusters_by_name(sandbox) and not deletes(sandbox.requests())
    drift = run_ovhkube("drift", fleet, "--format", "json", env=sandbox.env())
    assert drift.returncode == 2, drift.stderr
    [entry] = json.loads(drift.stdout)["clusters"]
    assert entry["state"] == "drifted" and "spec.delete: true" in entry["note"]


def test_a_delete_is_shouted_read_first_counted_applied_and_leaves_no_cluster(tmp_path, sandbox_factory, run_ovhkube):
    sandbox = sandbox_factory(transition_seconds=1.5)
    seed(sandbox, live(1, "legacy"), live(2, "web"), live(3, "not-in-any-file"))
    fleet = write_fleet(tmp_path, wanted("web", kubeProxy=IPTABLES_60S), doomed("legacy"))
    plan = run_ovhkube("plan", fleet, env=sandbox.env())
    assert plan.returncode == 0, plan.stderr
    text = plan.stdout
    assert "will be DELETED" in text and "!!! THE CLUSTER WILL BE DELETED" in text
    assert text.index("legacy") < text.index("# web")  # read first, before the update written before it
    assert "Plan: 0 to create, 1 to update, 0 to upgrade, 0 to reset, 1 to delete." in text
    markdown = run_ovhkube("plan", fleet, "--format", "markdown", env=sandbox.env()).stdout
    assert "**1 cluster(s) will be DELETED, with ALL KUBERNETES DATA.**" in markdown
    entry = next(
        c
        for c in json.loads(run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env()).stdout)["changes"]
        if c["action"] == "delete"
    )
    assert entry["requests"] == [
        {"kind": "delete", "method": "DELETE", "path": f"/cloud/project/{PROJECT}{CLUSTER}", "body": None}
    ]

    sandbox.forget_requests()
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")
    assert result.returncode == 0, result.stderr + result.stdout
    assert account["summary"]["deleted"] == 1
    assert deletes(sandbox.requests()) == [f"/cloud/project/{PROJECT}{CLUSTER}"]
    statuses = [r["status"] for r in sandbox.requests() if r["method"] == "GET" and r["path"].endswith(CLUSTER)]
    assert 200 in statuses and statuses[-1] == 404  # DELETING, then gone
    assert "DELETING" in result.stderr
    assert set(clusters_by_name(sandbox)) == {"web", "not-in-any-file"}  # a cluster no file names is never deleted

    again = run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env())
    assert again.returncode == 0, again.stdout + again.stderr
    assert "spec.delete: true and the cluster does not exist: the document can be removed" in again.stdout
    assert run_ovhkube("drift", fleet, env=sandbox.env()).returncode == 0


def test_a_lost_answer_to_the_delete_is_read_back_never_sent_again(
    tmp_path, sandbox_factory, through_gateway, run_ovhkube
):
    sandbox = sandbox_factory(transition_seconds=1)
    seed(sandbox, live(1, "legacy"))
    gateway, env = through_gateway(sandbox, {("DELETE", CLUSTER): ["after"]})
    fleet = write_fleet(tmp_path, doomed("legacy"))
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert gateway.count("DELETE", CLUSTER) == 1
    assert "the delete went through: following it, not sending it again" in result.stderr
    assert clusters_by_name(sandbox) == {}


def test_a_delete_lost_before_the_api_fails_the_cluster_and_is_not_sent_again(
    tmp_path, sandbox, through_gateway, run_ovhkube
):
    seed(sandbox, live(1, "legacy"))
    gateway, env = through_gateway(sandbox, {("DELETE", CLUSTER): ["before", "before"]})
    result, account = apply_json(
        run_ovhkube, sandbox, write_fleet(tmp_path, doomed("legacy")), "--auto-approve", env=env
    )
    assert result.returncode == 1
    [outcome] = account["clusters"]
    assert "it was not sent again (a delete is never sent on a guess)" in outcome["reason"]
    assert gateway.count("DELETE", CLUSTER) == 0 and len(gateway.lost) == 1
    assert "legacy" in clusters_by_name(sandbox)


def test_a_saved_delete_is_checked_and_a_cluster_gone_since_is_done_elsewhere(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "legacy"), live(2, "other"))
    saved = tmp_path / "plan.json"
    assert (
        run_ovhkube("plan", write_fleet(tmp_path, doomed("legacy")), "--out", saved, env=sandbox.env()).returncode == 0
    )
    data = json.loads(saved.read_text())
    data["changes"][0]["requests"][0]["path"] = f"/cloud/project/{PROJECT}/kube/{cluster_id(2)}"  # another cluster
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data, indent=2))
    result = run_ovhkube("apply", "--plan", edited, env=sandbox.env())
    assert result.returncode == 1 and "its requests are not the ones its delete entry makes" in result.stderr
    assert set(clusters_by_name(sandbox)) == {"legacy", "other"}

    sandbox.client().delete(f"/cloud/project/{PROJECT}{CLUSTER}")  # deleted behind ovhkube's back
    result, account = apply_json(run_ovhkube, sandbox, "--plan", saved)
    assert result.returncode == 0, result.stderr + result.stdout
    assert account["clusters"][0]["result"] == "done_elsewhere"
    assert set(clusters_by_name(sandbox)) == {"other"}


def test_delete_is_refused_in_cluster_defaults(tmp_path, run_ovhkube):
    defaults = {
        "apiVersion": "ovhkube/v1",
        "kind": "ClusterDefaults",
        "metadata": {"name": "all"},
        "selector": {"projects": [PROJECT]},
        "spec": {"delete": True, "lifecycle": {"allowDelete": True}},
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump_all([defaults, wanted("web")], sort_keys=False))
    result = run_ovhkube("validate", path)
    assert result.returncode == 1
    assert "spec.delete" in result.stdout and "spec.lifecycle.allowDelete" in result.stdout, result.stdout


def test_a_signal_while_waiting_for_the_cluster_to_be_gone_stops_within_a_second(tmp_path, sandbox_factory):
    sandbox = sandbox_factory(transition_seconds=60)  # DELETING for a minute
    seed(sandbox, live(1, "legacy"))
    fleet = write_fleet(tmp_path, doomed("legacy"))
    line = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "apply", fleet]
    process = subprocess.Popen(
        [*line, "--auto-approve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sandbox.env()
    )
    deadline = time.monotonic() + 30
    while not deletes(sandbox.requests()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # in the wait now
    process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    stdout, stderr = process.communicate(timeout=10)
    assert time.monotonic() - signalled < 1.5
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr and len(deletes(sandbox.requests())) == 1


def test_a_delete_in_a_rollout_wave_passes_its_gate_and_the_next_wave_goes_on(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "legacy"), live(2, "web"))
    rollout = {
        "apiVersion": "ovhkube/v1",
        "kind": "Rollout",
        "metadata": {"name": "fleet"},
        "spec": {
            "waves": [
                {"name": "first", "selector": {"names": ["legacy"]}, "maxInFlight": 1},
                {"name": "rest", "selector": {}, "maxInFlight": 1},
            ],
            "gate": {"timeout": "PT5S"},
        },
    }
    fleet = write_fleet(tmp_path, doomed("legacy"), wanted("web", kubeProxy=IPTABLES_60S), rollout)
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")
    assert result.returncode == 0, result.stderr + result.stdout
    assert {c["cluster"]["name"]: c["result"] for c in account["clusters"]} == {"legacy": "done", "web": "done"}
    assert set(clusters_by_name(sandbox)) == {"web"}
