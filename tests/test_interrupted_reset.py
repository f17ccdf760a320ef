"""A reset stopped before what it wipes is put back (a cancelled CI job's SIGTERM, Ctrl-C, a killed runner's
SIGKILL) loses nothing: a reset is planned only where the files hold the IP restrictions and OIDC it wipes, so a plan
and an apply from a fresh workspace, on any machine, see them missing and put them back from the files; and where
the files do not hold them, the reset is refused before anything is sent.

End to end: the CLI in a subprocess stopped by a real signal, the sandbox over HTTP (a reset wipes both, as
reconciler/sandbox/clusters.py emulates), and a second workspace that shares nothing with the first but the files.
"""

import json
import signal
import subprocess
import sys
import time

import pytest
from apply_helpers import PROJECT, apply_json, clusters_by_name, live, seed, write_fleet

RESTRICTIONS = ["203.0.113.0/24", "198.51.100.7/32"]
OIDC = {"issuerUrl": "https://sso.example.org", "clientId": "k8s", "signingAlgorithms": ["RS256"]}
EXIT_OF = {signal.SIGTERM: 143, signal.SIGINT: 130, signal.SIGKILL: -signal.SIGKILL}


def reset_fleet(sandbox, tmp_path, manages: bool = True) -> str:
    seed(sandbox, live(1, "alpha") | {"ipRestrictions": RESTRICTIONS, "openIdConnect": OIDC})
    spec: dict = {"project": PROJECT, "region": "GRA5", "kubeProxyMode": "ipvs", "lifecycle": {"allowReset": True}}
    if manages:
        spec |= {"ipRestrictions": RESTRICTIONS, "openIdConnect": OIDC}
    document = {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "alpha"}, "spec": spec}
    return write_fleet(tmp_path, document)


def sent(sandbox, method: str, suffix: str) -> bool:
    return any(r["method"] == method and r["path"].endswith(suffix) and r["status"] < 300 for r in sandbox.requests())


def stopped_apply(sandbox, fleet: str, workspace, signum: int, after: tuple[str, str]) -> subprocess.CompletedProcess:
    """apply run in `workspace`, sent `signum` once the sandbox has taken the request `after` (the reset, or the
    first put-back), while it waits for the cluster to be READY again."""
    command = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())"]
    command += ["apply", fleet, "--auto-approve", "--format", "json"]
    env = sandbox.env(OVHKUBE_LOCK_FILE=str(workspace / "apply.lock"))
    process = subprocess.Popen(
        command, cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not sent(sandbox, *after) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert sent(sandbox, *after), "the apply never sent the request to stop after"
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def fresh_workspace(tmp_path, name: str):
    folder = tmp_path / name
    folder.mkdir()
    return folder


@pytest.mark.parametrize("moment", [("POST", "/reset"), ("PUT", "/ipRestrictions")], ids=["reset", "put-back"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_a_reset_stopped_before_its_put_backs_is_made_whole_by_a_plan_and_an_apply_elsewhere(
    sandbox_factory, run_ovhkube, tmp_path, signum, moment
):
    # Each change keeps the cluster busy 3 s: the signal lands while apply waits for the reset (or the first
    # put-back) to be over.
    sandbox = sandbox_factory(transition_seconds=3)
    fleet = reset_fleet(sandbox, tmp_path)

    stopped = stopped_apply(sandbox, fleet, fresh_workspace(tmp_path, "runner-1"), signum, moment)

    assert stopped.returncode == EXIT_OF[signum], stopped.stderr
    now = clusters_by_name(sandbox)["alpha"]
    assert now["resets"] == 1 and now["openIdConnect"] is None  # the reset wiped it; nothing put it back yet
    if signum != signal.SIGKILL:  # the account names what is still to put back, with the values
        (alpha,) = json.loads(stopped.stdout)["clusters"]
        assert alpha["result"] == "interrupted"
        assert "before the IP restrictions and OIDC it wiped were put back" in alpha["reason"]
        assert alpha["mismatches"] == [
            {"path": "ipRestrictions", "expected": RESTRICTIONS, "live": None},
            {"path": "openIdConnect", "expected": OIDC, "live": None},
        ]
        ips_state = "put back, not verified" if moment[1] == "/ipRestrictions" else "still to put back"
        assert alpha["notes"] == [
            f"{ips_state}: ipRestrictions {json.dumps(RESTRICTIONS)}",
            f"still to put back: openIdConnect {json.dumps(OIDC)}",
        ]

    elsewhere = fresh_workspace(tmp_path, "runner-2")
    env = sandbox.env(OVHKUBE_LOCK_FILE=str(elsewhere / "apply.lock"))
    plan = run_ovhkube("plan", fleet, "--format", "json", "--detailed-exitcode", env=env, cwd=elsewhere)
    assert plan.returncode == 2, plan.stdout + plan.stderr
    (change,) = json.loads(plan.stdout)["changes"]
    missing = {"openIdConnect"} if moment[1] == "/ipRestrictions" else {"ipRestrictions", "openIdConnect"}
    assert missing <= {entry["path"] for entry in change["diff"]}

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env, cwd=elsewhere)

    assert result.returncode == 0, result.stdout + result.stderr
    now = clusters_by_name(sandbox)["alpha"]
    assert now["resets"] == 1 and now["kubeProxyMode"] == "ipvs"
    assert now["ipRestrictions"] == RESTRICTIONS and now["openIdConnect"] == OIDC
    again = run_ovhkube("plan", fleet, "--detailed-exitcode", env=env, cwd=elsewhere)
    assert again.returncode == 0, again.stdout


def test_an_apply_planned_while_the_stopped_reset_runs_follows_it_and_puts_back_what_it_wiped(
    sandbox_factory, run_ovhkube, tmp_path
):
    # Planned while the reset still runs (the API shows the old mode until it is over), the cluster is reset again
    # in the plan; apply finds it reset since, sends no second reset, and puts back what the plan's diff shows wiped.
    # The reset runs 10 s: the second apply plans while it still runs, however slowly a loaded machine starts it.
    sandbox = sandbox_factory(transition_seconds=10)
    fleet = reset_fleet(sandbox, tmp_path)
    stopped = stopped_apply(sandbox, fleet, fresh_workspace(tmp_path, "runner-1"), signal.SIGKILL, ("POST", "/reset"))
    assert stopped.returncode == -signal.SIGKILL

    elsewhere = fresh_workspace(tmp_path, "runner-2")
    env = sandbox.env(OVHKUBE_LOCK_FILE=str(elsewhere / "apply.lock"))
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env, cwd=elsewhere)

    assert result.returncode == 0, result.stdout + result.stderr
    (alpha,) = account["clusters"]
    assert alpha["action"] == "reset" and alpha["result"] == "done_elsewhere" and alpha["verified"]
    assert "put back what it wiped: IP restrictions and OIDC" in alpha["reason"]
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in alpha["requests"]] == [
        ("PUT", "ipRestrictions"),
        ("POST", "openIdConnect"),
    ]
    now = clusters_by_name(sandbox)["alpha"]
    assert now["resets"] == 1 and now["ipRestrictions"] == RESTRICTIONS and now["openIdConnect"] == OIDC


def test_a_reset_that_would_wipe_settings_no_file_holds_is_refused_naming_them(sandbox, run_ovhkube, tmp_path):
    fleet = reset_fleet(sandbox, tmp_path, manages=False)

    plan = run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env())
    (change,) = json.loads(plan.stdout)["changes"]
    assert change["action"] == "error" and change["reason"] == "reset_would_lose"
    assert "wipes the API server's ipRestrictions and openIdConnect; the file does not manage them" in change["error"]
    assert f"spec.ipRestrictions: {json.dumps(RESTRICTIONS)}" in change["error"]
    assert f"spec.openIdConnect: {json.dumps(OIDC)}" in change["error"]
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 1
    assert "the plan holds 1 error(s)" in result.stderr
    now = clusters_by_name(sandbox)["alpha"]
    assert now["resets"] == 0 and now["ipRestrictions"] == RESTRICTIONS and now["openIdConnect"] == OIDC
    drift = run_ovhkube("drift", fleet, env=sandbox.env())
    assert drift.returncode == 2, drift.stdout  # the mode differs from the file: drifted, not unknown
