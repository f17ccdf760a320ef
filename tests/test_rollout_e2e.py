"""A Rollout end to end on the sandbox: an upgrade of 12 clusters in three waves (a canary, then 25%, then the rest),
stopped by the canary's failed upgrade, resumed by a later apply once the canary is healthy again."""

import yaml
from apply_helpers import PROJECT, apply_json, cluster_id, clusters_by_name, live, seed

NAMES = [f"c{number:02d}" for number in range(1, 13)]
EARLY = ("c02", "c03", "c04")  # 25% of the fleet, by label
ROLLOUT = {
    "apiVersion": "ovhkube/v1",
    "kind": "Rollout",
    "metadata": {"name": "fleet"},
    "spec": {
        "waves": [
            {"name": "canary", "selector": {"names": ["c01"]}, "maxInFlight": 1, "pauseAfter": "PT1S"},
            {"name": "early", "selector": {"matchLabels": {"ring": "early"}}, "maxInFlight": "25%"},
            {"name": "rest", "selector": {}, "maxInFlight": "50%"},
        ],
        "gate": {"timeout": "PT20S"},
    },
}


def upgrade(name: str) -> dict:
    metadata = {"name": name} | ({"labels": {"ring": "early"}} if name in EARLY else {})
    spec = {"project": PROJECT, "region": "GRA5", "version": "1.32", "lifecycle": {"allowUpgrade": True}}
    return {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": metadata, "spec": spec}


def write(tmp_path, *documents) -> str:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return str(path)


def upgrades_sent(sandbox) -> list[str]:
    """The clusters each POST update went to, in the order the sandbox answered them."""
    names = {cluster_id(number): name for number, name in enumerate(NAMES, start=1)}
    return [
        names[r["path"].split("/kube/")[1].split("/")[0]]
        for r in sandbox.requests()
        if r["method"] == "POST" and r["path"].endswith("/update")
    ]


def writes(sandbox) -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] != "GET" and "/auth/" not in r["path"]]


def test_a_failed_canary_stops_the_rollout_and_a_later_apply_finishes_it(sandbox_factory, run_ovhkube, tmp_path):
    faulty = sandbox_factory(transition_seconds=0.3, failed_upgrades=("c01",))
    seed(faulty, *(live(number, name) for number, name in enumerate(NAMES, start=1)))
    fleet = write(tmp_path, *(upgrade(name) for name in NAMES), ROLLOUT)

    plan = run_ovhkube("plan", fleet, env=faulty.env())
    assert plan.returncode == 0, plan.stderr
    assert 'Rollout "fleet"' in plan.stdout
    assert "1. canary: 1 of 1 cluster(s) to roll, 1 at a time (maxInFlight 1); then a pause of 1s" in plan.stdout
    assert "2. early: 3 of 3 cluster(s) to roll, 1 at a time (maxInFlight 25%)" in plan.stdout
    assert "3. rest: 8 of 8 cluster(s) to roll, 4 at a time (maxInFlight 50%)" in plan.stdout

    result, account = apply_json(run_ovhkube, faulty, fleet, "--auto-approve")

    assert result.returncode == 1, result.stderr
    by_name = {c["cluster"]["name"]: c for c in account["clusters"]}
    assert by_name["c01"]["result"] == "failed" and "ERROR" in by_name["c01"]["reason"]
    assert [name for name in NAMES if by_name[name]["result"] == "not_started"] == NAMES[1:]
    assert all(not by_name[name]["requests"] for name in NAMES[1:])
    assert account["summary"]["not_started"] == 11
    assert account["rollout"] == {
        "name": "fleet",
        "stopped": True,
        "reason": 'c01 failed in wave "canary"',
        "waits": None,
    }
    assert upgrades_sent(faulty) == ["c01"]
    assert len(writes(faulty)) == 1  # nothing else was touched
    live_now = clusters_by_name(faulty)
    assert [name for name in NAMES if live_now[name]["version"].startswith("1.32")] == ["c01"]

    # Again, the canary still broken: it is done (no change planned), but fails the gate, so nothing is sent.
    replan = run_ovhkube("plan", fleet, env=faulty.env()).stdout
    assert "note: c01 (wave canary) is ERROR: the waves after it start only once it passes the health gate" in replan
    faulty.forget_requests()
    result, account = apply_json(run_ovhkube, faulty, fleet, "--auto-approve")
    assert result.returncode == 1, result.stderr
    by_name = {c["cluster"]["name"]: c for c in account["clusters"]}
    assert by_name["c01"]["action"] == "noop" and by_name["c01"]["result"] == "failed"
    assert "fails the health gate" in by_name["c01"]["reason"] and "status ERROR" in by_name["c01"]["reason"]
    assert account["summary"]["not_started"] == 11 and writes(faulty) == []
    faulty.stop()

    # The fault cleared (the canary READY again): the next apply goes on from where the rollout stopped.
    healthy = sandbox_factory(state=faulty.state, transition_seconds=0.3)
    healthy.forget_requests()
    text = run_ovhkube("apply", fleet, "--auto-approve", env=healthy.env())

    assert text.returncode == 0, text.stdout + text.stderr
    assert "11 upgraded" in text.stdout and "not started" not in text.stdout.split("Apply complete")[1]
    sent = upgrades_sent(healthy)
    assert sorted(sent) == NAMES[1:]
    assert set(sent[:3]) == set(EARLY)  # the early wave, all of it, before any of the rest
    live_now = clusters_by_name(healthy)
    assert all(live_now[name]["version"].startswith("1.32") for name in NAMES)
    assert "No changes." in run_ovhkube("plan", fleet, env=healthy.env()).stdout


def test_non_disruptive_changes_are_not_held_back_by_a_stopped_rollout(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(failed_upgrades=("c01",))
    seed(sandbox, live(1, "c01"), live(2, "c02"))
    policy = {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "c02"}}
    policy["spec"] = {"project": PROJECT, "region": "GRA5", "updatePolicy": "NEVER_UPDATE"}
    rollout = {**ROLLOUT, "spec": {"waves": ROLLOUT["spec"]["waves"][:1] + ROLLOUT["spec"]["waves"][2:]}}
    fleet = write(tmp_path, upgrade("c01"), policy, rollout)

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 1
    by_name = {c["cluster"]["name"]: c for c in account["clusters"]}
    assert by_name["c01"]["result"] == "failed"
    assert by_name["c02"]["action"] == "update" and by_name["c02"]["result"] == "done"
    assert clusters_by_name(sandbox)["c02"]["updatePolicy"] == "NEVER_UPDATE"


def test_the_gate_asks_the_api_server_through_a_fresh_kubeconfig(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(unready_api_servers=("c01",))
    seed(sandbox, live(1, "c01"), live(2, "c02"))
    rollout = {**ROLLOUT, "spec": {**ROLLOUT["spec"], "gate": {"timeout": "PT2S", "apiServer": True}}}
    rollout["spec"]["waves"] = [ROLLOUT["spec"]["waves"][0], ROLLOUT["spec"]["waves"][2]]
    fleet = write(tmp_path, upgrade("c01"), upgrade("c02"), rollout)

    plan = run_ovhkube("plan", fleet, env=sandbox.env())
    assert "the API server answers /readyz" in plan.stdout
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 1, result.stderr
    by_name = {c["cluster"]["name"]: c for c in account["clusters"]}
    assert by_name["c01"]["result"] == "failed"
    assert "fails the health gate: the API server answered /readyz with 503" in by_name["c01"]["reason"]
    assert by_name["c02"]["result"] == "not_started"
    kubeconfigs = [r for r in sandbox.requests() if r["path"].endswith("/kubeconfig")]
    assert kubeconfigs and all(r["method"] == "POST" and cluster_id(1) in r["path"] for r in kubeconfigs)
    # The kubeconfig's credential is shown nowhere.
    content = sandbox.client().post(f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}/kubeconfig")["content"]
    token = yaml.safe_load(content)["users"][0]["user"]["token"]
    assert token not in result.stdout + result.stderr

    healthy = sandbox_factory(state=sandbox.state)
    sandbox.stop()
    healthy.forget_requests()
    result, account = apply_json(run_ovhkube, healthy, fleet, "--auto-approve")
    assert result.returncode == 0, result.stderr
    assert [c["result"] for c in account["clusters"]] == ["unchanged", "done"]  # c01 passed the gate now
    assert [r["path"].split("/kube/")[1] for r in healthy.requests() if r["path"].endswith("/kubeconfig")] == [
        f"{cluster_id(1)}/kubeconfig",  # before the second wave: the first's cluster, changed by the earlier apply
        f"{cluster_id(2)}/kubeconfig",  # after its own upgrade
    ]


WINDOW = {"days": ["Sat"], "start": "02:00", "duration": "PT4H", "timeZone": "Europe/Paris"}
MONDAY, SATURDAY_3AM_PARIS = "2026-12-07T10:00:00Z", "2026-12-12T02:00:00Z"


def test_a_canary_deferred_to_its_window_holds_the_later_waves_without_failing(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory()
    seed(sandbox, live(1, "c01"), live(2, "c02"))
    canary = upgrade("c01")
    canary["spec"]["lifecycle"]["maintenanceWindow"] = WINDOW
    rollout = {**ROLLOUT, "spec": {"waves": [ROLLOUT["spec"]["waves"][0], ROLLOUT["spec"]["waves"][2]]}}
    fleet = write(tmp_path, canary, upgrade("c02"), rollout)

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=sandbox.env(OVHKUBE_NOW=MONDAY))

    assert result.returncode == 0, result.stderr  # nothing failed: the rollout waits for the canary's window
    by_name = {c["cluster"]["name"]: c for c in account["clusters"]}
    assert by_name["c01"]["result"] == "deferred"
    assert by_name["c02"]["result"] == "deferred" and 'waits, c01 of wave "canary" deferred' in by_name["c02"]["reason"]
    assert account["rollout"]["waits"] and not account["rollout"]["stopped"]
    assert writes(sandbox) == []

    at_night = sandbox.env(OVHKUBE_NOW=SATURDAY_3AM_PARIS)
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=at_night)
    assert result.returncode == 0, result.stderr
    assert [c["result"] for c in account["clusters"]] == ["done", "done"]
    assert upgrades_sent(sandbox) == ["c01", "c02"]
