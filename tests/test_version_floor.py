"""spec.version is a floor: a cluster OVHcloud upgraded past its file plans without error (a note), drift reports
`version ahead` (exit 2), no downgrade is ever planned (not even by a reset), and export writes the minor only.

End to end: the CLI in a subprocess, the real ovh client, the sandbox over HTTP.
"""

import json

import yaml
from apply_helpers import PROJECT, apply_json, cluster_id, clusters_by_name, live, seed, write_fleet


def document(name: str, **spec) -> dict:
    return {
        "apiVersion": "ovhkube/v1",
        "kind": "Cluster",
        "metadata": {"name": name},
        "spec": {"project": PROJECT, "region": "GRA5", **spec},
    }


def test_a_file_one_minor_behind_plans_with_a_note_and_never_blocks_the_others(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"version": "1.32"}, live(2, "beta"))
    fleet = write_fleet(
        tmp_path,
        document("alpha", version="1.31", lifecycle={"allowUpgrade": True}),
        document("beta", updatePolicy="ALWAYS_UPDATE"),
    )

    text = run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env())
    as_json = json.loads(run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env()).stdout)

    assert text.returncode == 2, text.stdout + text.stderr  # beta's change; no error
    assert 'note: version ahead: the cluster runs "1.32.3", above spec.version "1.31"' in text.stdout
    assert f"({fleet}:8)" in text.stdout and "update the file to keep it exact" in text.stdout
    alpha, beta = as_json["changes"]
    assert (alpha["action"], alpha["requests"], alpha["error"]) == ("noop", [], None)
    assert alpha["ahead"] == [
        {"path": "version", "before": "1.32.3", "after": "1.31", "source": f"{fleet}:8", "defaults": None}
    ]
    assert beta["action"] == "update"
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert clusters_by_name(sandbox)["alpha"]["version"] == "1.32.3"


def test_drift_says_version_ahead_and_exits_2(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"version": "1.32"})
    fleet = write_fleet(tmp_path, document("alpha", version="1.31"))

    text = run_ovhkube("drift", fleet, env=sandbox.env())
    report = json.loads(run_ovhkube("drift", fleet, "--format", "json", env=sandbox.env()).stdout)

    assert text.returncode == 2, text.stdout + text.stderr
    assert "has drifted from its file" in text.stdout and "version ahead" in text.stdout
    assert 'version: desired "1.31", live "1.32.3"' in text.stdout
    [cluster] = report["clusters"]
    assert cluster["state"] == "drifted" and cluster["error"] is None
    assert cluster["fields"][0] | {"source": None} == {
        "path": "version",
        "desired": "1.31",
        "live": "1.32.3",
        "source": None,
        "defaults": None,
    }
    assert cluster["note"].startswith("version ahead")


def test_a_reset_never_installs_a_minor_below_the_live_one(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"version": "1.32"})
    lifecycle = {"allowReset": True, "workerNodesPolicy": "reinstall"}
    fleet = write_fleet(tmp_path, document("alpha", version="1.31", kubeProxyMode="ipvs", lifecycle=lifecycle))

    plan = json.loads(run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env()).stdout)

    [change] = plan["changes"]
    assert change["action"] == "reset"
    # The live minor is kept by leaving version out of the body (the API keeps the current version then).
    assert "version" not in change["requests"][0]["body"]
    assert [entry["path"] for entry in change["ahead"]] == ["version"]
    result = run_ovhkube("apply", fleet, "--auto-approve", env=sandbox.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.show()["projects"][0]["clusters"][0]["version"].startswith("1.32.")


def test_export_writes_the_minor_only(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"version": "1.32"})

    result = run_ovhkube("export", "--project", PROJECT, "--output", tmp_path / "out", env=sandbox.env())

    assert result.returncode == 0, result.stdout + result.stderr
    [written] = (tmp_path / "out").rglob("*.yaml")
    [exported] = [d for d in yaml.safe_load_all(written.read_text()) if d]
    assert exported["spec"]["version"] == "1.32"
    again = run_ovhkube("plan", str(written), "--detailed-exitcode", env=sandbox.env())
    assert again.returncode == 0, again.stdout + again.stderr


def test_an_exported_fleet_forced_past_its_defaults_says_where_the_clusters_own_version_goes(
    sandbox_factory, run_ovhkube, tmp_path
):
    sandbox = sandbox_factory(transition_seconds=0)
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    out = tmp_path / "out"
    exported = run_ovhkube("export", "--project", PROJECT, "--output", out, "--defaults", env=sandbox.env())
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert 'version: "1.31"' in (out / "defaults.yaml").read_text()  # the version every cluster shares
    # OVHcloud upgrades alpha's end-of-life minor on its own.
    sandbox.client().post(f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}/update", strategy="NEXT_MINOR")

    plan = run_ovhkube("plan", out, "--detailed-exitcode", env=sandbox.env())
    drift = run_ovhkube("drift", out, env=sandbox.env())

    assert plan.returncode == 0, plan.stdout + plan.stderr
    hint = (
        f"update the file to keep it exact (a spec.version in the cluster's own file wins over ClusterDefaults "
        f'"project-{PROJECT}", which sets it for every cluster it selects)'
    )
    assert hint in plan.stdout and drift.returncode == 2 and hint in drift.stdout
    # Done as said: alpha's own file pins its minor, beta keeps the defaults'.
    alpha = out / "alpha.yaml"
    alpha.write_text(alpha.read_text() + '  version: "1.32"\n')
    assert run_ovhkube("plan", out, "--detailed-exitcode", env=sandbox.env()).returncode == 0
    assert run_ovhkube("drift", out, env=sandbox.env()).returncode == 0
