"""Every wait honours the first Ctrl-C or SIGTERM: plan, drift and apply's planning, waiting on the request budget
(one request a second, 30 projects), stop within a second, send nothing more and exit 130 or 143."""

import json
import signal
import subprocess
import sys
import time

import pytest
import yaml

PROJECTS = [f"a{n:031x}" for n in range(1, 31)]


def _fleet(sandbox, folder) -> str:
    sandbox.seed({"projects": [{"serviceName": project, "clusters": []} for project in PROJECTS]})
    documents = [
        {
            "apiVersion": "ovhkube/v1",
            "kind": "Cluster",
            "metadata": {"name": "web"},
            "spec": {"project": project, "region": "GRA5", "kubeProxyMode": "iptables"},
        }
        for project in PROJECTS
    ]
    path = folder / "fleet.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return str(path)


@pytest.mark.parametrize("command", ["plan", "drift", "apply"])
@pytest.mark.parametrize("signal_name, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_while_waiting_on_the_request_budget_stops_at_once_and_sends_nothing_more(
    sandbox_factory, tmp_path, command, signal_name, code
):
    sandbox = sandbox_factory()
    fleet = _fleet(sandbox, tmp_path)
    line = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", command, fleet]
    line += ["--auto-approve"] if command == "apply" else []
    env = sandbox.env() | {"OVHKUBE_MAX_RPS": "1"}
    process = subprocess.Popen(line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 30
    while len(sandbox.requests()) < 2 and time.monotonic() < deadline:  # the reads are waiting on the budget
        time.sleep(0.05)
    process.send_signal(getattr(signal, signal_name))
    signalled = time.time()
    try:
        stdout, stderr = process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"still running 5 s after {signal_name}: {stderr[-2000:]}")
    stopped = time.time() - signalled
    time.sleep(1.5)  # a request released by its slot would have reached the sandbox by now
    late = [r for r in sandbox.requests() if r["time"] > signalled]
    assert (process.returncode, late) == (code, []), stderr
    assert stopped < 1.5, stopped
    assert "Traceback" not in stderr and "internal error" not in stderr


def test_a_signal_while_reads_wait_to_be_tried_again_stops_at_once(sandbox_factory, tmp_path):
    """Every answer a 5xx: the reads wait between tries (up to seconds each); SIGTERM ends that wait too."""
    sandbox = sandbox_factory(error_rate=1.0, random_seed=7)
    fleet = _fleet(sandbox, tmp_path)
    line = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "plan", fleet]
    process = subprocess.Popen(line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sandbox.env())
    deadline = time.monotonic() + 30
    while len(sandbox.requests()) < 60 and time.monotonic() < deadline:  # the tries are seconds apart by now
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    assert time.monotonic() - signalled < 1.5
    assert "Traceback" not in stderr and "internal error" not in stderr


def test_a_signal_between_two_tries_of_a_put_stops_and_the_account_keeps_what_was_sent(
    sandbox, through_gateway, tmp_path
):
    """Each PUT reaches the API and its answer is lost (502): the client tries again after a pause. SIGTERM in the
    pause: no try after it, and the account says the PUT was sent (its last answer), never that it was not."""
    from apply_helpers import IPTABLES_60S, live, seed, wanted, write_fleet

    seed(sandbox, live(1, "web"))
    fleet = write_fleet(tmp_path, wanted("web", kubeProxy=IPTABLES_60S))
    _, env = through_gateway(sandbox, {("PUT", "/customization"): ["after"] * 20})
    line = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "apply", fleet]
    line += ["--auto-approve", "--format", "json"]
    process = subprocess.Popen(line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(r["method"] == "PUT" for r in sandbox.requests()) < 4:
        time.sleep(0.02)  # the pauses between tries grow: 4 tries in, the next one is a second or more away
    process.send_signal(signal.SIGTERM)
    signalled = time.time()
    stdout, stderr = process.communicate(timeout=30)
    stopped = time.time() - signalled
    time.sleep(2)

    assert process.returncode == 143, stderr
    assert stopped < 1.5, stopped
    assert [r for r in sandbox.requests() if r["method"] == "PUT" and r["time"] > signalled] == []
    [cluster] = json.loads(stdout)["clusters"]
    assert [r["method"] for r in cluster["requests"]] == ["PUT"], cluster
