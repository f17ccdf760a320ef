"""A rollout's pause and cap as the sandbox sees them, a signal during its pause, and a saved plan's rollout."""

import json
import signal
import subprocess
import sys
import time

import pytest
from apply_helpers import PROJECT, apply_json, cluster_id, live, seed
from jsonschema import Draft202012Validator
from test_rollout_e2e import ROLLOUT, upgrade, write

from reconciler.files.schema import PLAN_SCHEMA_NAME, load_schema

PAUSED = {
    **ROLLOUT,
    "spec": {
        "waves": [
            {"name": "canary", "selector": {"names": ["c01"]}, "maxInFlight": 1, "pauseAfter": "PT1S"},
            {"name": "rest", "selector": {}, "maxInFlight": 1},
        ]
    },
}


def upgrade_times(sandbox) -> dict[str, float]:
    names = {cluster_id(number): f"c{number:02d}" for number in range(1, 5)}
    return {
        names[r["path"].split("/kube/")[1].split("/")[0]]: r["time"]
        for r in sandbox.requests()
        if r["method"] == "POST" and r["path"].endswith("/update")
    }


def test_the_pause_after_a_wave_and_one_at_a_time_in_the_next(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(transition_seconds=0.4)
    seed(sandbox, *(live(number, f"c{number:02d}") for number in (1, 2, 3)))
    fleet = write(tmp_path, *(upgrade(f"c{number:02d}") for number in (1, 2, 3)), PAUSED)

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0, result.stderr
    assert 'pausing 1s after wave "canary" (pauseAfter)' in result.stderr
    sent = upgrade_times(sandbox)
    assert sent["c02"] - sent["c01"] >= 1.4  # the canary's 0.4 s upgrade, then the pause
    later, last = sorted([sent["c02"], sent["c03"]])
    assert last - later >= 0.4  # one at a time: the second waits for the first's upgrade and gate


@pytest.mark.parametrize(("signal_name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_during_the_pause_stops_at_once_and_starts_nothing(sandbox_factory, tmp_path, signal_name, code):
    sandbox = sandbox_factory()
    seed(sandbox, live(1, "c01"), live(2, "c02"))
    long_pause = json.loads(json.dumps(PAUSED))
    long_pause["spec"]["waves"][0]["pauseAfter"] = "PT10M"
    fleet = write(tmp_path, upgrade("c01"), upgrade("c02"), long_pause)
    line = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "apply", fleet]
    line += ["--auto-approve", "--format", "json"]
    process = subprocess.Popen(line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sandbox.env())
    deadline = time.monotonic() + 30
    while "c01" not in upgrade_times(sandbox) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the canary is done and gated by now: the apply is in the pause
    process.send_signal(getattr(signal, signal_name))
    signalled = time.monotonic()
    stdout, stderr = process.communicate(timeout=10)
    assert time.monotonic() - signalled < 1.5
    assert process.returncode == code, stderr
    assert "pausing 10m" in stderr and "Traceback" not in stderr
    account = json.loads(stdout)
    assert [c["result"] for c in account["clusters"]] == ["done", "skipped"]
    assert list(upgrade_times(sandbox)) == ["c01"]


def test_a_saved_plan_is_applied_in_its_waves_and_a_wave_edited_away_is_refused(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "c01"), live(2, "c02"))
    fleet = write(tmp_path, upgrade("c01"), upgrade("c02"), PAUSED)
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    data = json.loads(saved.read_text())
    assert list(Draft202012Validator(load_schema(PLAN_SCHEMA_NAME)).iter_errors(data)) == []
    assert [c["wave"] for c in data["changes"]] == ["canary", "rest"]
    assert data["rollout"]["waves"][0] == {
        "name": "canary",
        "source": data["rollout"]["waves"][0]["source"],
        "max_in_flight": "1",
        "pause_after_seconds": 1.0,
    }

    edited = tmp_path / "edited.json"
    data["changes"][1]["wave"] = "everyone"
    edited.write_text(json.dumps(data, indent=2))
    refused = run_ovhkube("apply", "--plan", edited, env=sandbox.env())
    assert refused.returncode == 1
    assert 'changes[1].wave: no wave of the rollout is "everyone"' in refused.stderr
    assert upgrade_times(sandbox) == {}

    result, account = apply_json(run_ovhkube, sandbox, "--plan", saved)
    assert result.returncode == 0, result.stderr
    assert 'pausing 1s after wave "canary"' in result.stderr
    sent = upgrade_times(sandbox)
    assert sent["c02"] - sent["c01"] >= 1.0


def test_the_gate_waits_for_an_earlier_waves_node_pool_to_be_ready(sandbox_factory, run_ovhkube, tmp_path):
    """The canary was upgraded by an earlier apply; its pool is still coming up (for 12 s: time enough for the
    apply to start on a busy machine): the next wave's change waits for it. That change (the update policy, held
    by `changes: all`) keeps the cluster READY, so the test waits only for the pool."""
    sandbox = sandbox_factory(transition_seconds=12)
    pool = {"name": "workers", "flavor": "b3-8", "desiredNodes": 2, "status": "INSTALLING"}
    seed(sandbox, live(1, "c01") | {"version": "1.32.1", "nodePools": [pool]}, live(2, "c02"))
    policy = {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "c02"}}
    policy["spec"] = {"project": PROJECT, "region": "GRA5", "updatePolicy": "NEVER_UPDATE"}
    every_change = json.loads(json.dumps(PAUSED))
    every_change["spec"]["changes"] = "all"
    every_change["spec"]["waves"][0]["pauseAfter"] = None
    fleet = write(tmp_path, upgrade("c01"), policy, every_change)

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0, result.stderr
    waiting = "c01: health gate: waiting (node pool workers INSTALLING; node pool workers: 0 of 2 nodes available)"
    assert waiting in result.stderr
    assert result.stderr.index("c01: passed the health gate") < result.stderr.index("c02: wave")
    assert [c["result"] for c in account["clusters"]] == ["unchanged", "done"]


def test_no_wait_is_refused_for_a_plan_whose_waves_hold_a_change(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "c01"))
    fleet = write(tmp_path, upgrade("c01"), PAUSED)
    result = run_ovhkube("apply", fleet, "--auto-approve", "--no-wait", env=sandbox.env())
    assert result.returncode == 1
    assert 'error: --no-wait cannot apply rollout "fleet"' in result.stderr
    assert upgrade_times(sandbox) == {}


def test_the_markdown_plan_lists_the_waves(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "c01"), live(2, "c02"))
    fleet = write(tmp_path, upgrade("c01"), upgrade("c02"), PAUSED)
    markdown = run_ovhkube("plan", fleet, "--format", "markdown", env=sandbox.env()).stdout
    assert "**Rollout `fleet`**" in markdown
    assert "| `canary` | 1 | **1** | 1 (`1`) | 1s |" in markdown
    assert "| `rest` | 1 | **1** | 1 (`1`) |  |" in markdown


def test_a_failure_in_a_wave_lets_the_changes_under_way_finish_and_starts_no_other(
    sandbox_factory, run_ovhkube, tmp_path
):
    """Both changes under way fail (so no slot is freed by a success first, whatever the timing): each is seen
    through to its own end, and neither of the two left is started."""
    sandbox = sandbox_factory(transition_seconds=0.3, failed_upgrades=("c01", "c02"))
    seed(sandbox, *(live(number, f"c{number:02d}") for number in (1, 2, 3, 4)))
    two_at_once = {**ROLLOUT, "spec": {"waves": [{"name": "all", "selector": {}, "maxInFlight": 2}]}}
    fleet = write(tmp_path, *(upgrade(f"c{number:02d}") for number in (1, 2, 3, 4)), two_at_once)

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 1
    assert [c["result"] for c in account["clusters"]] == ["failed", "failed", "not_started", "not_started"]
    assert all("ERROR" in c["reason"] for c in account["clusters"][:2])
    assert 'the rollout stopped (c01, c02 failed in wave "all")' in account["clusters"][2]["reason"]
    assert sorted(upgrade_times(sandbox)) == ["c01", "c02"]
