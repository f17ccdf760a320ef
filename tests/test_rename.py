"""Renames as reviewed changes (metadata.renamedFrom), end to end through the CLI against the sandbox over HTTP."""

import json

import yaml

from tests.apply_helpers import (
    PROJECT,
    apply_json,
    cluster_id,
    clusters_by_name,
    live,
    seed,
    wanted,
    write_fleet,
    writes,
)


def renaming(name: str, former: str | None, pin: int | None = None, **spec) -> dict:
    document = wanted(name)
    if former is not None:
        document["metadata"]["renamedFrom"] = former
    if pin is not None:
        document["spec"]["id"] = cluster_id(pin)
    document["spec"].update(spec)
    return document


def test_a_rename_is_planned_applied_in_place_and_keeps_the_id_and_the_update_policy(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "payments-old"), live(2, "other"))
    fleet = write_fleet(tmp_path, renaming("payments", "payments-old"))
    plan = run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env())
    assert plan.returncode == 2, plan.stderr
    assert '~ name: "payments-old" -> "payments"' in plan.stdout
    assert 'renamed from "payments-old" (metadata.renamedFrom) in place (PUT)' in plan.stdout
    assert "Plan: 0 to create, 1 to update" in plan.stdout
    as_json = json.loads(run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env()).stdout)
    entry = as_json["changes"][0]
    assert entry["cluster"]["renamed_from"] == "payments-old" and entry["cluster"]["id"] == cluster_id(1)
    assert entry["requests"] == [
        {
            "kind": "rename",
            "method": "PUT",
            "path": f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}",
            "body": {"name": "payments", "updatePolicy": "MINIMAL_DOWNTIME"},
        }
    ]

    sandbox.forget_requests()
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")
    assert result.returncode == 0, result.stderr + result.stdout
    clusters = clusters_by_name(sandbox)
    assert "payments-old" not in clusters
    assert clusters["payments"]["id"] == cluster_id(1)  # the same cluster: nothing created, nothing deleted
    assert clusters["payments"]["updatePolicy"] == "MINIMAL_DOWNTIME"  # not back to ALWAYS_UPDATE
    assert writes(sandbox) == [("PUT", f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}")]
    assert len(clusters) == 2

    again = run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env())
    assert again.returncode == 0, again.stdout + again.stderr  # the former name is harmless now
    assert 'named "payments" already: metadata.renamedFrom ("payments-old") can be removed' in again.stdout


def test_a_new_name_with_the_id_pinned_is_an_error_that_suggests_renamed_from(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "payments-old"))
    fleet = write_fleet(tmp_path, renaming("payments", None, pin=1))
    plan = run_ovhkube("plan", fleet, env=sandbox.env())
    assert plan.returncode == 1
    assert f'{fleet}:8: spec.id {cluster_id(1)} is the cluster named "payments-old", not "payments"' in plan.stdout
    assert 'to rename it, write metadata.renamedFrom: "payments-old"' in plan.stdout
    assert not writes(sandbox)
    # Written as suggested, with the id still pinned, it plans the rename.
    fleet = write_fleet(tmp_path, renaming("payments", "payments-old", pin=1))
    plan = run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env())
    assert plan.returncode == 2 and '~ name: "payments-old" -> "payments"' in plan.stdout, plan.stdout + plan.stderr


def test_a_rename_and_a_policy_change_put_the_name_with_the_live_policy_then_the_new_policy(
    tmp_path, sandbox, run_ovhkube
):
    seed(sandbox, live(1, "payments-old"))
    fleet = write_fleet(tmp_path, renaming("payments", "payments-old", updatePolicy="NEVER_UPDATE"))
    entry = json.loads(run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env()).stdout)["changes"][0]
    assert [(r["kind"], r["body"]) for r in entry["requests"]] == [
        ("rename", {"name": "payments", "updatePolicy": "MINIMAL_DOWNTIME"}),
        ("update_policy", {"updatePolicy": "NEVER_UPDATE"}),
    ]
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")
    assert result.returncode == 0, result.stderr + result.stdout
    cluster = clusters_by_name(sandbox)["payments"]
    assert (cluster["id"], cluster["updatePolicy"]) == (cluster_id(1), "NEVER_UPDATE")


def test_a_saved_rename_is_applied_and_refused_when_its_policy_is_edited_or_moved(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "payments-old"))
    fleet = write_fleet(tmp_path, renaming("payments", "payments-old"))
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    data = json.loads(saved.read_text())

    edited = tmp_path / "edited.json"
    data["changes"][0]["requests"][0]["body"]["updatePolicy"] = "ALWAYS_UPDATE"
    edited.write_text(json.dumps(data, indent=2))
    result = run_ovhkube("apply", "--plan", edited, env=sandbox.env())
    assert result.returncode == 1 and "updatePolicy" in result.stderr, result.stderr
    data["changes"][0]["requests"][0]["body"]["updatePolicy"] = "MINIMAL_DOWNTIME"
    data["changes"][0]["cluster"]["renamed_from"] = "someone-else"
    edited.write_text(json.dumps(data, indent=2))
    result = run_ovhkube("apply", "--plan", edited, env=sandbox.env())
    assert result.returncode == 1 and "not from cluster.renamed_from to cluster.name" in result.stderr, result.stderr
    assert clusters_by_name(sandbox)["payments-old"]["id"] == cluster_id(1)

    sandbox.client().put(f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}/updatePolicy", updatePolicy="NEVER_UPDATE")
    result = run_ovhkube("apply", "--plan", saved, env=sandbox.env())
    assert result.returncode == 1 and "stale plan" in result.stderr, result.stderr  # the PUT would carry the old one
    sandbox.client().put(f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}/updatePolicy", updatePolicy="MINIMAL_DOWNTIME")
    result = run_ovhkube("apply", "--plan", saved, env=sandbox.env())
    assert result.returncode == 0, result.stderr + result.stdout
    assert clusters_by_name(sandbox)["payments"]["id"] == cluster_id(1)


def test_a_rename_with_a_mode_change_is_carried_by_the_reset_body(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "payments-old"))
    document = renaming("payments", "payments-old", kubeProxyMode="ipvs")
    document["spec"]["lifecycle"] = {"allowReset": True}
    fleet = write_fleet(tmp_path, document)
    entry = json.loads(run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env()).stdout)["changes"][0]
    assert entry["action"] == "reset" and [r["kind"] for r in entry["requests"]] == ["reset"]
    assert entry["requests"][0]["body"]["name"] == "payments"
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")
    assert result.returncode == 0, result.stderr + result.stdout
    cluster = clusters_by_name(sandbox)["payments"]
    assert (cluster["id"], cluster["kubeProxyMode"]) == (cluster_id(1), "ipvs")


def test_no_cluster_under_either_name_is_created_under_the_new_one_with_a_warning(tmp_path, sandbox, run_ovhkube):
    seed(sandbox, live(1, "other"))
    fleet = write_fleet(tmp_path, renaming("payments", "payments-old"))
    plan = run_ovhkube("plan", fleet, env=sandbox.env())
    assert plan.returncode == 0 and "will be created" in plan.stdout
    assert 'no cluster of the project is named "payments" or "payments-old"' in plan.stdout


def test_validate_refuses_a_former_name_that_is_the_name_or_another_documents(tmp_path, run_ovhkube):
    same = renaming("payments", "payments")
    other = wanted("billing")
    twice = renaming("billing-new", "billing")
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump_all([same, other, twice], sort_keys=False))
    result = run_ovhkube("validate", path)
    assert result.returncode == 1
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    assert any(
        line.startswith(f"{path}:5:") and "metadata.renamedFrom: is the cluster's name itself" in line for line in lines
    ), lines
    assert any(
        "metadata.renamedFrom" in line and "declares that name; one cluster, one document" in line for line in lines
    )
