"""Two applies at once never reset a cluster twice nor create it twice: the workspace lock, and a fresh read of the
cluster (or listing of the project) right before each POST reset or create."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from apply_helpers import IPTABLES_60S, clusters_by_name, live, seed, wanted, write_fleet

CLI = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())"]


def reset_and_create_fleet(sandbox, folder) -> str:
    seed(sandbox, live(1, "alpha"))
    return write_fleet(
        folder,
        wanted("alpha", mode="ipvs", allow_reset=True, kubeProxy={"ipvs": {"scheduler": "lc"}}),
        wanted("fresh", mode="iptables", kubeProxy=IPTABLES_60S),
    )


def start(*args, sandbox, cwd) -> subprocess.Popen:
    command = [*CLI, *map(str, args)]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sandbox.env(), cwd=cwd
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def assert_one_reset_and_one_created(sandbox) -> None:
    names = [c["name"] for project in sandbox.show()["projects"] for c in project["clusters"]]
    assert sorted(names) == ["alpha", "fresh"]  # no duplicate
    live_now = clusters_by_name(sandbox)
    assert live_now["alpha"]["resets"] == 1 and live_now["alpha"]["kubeProxyMode"] == "ipvs"


@pytest.mark.parametrize("transition", [0, 2])
def test_two_applies_of_the_same_files_at_once_reset_once_and_create_once(sandbox_factory, tmp_path, transition):
    sandbox = sandbox_factory(transition_seconds=transition)
    fleet = reset_and_create_fleet(sandbox, tmp_path)
    args = ("apply", fleet, "--auto-approve", "--lock-timeout", "120s")
    first, second = (start(*args, sandbox=sandbox, cwd=tmp_path) for _ in range(2))

    results = [finish(first), finish(second)]

    assert [code for code, _, _ in results] == [0, 0], results
    outputs = sorted((stdout for _, stdout, _ in results), key=lambda stdout: "No changes." in stdout)
    # One of them made the changes; the other, planning once the first had finished, found nothing to do.
    assert "1 created, 0 updated, 0 upgraded, 1 reset, 0 failed" in outputs[0] and "No changes." in outputs[1]
    assert_one_reset_and_one_created(sandbox)


@pytest.mark.parametrize("transition", [0, 2])
def test_the_same_saved_plan_applied_twice_at_once_is_applied_once(sandbox_factory, run_ovhkube, tmp_path, transition):
    sandbox = sandbox_factory(transition_seconds=transition)
    fleet = reset_and_create_fleet(sandbox, tmp_path)
    plan_file = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env()).returncode == 0
    args = ("apply", "--plan", plan_file, "--lock-timeout", "120s")
    first, second = (start(*args, sandbox=sandbox, cwd=tmp_path) for _ in range(2))

    results = sorted([finish(first), finish(second)])

    (ok_code, ok_out, _), (stale_code, _, stale_err) = results
    assert (ok_code, stale_code) == (0, 1), results
    assert "1 created, 0 updated, 0 upgraded, 1 reset, 0 failed" in ok_out
    assert "stale plan" in stale_err and "Nothing was changed" in stale_err
    assert_one_reset_and_one_created(sandbox)


def test_a_reset_or_create_done_by_someone_else_after_the_plan_is_not_done_again(
    sandbox_factory, run_ovhkube, tmp_path
):
    """Another workspace (no shared lock) resets alpha and creates fresh while this apply is busy with a first
    cluster: the fresh read before each POST finds them done, sends nothing, and verifies them."""
    sandbox = sandbox_factory(transition_seconds=2)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(
        tmp_path,
        wanted("first", mode="iptables", kubeProxy=IPTABLES_60S),
        wanted("alpha", mode="ipvs", allow_reset=True, kubeProxy={"ipvs": {"scheduler": "lc"}}),
        wanted("fresh", mode="iptables", kubeProxy=IPTABLES_60S),
    )
    plan_file = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env()).returncode == 0
    requests = {c["cluster"]["name"]: c["requests"][0] for c in json.loads(plan_file.read_text())["changes"]}
    process = start(
        "apply", "--plan", plan_file, "--clusters-at-once", "1", "--format", "json", sandbox=sandbox, cwd=tmp_path
    )
    for line in process.stderr:  # the apply is past its stale check and busy creating `first` (2 s)
        if line.startswith("first: creating"):
            break
    client = sandbox.client()
    for name in ("alpha", "fresh"):
        client.post(requests[name]["path"], **requests[name]["body"])

    stdout, stderr = process.communicate(timeout=120)

    assert process.returncode == 0, stderr
    account = {c["cluster"]["name"]: c for c in json.loads(stdout)["clusters"]}
    for name in ("alpha", "fresh"):
        assert account[name]["result"] == "done_elsewhere" and account[name]["verified"]
        assert account[name]["requests"] == []
    assert "reset by someone else since the plan" in account["alpha"]["reason"]
    assert "created by someone else since the plan" in account["fresh"]["reason"]
    names = sorted(c["name"] for project in sandbox.show()["projects"] for c in project["clusters"])
    assert names == ["alpha", "first", "fresh"]
    assert clusters_by_name(sandbox)["alpha"]["resets"] == 1


def test_a_create_done_by_someone_else_without_its_ip_restrictions_is_said_so_and_left_to_the_next_apply(
    sandbox_factory, run_ovhkube, tmp_path
):
    """The follow-ups of a create go to the cluster this apply created, never to one someone else made meanwhile:
    that one is followed to READY and checked, and what it lacks is named with what to do."""
    sandbox = sandbox_factory(transition_seconds=2)
    seed(sandbox, live(1, "other"))
    fresh = wanted("fresh", mode="iptables")
    fresh["spec"]["ipRestrictions"] = ["203.0.113.0/24"]
    fleet = write_fleet(tmp_path, wanted("first", mode="iptables", kubeProxy=IPTABLES_60S), fresh)
    plan_file = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env()).returncode == 0
    changes = json.loads(plan_file.read_text())["changes"]
    create = next(c for c in changes if c["cluster"]["name"] == "fresh")["requests"][0]
    process = start(
        "apply", "--plan", plan_file, "--clusters-at-once", "1", "--format", "json", sandbox=sandbox, cwd=tmp_path
    )
    for line in process.stderr:  # past its stale check, busy creating `first`
        if line.startswith("first: creating"):
            break
    sandbox.client().post(create["path"], **create["body"])  # the same cluster, without the IP restrictions

    stdout, stderr = process.communicate(timeout=120)

    assert process.returncode == 1, stderr
    outcome = {c["cluster"]["name"]: c for c in json.loads(stdout)["clusters"]}["fresh"]
    assert outcome["result"] == "failed" and outcome["requests"] == []
    assert outcome["reason"].startswith("created by someone else since the plan")
    assert (
        "not live after it: ipRestrictions; nothing was sent to a cluster this apply did not create"
        in (outcome["reason"])
    )
    assert not clusters_by_name(sandbox)["fresh"].get("ipRestrictions")
    again = run_ovhkube("apply", fleet, "--auto-approve", env=sandbox.env())  # as it says: the next apply sets them
    assert again.returncode == 0, again.stdout + again.stderr
    assert clusters_by_name(sandbox)["fresh"]["ipRestrictions"] == ["203.0.113.0/24"]


HOLD_LOCK = """
import sys, time
from reconciler.apply.lock import apply_lock
with apply_lock(0, print):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_held_lock_refuses_at_once_naming_its_holder_and_a_dead_holder_frees_it(sandbox, tmp_path):
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    held = {k: v for k, v in os.environ.items() if k != "OVHKUBE_LOCK_FILE"}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK], stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=held
    )
    assert holder.stdout.readline() == "held\n"
    before = sandbox.show()

    env = sandbox.env()
    del env["OVHKUBE_LOCK_FILE"]  # the default: .ovhkube/apply.lock in the folder apply runs in
    refused = subprocess.run(
        [*CLI, "apply", fleet, "--auto-approve"], capture_output=True, text=True, env=env, cwd=tmp_path
    )

    assert refused.returncode == 1
    assert f"another apply holds the workspace lock .ovhkube/apply.lock: pid {holder.pid} on " in refused.stderr
    assert "Nothing was changed" in refused.stderr and sandbox.show() == before
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    time.sleep(0.1)

    taken = subprocess.run(
        [*CLI, "apply", fleet, "--auto-approve"], capture_output=True, text=True, env=env, cwd=tmp_path
    )

    assert taken.returncode == 0, taken.stderr
    assert f"taking over the workspace lock left by pid {holder.pid}" in taken.stderr
    assert "no longer running" in taken.stderr
    assert clusters_by_name(sandbox)["alpha"]["customization"]["kubeProxy"]["iptables"]["syncPeriod"] == "PT60S"
    assert (tmp_path / ".ovhkube" / "apply.lock").read_text() == ""  # released: nobody holds it


def test_a_signal_while_following_someone_elses_reset_still_gives_the_account(sandbox_factory, run_ovhkube, tmp_path):
    """Following another workspace's reset is a wait like any other: SIGTERM there ends the apply with its account
    and exit 143, not with an internal error and no account."""
    sandbox = sandbox_factory(transition_seconds=10)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(
        tmp_path,
        wanted("first", mode="iptables", kubeProxy=IPTABLES_60S),
        wanted("alpha", mode="ipvs", allow_reset=True, kubeProxy={"ipvs": {"scheduler": "lc"}}),
    )
    plan_file = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env()).returncode == 0
    reset = next(c["requests"][0] for c in json.loads(plan_file.read_text())["changes"] if c["action"] == "reset")
    process = start(
        "apply", "--plan", plan_file, "--clusters-at-once", "1", "--format", "json", sandbox=sandbox, cwd=tmp_path
    )
    for line in process.stderr:  # past the stale check, busy creating `first` (10 s): someone else resets alpha
        if line.startswith("first: creating"):
            # 8 s into first's 10 s: their reset still has some 8 s to run when this apply comes to alpha, however
            # slow the machine is in between, and it started before alpha's turn.
            time.sleep(8)
            sandbox.client().post(reset["path"], **reset["body"])
        if line.startswith("alpha:") and "by someone else" in line:
            break
    process.send_signal(signal.SIGTERM)

    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 143, stderr
    assert "internal error" not in stdout + stderr
    assert stdout, stderr  # the account, whenever the signal landed
    account = {c["cluster"]["name"]: c for c in json.loads(stdout)["clusters"]}
    # Stopped while following it (or, on a slow machine, just after it was over): never sent by this apply.
    assert account["alpha"]["requests"] == []
    assert account["alpha"]["result"] in ("interrupted", "skipped", "done_elsewhere")
    assert clusters_by_name(sandbox)["alpha"]["resets"] == 1
