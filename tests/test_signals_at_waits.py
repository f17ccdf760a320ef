"""Every wait honours the first Ctrl-C or SIGTERM: plan, drift and apply's planning, waiting on the request budget
(one request a second, 30 projects) or for an answer slow to come, stop within a second, send nothing more and exit
130 or 143."""

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
import yaml
from signalling import stopped_by_signal

CLI = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())"]
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


def _held_answers(released: threading.Event):
    """A gateway fault: the request reaches the sandbox, and its answer is held until `released` (at most 30 s), as
    an API slow to answer holds it up to the client's read timeout."""

    def held(status: int, payload: bytes) -> tuple[int, bytes]:
        released.wait(30)
        return status, payload

    return held


@pytest.mark.parametrize("command", ["plan", "drift", "apply"])
@pytest.mark.parametrize("signal_name, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_while_a_read_waits_for_its_answer_ends_the_process_at_once(
    sandbox, through_gateway, tmp_path, command, signal_name, code
):
    """The project's listing is on the wire and its answer slow to come: the process ends within a second of the
    signal all the same (its thread was joined at exit: the process lived until the answer came, up to the read
    timeout)."""
    from apply_helpers import live, seed, wanted, write_fleet

    seed(sandbox, live(1, "web"))
    fleet = write_fleet(tmp_path, wanted("web", "ipvs"))
    released = threading.Event()
    gateway, env = through_gateway(sandbox, {("GET", "/kube"): [_held_answers(released)] * 5})
    line = [*CLI, command, fleet] + (["--auto-approve"] if command == "apply" else [])
    try:
        returncode, took, _, stderr = stopped_by_signal(
            line, env, lambda: gateway.count("GET", "/kube") > 0, getattr(signal, signal_name)
        )
    finally:
        released.set()

    assert returncode == code, stderr
    assert took < 1.5, took
    assert "Traceback" not in stderr and "internal error" not in stderr


@pytest.mark.parametrize("signal_name, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_while_apply_waits_for_a_write_s_answer_ends_the_process_after_the_account(
    sandbox, through_gateway, tmp_path, signal_name, code
):
    """The first Ctrl-C or SIGTERM waits for nothing in flight: the account within a second, and the process ends
    with it."""
    from apply_helpers import IPTABLES_60S, live, seed, wanted, write_fleet

    seed(sandbox, live(1, "web"))
    fleet = write_fleet(tmp_path, wanted("web", kubeProxy=IPTABLES_60S))
    released = threading.Event()
    gateway, env = through_gateway(sandbox, {("PUT", "/customization"): [_held_answers(released)]})
    line = [*CLI, "apply", fleet, "--auto-approve", "--format", "json"]
    try:
        returncode, took, stdout, stderr = stopped_by_signal(
            line, env, lambda: gateway.count("PUT", "/customization") > 0, getattr(signal, signal_name)
        )
    finally:
        released.set()

    assert returncode == code, stderr
    assert took < 1.5, took
    [web] = json.loads(stdout)["clusters"]
    assert web["result"] == "interrupted" and "its result is unknown" in web["reason"]


def test_a_signal_while_plan_reads_the_projects_descriptions_sends_nothing_more(sandbox_factory, tmp_path):
    """After the listings, a text plan reads each project's description, on the request budget too."""
    sandbox = sandbox_factory()
    fleet = _fleet(sandbox, tmp_path)
    env = sandbox.env() | {"OVHKUBE_MAX_RPS": "1"}
    descriptions = [f"/cloud/project/{project}" for project in PROJECTS]

    def reading_descriptions() -> bool:
        return sum(r["path"] in descriptions for r in sandbox.requests()) >= 2

    process = subprocess.Popen(
        [*CLI, "plan", fleet], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 90  # 30 listings at one request a second first
    while not reading_descriptions() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reading_descriptions(), "plan never read the projects' descriptions"
    process.send_signal(signal.SIGTERM)
    signalled = time.time()
    stdout, stderr = process.communicate(timeout=30)
    stopped = time.time() - signalled
    time.sleep(1.5)  # a request released by its slot would have reached the sandbox by now

    late = [r["path"] for r in sandbox.requests() if r["time"] > signalled]
    assert (process.returncode, late) == (143, []), stderr
    assert stopped < 1.5, stopped
