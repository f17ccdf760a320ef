"""apply when answers get lost: a reset or a create is never repeated blindly, and random faults still converge.

A lossy gateway (tests/lossy_gateway.py) between the CLI and the sandbox loses chosen answers, before or after the
sandbox executed the request; the sandbox's own fault injection adds random 5xx and latency.
"""

import signal
import subprocess
import sys
import time

import pytest
from apply_helpers import (
    IPTABLES_60S,
    MORE_PLUGINS,
    apply_json,
    clusters_by_name,
    live,
    seed,
    wanted,
    write_fleet,
)

RESET = ("POST", "/reset")
CREATE = ("POST", "/kube")
PUT = ("PUT", "/customization")


def mode_change_fleet(sandbox, tmp_path) -> str:
    seed(sandbox, live(1, "alpha"))
    ipvs = {"ipvs": {"scheduler": "lc"}}
    return write_fleet(tmp_path, wanted("alpha", mode="ipvs", allow_reset=True, kubeProxy=ipvs))


@pytest.mark.parametrize("transition", [0, 1])
def test_reset_executed_but_answer_lost_is_followed_not_repeated(
    sandbox_factory, through_gateway, run_ovhkube, tmp_path, transition
):
    sandbox = sandbox_factory(transition_seconds=transition)
    fleet = mode_change_fleet(sandbox, tmp_path)
    gateway, env = through_gateway(sandbox, {RESET: ["after"]})

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 0, result.stderr
    assert "the reset started: following it, not sending it again" in result.stderr
    assert gateway.count(*RESET) == 1
    (alpha,) = account["clusters"]
    assert alpha["result"] == "done" and alpha["verified"]
    assert [r["error"]["status"] if r["error"] else None for r in alpha["requests"]] == [502]
    assert clusters_by_name(sandbox)["alpha"]["resets"] == 1


def test_reset_lost_before_it_ran_is_sent_once_more(sandbox, through_gateway, run_ovhkube, tmp_path):
    fleet = mode_change_fleet(sandbox, tmp_path)
    gateway, env = through_gateway(sandbox, {RESET: ["before"]})

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 0, result.stderr
    assert "the reset did not start: sending it once more" in result.stderr
    assert [r["error"] is None for r in account["clusters"][0]["requests"]] == [False, True]
    assert gateway.count(*RESET) == 1
    assert clusters_by_name(sandbox)["alpha"]["resets"] == 1
    assert clusters_by_name(sandbox)["alpha"]["kubeProxyMode"] == "ipvs"


def test_reset_lost_twice_fails_without_a_third_try(sandbox, through_gateway, run_ovhkube, tmp_path):
    fleet = mode_change_fleet(sandbox, tmp_path)
    gateway, env = through_gateway(sandbox, {RESET: ["before", "before", "before"]})

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1
    (alpha,) = account["clusters"]
    assert alpha["result"] == "failed" and "failed twice" in alpha["reason"]
    assert len(alpha["requests"]) == 2 and len(gateway.lost) == 2
    assert clusters_by_name(sandbox)["alpha"]["resets"] == 0


@pytest.mark.parametrize("fault", ["after", "before", "garbled"])  # garbled: done, answered 200 with an HTML page
def test_create_whose_answer_is_lost_makes_exactly_one_cluster(sandbox, through_gateway, run_ovhkube, tmp_path, fault):
    seed(sandbox)
    fleet = write_fleet(tmp_path, wanted("fresh", mode="iptables", kubeProxy=IPTABLES_60S))
    gateway, env = through_gateway(sandbox, {CREATE: [fault]})

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 0, result.stderr
    assert gateway.count(*CREATE) == 1
    (fresh,) = [c for c in sandbox.show()["projects"][0]["clusters"]]
    assert fresh["name"] == "fresh" and account["clusters"][0]["cluster"]["id"] == fresh["id"]
    done = fault in ("after", "garbled")
    expected = "adopting it, not creating it again" if done else "sending the creation once more"
    assert expected in result.stderr


def test_customization_applied_but_answer_lost_is_not_sent_again_once_live(
    sandbox_factory, through_gateway, run_ovhkube, tmp_path
):
    sandbox = sandbox_factory(transition_seconds=1)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    # The Api retries the PUT; the retry meets the cluster busy with the first one (409), which went through.
    gateway, env = through_gateway(sandbox, {PUT: ["after"]})

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 0, result.stderr
    assert "the customization is live already" in result.stderr
    assert gateway.count(*PUT) == 2  # the first (executed) and the Api's retry (refused: busy); no third
    assert account["clusters"][0]["verified"]


def test_random_faults_and_latency_still_converge_with_one_reset(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(error_rate=0.25, latency_ms=20, random_seed=18)
    seed(sandbox, *(live(n, f"c{n}") for n in range(1, 7)))
    documents = [wanted("c1", mode="ipvs", allow_reset=True, kubeProxy={"ipvs": {"scheduler": "rr"}})]
    documents += [wanted(f"c{n}", kubeProxy=IPTABLES_60S, apiServer=MORE_PLUGINS) for n in range(2, 7)]
    documents.append(wanted("fresh", mode="iptables", kubeProxy=IPTABLES_60S))
    fleet = write_fleet(tmp_path, *documents)

    result, account = apply_json(
        run_ovhkube, sandbox, fleet, "--auto-approve", "--parallelism", "1", "--clusters-at-once", "1"
    )

    assert result.returncode == 0, result.stderr
    assert all(c["result"] == "done" and c["verified"] for c in account["clusters"])
    live_now = clusters_by_name(sandbox)
    assert {name: c["resets"] for name, c in live_now.items()} == {f"c{n}": int(n == 1) for n in range(1, 7)} | {
        "fresh": 0
    }
    assert len(live_now) == 7  # one cluster created, not two
    # The faults did hit the apply's own writes (counted from the sandbox's log, not from what happens to be said).
    assert any(e["status"] >= 500 for e in sandbox.requests() if e["method"] in ("POST", "PUT"))


def test_ctrl_c_stops_waiting_and_accounts_for_every_cluster(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(transition_seconds=30)
    seed(sandbox, *(live(n, f"c{n}") for n in range(1, 4)))
    fleet = write_fleet(tmp_path, *(wanted(f"c{n}", kubeProxy=IPTABLES_60S) for n in range(1, 4)))
    command = [
        sys.executable,
        "-c",
        "from reconciler.cli import main; raise SystemExit(main())",
        "apply",
        fleet,
        "--auto-approve",
        "--clusters-at-once",
        "2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sandbox.env())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # until both clusters of the first wave are being changed
        if sum(c["status"] == "REDEPLOYING" for c in clusters_by_name(sandbox).values()) == 2:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)

    assert process.returncode == 130, stderr
    rows = {line.split()[0]: line for line in stdout.splitlines() if line.startswith("c")}
    assert sorted(r.split()[2] for r in rows.values()) == ["interrupted", "interrupted", "skipped"]
    closing = "Apply interrupted: 0 created, 0 updated, 0 upgraded, 0 reset, 0 failed, 2 interrupted, 1 not started."
    assert closing in stdout
    assert sum(c["status"] == "REDEPLOYING" for c in clusters_by_name(sandbox).values()) == 2


def test_writes_refused_by_the_key_s_access_rules_are_one_hint(sandbox, through_gateway, run_ovhkube, tmp_path):
    """A read-only key in the apply job: every write is refused (403 NOT_GRANTED_CALL); the cause is said once."""
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S), wanted("beta", kubeProxy=IPTABLES_60S))
    gateway, env = through_gateway(sandbox, {PUT: ["not_granted", "not_granted"]})

    result = run_ovhkube("apply", fleet, "--auto-approve", env=env)

    assert result.returncode == 1
    assert "Apply complete: 0 created, 0 updated, 0 upgraded, 0 reset, 2 failed." in result.stdout
    hint = "2 cluster(s) failed for one cause, NOT_GRANTED_CALL: the consumer key's access rules do not allow this call"
    assert result.stderr.count(hint) == 1
    assert gateway.count(*PUT) == 0
