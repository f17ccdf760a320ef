"""Node pool steps against a misbehaving API, end to end: the CLI, the real ovh client, the sandbox over HTTP and a
lossy gateway (tests/lossy_gateway.py) between them.

- A cluster busy (409) during a pool step is waited for and the step sent again, never fought.
- A pool create or delete whose answer is lost (a 5xx, no answer) is never sent again on a guess: apply reads the
  pool listing back to learn what happened, and never makes a second pool.
- SIGTERM during a pool wait stops within a second, sends nothing more, and the account says what was sent and
  what was not; the next plan finishes an interrupted replacement instead of starting another one.
"""

import json
import signal
import subprocess
import sys
import time

import pytest
import yaml

from reconciler.plan.planfile import read_plan_file
from reconciler.steps import StepKind
from tests.apply_helpers import PROJECT, wanted

CLUSTER = "6f3c1a52-7777-4c1e-9a55-000000000001"
POOLS_PATH = f"/cloud/project/{PROJECT}/kube/{CLUSTER}/nodepool"


def seed(sandbox, pools: list[dict]) -> None:
    cluster = {"id": CLUSTER, "name": "web", "region": "GRA5", "nodePools": pools}
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [cluster]}]})


def pool(name: str, **fields) -> dict:
    return {"name": name, "flavor": "b3-8", "desiredNodes": 2} | fields


def fleet(tmp_path, pools: dict, lifecycle: dict | None = None) -> str:
    document = wanted("web")
    document["spec"]["nodePools"] = pools
    if lifecycle:
        document["spec"]["lifecycle"] = lifecycle
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def live_pools(sandbox) -> list[dict]:
    return sandbox.client().get(POOLS_PATH)


def names(sandbox) -> list[str]:
    return sorted(p["name"] for p in live_pools(sandbox))


def sent(sandbox, method: str) -> list[dict]:
    """The requests of `method` on the pools that reached the sandbox, with their status."""
    return [r for r in sandbox.requests() if r["method"] == method and r["path"].startswith(POOLS_PATH)]


def apply_json(run_ovhkube, path: str, env: dict):
    result = run_ovhkube("apply", path, "--auto-approve", "--format", "json", env=env)
    return result, json.loads(result.stdout) if result.stdout.strip().startswith("{") else None


# --- busy (409): waited for, never fought --------------------------------------------------------------------


def test_a_pool_create_refused_as_busy_is_waited_for_then_sent_again(tmp_path, sandbox_factory, run_ovhkube):
    sandbox = sandbox_factory(busy_writes=2)  # the first two writes: 409 ServiceOnlyOneModification, not run
    seed(sandbox, [pool("workers")])
    path = fleet(tmp_path, {"batch": {"flavorName": "c3-8", "desiredNodes": 1}})

    result = run_ovhkube("apply", path, "--auto-approve", env=sandbox.env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "busy (409 ServiceOnlyOneModification): waiting before sending the node pool create again" in result.stderr
    assert [r["status"] for r in sent(sandbox, "POST")] == [409, 409, 200]
    assert names(sandbox) == ["batch", "workers"]
    assert "done, verified" in result.stderr


def test_a_pool_delete_refused_as_busy_is_waited_for_then_sent_again(tmp_path, sandbox, through_gateway, run_ovhkube):
    seed(sandbox, [pool("workers"), pool("legacy")])
    path = fleet(tmp_path, {"legacy": {"delete": True}}, {"allowPoolDelete": True})
    legacy = next(p["id"] for p in live_pools(sandbox) if p["name"] == "legacy")
    gateway, env = through_gateway(sandbox, {("DELETE", f"/nodepool/{legacy}"): ["busy", "busy"]})

    result, account = apply_json(run_ovhkube, path, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert gateway.count("DELETE", f"/nodepool/{legacy}") == 1  # the two refused ones never ran
    assert names(sandbox) == ["workers"]
    (cluster,) = account["clusters"]
    errors = [r["error"]["class"] if r["error"] else None for r in cluster["requests"]]
    assert errors == ["Client::Conflict::ServiceOnlyOneModification"] * 2 + [None]
    assert cluster["result"] == "done" and cluster["verified"]


def test_a_pool_that_stays_busy_fails_its_cluster_after_a_few_waits_without_forcing_it(
    tmp_path, sandbox, through_gateway, run_ovhkube
):
    seed(sandbox, [pool("workers")])
    workers = live_pools(sandbox)[0]["id"]
    path = fleet(tmp_path, {"workers": {"desiredNodes": 3}})
    gateway, env = through_gateway(sandbox, {("PUT", f"/nodepool/{workers}"): ["busy"] * 10})

    result, account = apply_json(run_ovhkube, path, env)

    assert result.returncode == 1
    (cluster,) = account["clusters"]
    assert cluster["result"] == "failed" and "still busy after 3 waits" in cluster["reason"]
    assert len(cluster["requests"]) == 4  # the first try and three after waiting: then it gives up
    assert gateway.count("PUT", f"/nodepool/{workers}") == 0
    assert next(p for p in live_pools(sandbox))["desiredNodes"] == 2


# --- lost answers: read back, never a second pool ------------------------------------------------------------


@pytest.mark.parametrize("fault", ["after", "after_unavailable", "garbled"])
def test_a_pool_create_whose_answer_is_lost_is_read_back_and_not_sent_again(
    tmp_path, sandbox, through_gateway, run_ovhkube, fault
):
    seed(sandbox, [pool("workers")])
    path = fleet(tmp_path, {"batch": {"flavorName": "c3-8", "desiredNodes": 1}})
    gateway, env = through_gateway(sandbox, {("POST", "/nodepool"): [fault]})

    result, account = apply_json(run_ovhkube, path, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert gateway.count("POST", "/nodepool") == 1
    assert names(sandbox) == ["batch", "workers"]
    (cluster,) = account["clusters"]
    assert cluster["result"] == "done" and cluster["verified"]
    assert [r["method"] for r in cluster["requests"]] == ["POST"]  # sent once: the read-back found it


def test_a_pool_create_that_never_arrived_is_sent_once_more_only_after_the_listing_proves_it(
    tmp_path, sandbox, through_gateway, run_ovhkube
):
    seed(sandbox, [pool("workers")])
    path = fleet(tmp_path, {"batch": {"flavorName": "c3-8", "desiredNodes": 1}})
    gateway, env = through_gateway(sandbox, {("POST", "/nodepool"): ["before"]})

    result, account = apply_json(run_ovhkube, path, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert gateway.count("POST", "/nodepool") == 1  # the lost one never reached the API; the second did
    assert names(sandbox) == ["batch", "workers"]
    (cluster,) = account["clusters"]
    assert [r["error"] is not None for r in cluster["requests"]] == [True, False]
    # Between the two: the listing was read until the settle window was over (the API may show a pool late).
    log = sandbox.requests()
    listings = [r for r in log if r["method"] == "GET" and r["path"] == POOLS_PATH]
    assert len(listings) >= 3


def test_a_pool_create_lost_twice_is_not_sent_a_third_time(tmp_path, sandbox, through_gateway, run_ovhkube):
    seed(sandbox, [pool("workers")])
    path = fleet(tmp_path, {"batch": {"flavorName": "c3-8", "desiredNodes": 1}})
    gateway, env = through_gateway(sandbox, {("POST", "/nodepool"): ["before", "before", "before"]})

    result, account = apply_json(run_ovhkube, path, env)

    assert result.returncode == 1
    (cluster,) = account["clusters"]
    assert cluster["result"] == "failed"
    assert "nothing more was sent" in cluster["reason"] and "run plan again" in cluster["reason"]
    assert len(cluster["requests"]) == 2
    assert names(sandbox) == ["workers"]


def test_a_replacement_whose_create_answer_is_lost_makes_one_new_pool_then_deletes_the_old(
    tmp_path, sandbox, through_gateway, run_ovhkube
):
    seed(sandbox, [pool("workers")])
    old = live_pools(sandbox)[0]["id"]
    path = fleet(tmp_path, {"workers": {"flavorName": "b3-16"}}, {"allowPoolReplace": True})
    gateway, env = through_gateway(sandbox, {("POST", "/nodepool"): ["after"]})

    result, account = apply_json(run_ovhkube, path, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert gateway.count("POST", "/nodepool") == 1
    assert gateway.count("DELETE", f"/nodepool/{old}") == 1
    assert names(sandbox) == ["workers-r1"]


@pytest.mark.parametrize("fault", ["after", "before"])
def test_a_pool_delete_whose_answer_is_lost_is_read_back(tmp_path, sandbox, through_gateway, run_ovhkube, fault):
    seed(sandbox, [pool("workers"), pool("legacy")])
    legacy = next(p["id"] for p in live_pools(sandbox) if p["name"] == "legacy")
    path = fleet(tmp_path, {"legacy": {"delete": True}}, {"allowPoolDelete": True})
    gateway, env = through_gateway(sandbox, {("DELETE", f"/nodepool/{legacy}"): [fault]})

    result, account = apply_json(run_ovhkube, path, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert gateway.count("DELETE", f"/nodepool/{legacy}") == 1
    assert names(sandbox) == ["workers"]
    (cluster,) = account["clusters"]
    assert cluster["result"] == "done" and cluster["verified"]


# --- SIGTERM during a pool wait ------------------------------------------------------------------------------


def _apply_until(sandbox, path: str, ready: callable, timeout: float = 60, signal_number=signal.SIGTERM):
    line = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "apply", path]
    line += ["--auto-approve", "--format", "json"]
    process = subprocess.Popen(line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sandbox.env())
    deadline = time.monotonic() + timeout
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready(), "the apply never reached the wait"
    time.sleep(0.3)  # well inside the wait
    process.send_signal(signal_number)
    signalled = time.time()
    stdout, stderr = process.communicate(timeout=30)
    return process.returncode, time.time() - signalled, signalled, stdout, stderr


def test_sigterm_while_a_replacement_waits_for_its_new_pool_stops_at_once_and_says_the_old_one_is_not_deleted(
    tmp_path, sandbox_factory, run_ovhkube
):
    sandbox = sandbox_factory(transition_seconds=30.0)
    seed(sandbox, [pool("workers", status="READY")])
    old = live_pools(sandbox)[0]
    path = fleet(tmp_path, {"workers": {"flavorName": "b3-16"}}, {"allowPoolReplace": True})

    code, stopped, signalled, stdout, stderr = _apply_until(sandbox, path, lambda: sent(sandbox, "POST"))

    assert code == 143, stderr
    assert stopped < 1.5, stopped
    time.sleep(1)
    assert [r for r in sandbox.requests() if r["method"] != "GET" and r["time"] > signalled] == []
    assert names(sandbox) == ["workers", "workers-r1"]  # the old pool is still there: never deleted before READY
    (cluster,) = json.loads(stdout)["clusters"]
    assert cluster["result"] == "interrupted"
    assert "node pool create workers-r1 sent" in cluster["reason"]
    assert f"not sent: node pool delete workers ({old['id']})" in cluster["reason"]
    assert "Traceback" not in stderr

    # The next plan finishes the replacement: the old pool is deleted once the new one is READY, no third pool.
    again = run_ovhkube("plan", path, env=sandbox.env())
    assert again.returncode == 0, again.stdout + again.stderr
    assert "workers-r2" not in again.stdout
    assert "NODE POOL workers: the replacement workers-r1 is live; the old pool workers" in again.stdout
    assert '- nodePools.workers: "workers"' in again.stdout, again.stdout
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", path, "--out", saved, env=sandbox.env()).returncode == 0
    (request,) = json.loads(saved.read_text())["changes"][0]["requests"]
    assert (request["kind"], request["pool"]) == ("pool_delete", old["id"])
    assert [step.kind for step in read_plan_file(str(saved)).changes[0].steps] == [StepKind.POOL_DELETE]  # applies


def test_the_rest_of_an_interrupted_replacement_waits_for_the_new_pool_then_deletes_the_old(
    tmp_path, sandbox_factory, run_ovhkube
):
    sandbox = sandbox_factory(transition_seconds=1.5)
    seed(sandbox, [pool("workers", status="READY"), pool("workers-r1", flavor="b3-16", status="INSTALLING")])
    refused = run_ovhkube("plan", fleet(tmp_path, {"workers": {"flavorName": "b3-16"}}), env=sandbox.env())
    assert refused.returncode == 1 and "still live beside its replacement workers-r1" in refused.stdout
    assert "lifecycle.allowPoolReplace: true" in refused.stdout
    path = fleet(tmp_path, {"workers": {"flavorName": "b3-16"}}, {"allowPoolReplace": True})

    result = run_ovhkube("apply", path, "--auto-approve", env=sandbox.env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "node pool workers-r1: READY, 2/2 node(s) READY" in result.stderr
    assert result.stderr.index("node pool workers-r1: READY") < result.stderr.index("node pool deleted")
    assert names(sandbox) == ["workers-r1"]
    assert sent(sandbox, "POST") == []
    assert run_ovhkube("plan", path, "--detailed-exitcode", env=sandbox.env()).returncode == 0


@pytest.mark.parametrize("signal_number, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_a_pool_delete_is_waited_for_says_it_was_sent(tmp_path, sandbox_factory, signal_number, code):
    sandbox = sandbox_factory(transition_seconds=30.0)
    seed(sandbox, [pool("workers", status="READY"), pool("legacy", status="READY")])
    path = fleet(tmp_path, {"legacy": {"delete": True}}, {"allowPoolDelete": True})

    returned, stopped, _, stdout, stderr = _apply_until(
        sandbox, path, lambda: sent(sandbox, "DELETE"), signal_number=signal_number
    )

    assert returned == code and stopped < 1.5, (stopped, stderr)
    (cluster,) = json.loads(stdout)["clusters"]
    assert cluster["result"] == "interrupted"
    assert "node pool delete legacy (" in cluster["reason"] and "sent, not verified" in cluster["reason"]
