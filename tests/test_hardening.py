"""Small ways in which a file, a URL or a signal could once make ovhkube say or do the wrong thing, one test each."""

import json
import re
import socket
import subprocess
import sys

import pytest

NINES = "PT4." + "9" * 29 + "S"  # one digit more than Decimal's default precision


def document(ipvs: dict) -> str:
    spec = {"project": "0123456789abcdef0123456789abcdef", "customization": {"kubeProxy": {"ipvs": ipvs}}}
    return json.dumps({"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "abc"}, "spec": spec})


def test_a_tcp_timeout_just_under_5_s_fails_the_rule_however_many_nines(run_ovhkube, tmp_path):
    path = tmp_path / "nines.yaml"
    path.write_text(document({"tcpTimeout": NINES}))

    result = run_ovhkube("validate", path)

    assert result.returncode == 1
    assert f"tcpTimeout: must be 0 (keep the system value) or at least 5 seconds; got {NINES}" in result.stdout


def test_durations_compare_exactly():
    from reconciler.durations import canonical, to_seconds

    assert to_seconds(NINES) < 5 and canonical(to_seconds(NINES)) == NINES


def test_sigterm_stops_apply_at_once_accounts_for_what_was_sent_and_exits_143(sandbox_factory, tmp_path):
    """How CI cancels a job: SIGTERM. No new cluster is started, nothing is waited for, the account says what was
    sent, and the exit is 143."""
    import signal
    import subprocess
    import sys
    import time

    from apply_helpers import IPTABLES_60S, clusters_by_name, live, seed, wanted, write_fleet

    sandbox = sandbox_factory(transition_seconds=30)
    seed(sandbox, *(live(n, f"c{n}") for n in range(1, 4)))
    fleet = write_fleet(tmp_path, *(wanted(f"c{n}", kubeProxy=IPTABLES_60S) for n in range(1, 4)))
    command = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "apply", fleet]
    command += ["--auto-approve", "--clusters-at-once", "2", "--format", "json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sandbox.env())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until both clusters of the first wave are being changed
        if sum(c["status"] == "REDEPLOYING" for c in clusters_by_name(sandbox).values()) == 2:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    stdout, stderr = process.communicate(timeout=20)

    assert process.returncode == 143, stderr
    assert time.monotonic() - started < 10  # the 30 s transitions were not waited for
    account = json.loads(stdout)
    assert account["interrupted"] and account["terminated"]
    results = sorted(c["result"] for c in account["clusters"])
    assert results == ["interrupted", "interrupted", "skipped"]
    sent = [r["method"] for c in account["clusters"] for r in c["requests"]]
    assert sent == ["PUT", "PUT"]  # what was sent, as sent; the third cluster got nothing
    assert sum(c["status"] == "REDEPLOYING" for c in clusters_by_name(sandbox).values()) == 2


@pytest.mark.parametrize("signal_name, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_no_request_goes_out_after_a_signal_from_a_thread_waiting_for_its_slot(
    sandbox_factory, tmp_path, signal_name, code
):
    """At one request every 2 s, the workers wait in the request budget for their slot; after Ctrl-C or SIGTERM the
    account is written and those requests must not go out, nor keep the process alive until their slot comes."""
    import signal
    import time

    from apply_helpers import IPTABLES_60S, live, seed, wanted, write_fleet

    sandbox = sandbox_factory(transition_seconds=30)
    seed(sandbox, *(live(n, f"c{n}") for n in range(1, 5)))
    fleet = write_fleet(tmp_path, *(wanted(f"c{n}", kubeProxy=IPTABLES_60S) for n in range(1, 5)))
    command = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "apply", fleet]
    command += ["--auto-approve", "--parallelism", "4", "--format", "json", "--max-requests-per-second", "0.5"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sandbox.env())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not [r for r in sandbox.requests() if r["method"] == "PUT"]:
        time.sleep(0.1)
    process.send_signal(getattr(signal, signal_name))
    signalled = time.time()
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == code, stderr
    assert time.time() - signalled < 1.5  # not kept alive until the next slot (2 s away at most)
    time.sleep(2.5)  # a request released by its slot would have reached the sandbox by now
    late = [r for r in sandbox.requests() if r["method"] != "GET" and r["time"] > signalled]
    assert late == [], late
    sent = [r["method"] for c in json.loads(stdout)["clusters"] for r in c["requests"]]
    assert sent == [r["method"] for r in sandbox.requests() if r["method"] == "PUT"]  # the account is what went out


@pytest.mark.parametrize("command", ["plan", "drift"])
@pytest.mark.parametrize("signal_name, code, said", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_a_plan_or_drift_stopped_while_reading_says_so_and_exits_130_or_143(
    sandbox_factory, tmp_path, command, signal_name, code, said
):
    """typer turns an interrupt that escapes a command into a bare 130: Ctrl-C was silent, and SIGTERM (how CI
    cancels a job) lost its 143."""
    import signal
    import time

    from apply_helpers import live, seed, wanted, write_fleet

    sandbox = sandbox_factory(latency_ms=2000)  # each answer 2 s late: the reads are under way when the signal lands
    seed(sandbox, live(1, "web"))
    command_line = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", command]
    command_line.append(write_fleet(tmp_path, wanted("web")))
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    process = subprocess.Popen(command_line, text=True, env=sandbox.env(), **pipes)
    deadline = time.monotonic() + 30
    while not sandbox.requests() and time.monotonic() < deadline:  # the clock's answer: the reads come next
        time.sleep(0.05)
    process.send_signal(getattr(signal, signal_name))
    stdout, stderr = process.communicate(timeout=20)
    assert (process.returncode, stdout) == (code, "")
    assert stderr.splitlines()[-1].startswith(said) and "Traceback" not in stderr


def test_a_password_in_the_endpoint_url_is_in_no_output_nor_plan_file(sandbox, run_ovhkube, tmp_path):
    from apply_helpers import IPTABLES_60S, live, seed, wanted, write_fleet

    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    endpoint = sandbox.url.replace("http://", "http://deploy:hunter2-secret@")
    plan_file = tmp_path / "plan.json"

    result = run_ovhkube("--endpoint", endpoint, "-v", "plan", fleet, "--out", plan_file, env=sandbox.env())

    everything = result.stdout + result.stderr + (plan_file.read_text() if plan_file.exists() else "")
    assert "hunter2-secret" not in everything and "deploy:" not in everything
    assert result.returncode == 0, result.stderr
    assert json.loads(plan_file.read_text())["endpoint"] == sandbox.url.rstrip("/")


def _raw_request(url: str, head: str, body: bytes = b"") -> tuple[int, dict]:
    """Send a request by hand (a client that lies about or floods its body) and read the answer."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, json.loads(answer.split(b"\r\n\r\n", 1)[1] or b"null")


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_the_sandbox_refuses_a_huge_body_unread_and_a_stranger_before_reading_the_body(sandbox):
    path = f"/1.0/cloud/project/{'0' * 32}/kube"
    huge = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {512 * 1024 * 1024}\r\n\r\n"
    status, body = _raw_request(sandbox.url, huge)  # 512 MiB announced, none sent: answered at once

    assert status == 413 and body["class"] == "Client::RequestEntityTooLarge"

    stranger = f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Ovh-Application: nobody\r\nContent-Length: 1000\r\n\r\n"
    status, body = _raw_request(sandbox.url, stranger)  # the body never comes: refused without waiting for it

    assert status == 403 and body["errorCode"] == "INVALID_KEY"


def test_a_fifo_in_a_folder_is_skipped_with_a_note_and_a_near_miss_api_version_is_an_error(run_ovhkube, tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would wait for a writer forever
    (tmp_path / "typo.yaml").write_text(document({}).replace('"ovhkube/v1"', '"OvhKube/v1"'))

    result = run_ovhkube("validate", tmp_path, timeout=30)

    assert result.returncode == 1
    assert "pipe.yaml: warning: skipped: not a regular file" in result.stdout + result.stderr
    assert "typo.yaml:1:" in result.stdout and 'apiVersion: must be ovhkube/v1; got "OvhKube/v1"' in result.stdout


def test_the_files_of_one_run_are_bounded_in_total_not_only_each(run_ovhkube, tmp_path):
    padding = "#" * (1024 * 1024 - 300) + "\n"
    for number in range(20):  # 20 files just under the 1 MiB cap each
        (tmp_path / f"f{number:02d}.yaml").write_text(document({}).replace('"abc"', f'"c{number}"') + "\n" + padding)

    result = run_ovhkube("validate", tmp_path)

    assert result.returncode == 1
    assert "f16.yaml: not read, nor the 3 file(s) after it: the files given pass 16 MiB in total" in result.stdout


def test_verbose_lines_of_parallel_reads_stay_whole(sandbox, tmp_path):
    """Each -v line reaches stderr in one write, so lines of threads cannot run together. Seen deterministically:
    stderr is a SOCK_SEQPACKET socket, which keeps every write(2) as its own packet, and PYTHONUNBUFFERED=1 (as CI
    images often set) makes each write of Python's stderr one write(2); print() wrote the text and its newline apart.
    """
    from apply_helpers import IPTABLES_60S, live, wanted, write_fleet

    projects = [f"{n:02x}".rjust(32, "a") for n in range(1, 21)]  # one listing each, read in parallel
    sandbox.seed({"projects": [{"serviceName": p, "clusters": [live(n, f"c{n}")]} for n, p in enumerate(projects)]})
    documents = [wanted(f"c{n}", kubeProxy=IPTABLES_60S) for n in range(len(projects))]
    for document, project in zip(documents, projects, strict=True):
        document["spec"]["project"] = project
    fleet = write_fleet(tmp_path, *documents)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    command = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())"]
    with ours, theirs:
        process = subprocess.Popen(
            [*command, "-v", "plan", fleet, "--parallelism", "20"],
            env=sandbox.env(PYTHONUNBUFFERED="1", OVHKUBE_LOCK_FILE=str(tmp_path / "lock")),
            stdout=subprocess.DEVNULL,
            stderr=theirs.fileno(),
        )
        theirs.close()
        packets = list(iter(lambda: ours.recv(65536), b""))
    assert process.wait(timeout=60) == 0

    api_writes = [packet.decode() for packet in packets if b"api: " in packet]
    assert len(api_writes) >= 20
    assert all(re.fullmatch(r"api: (GET|PUT|POST) \S+ \d{3} \d+ ms.*\n", write) for write in api_writes), api_writes


def test_unsigned_requests_do_not_spend_a_clients_sandbox_rate_limit(sandbox_factory):
    import requests

    from reconciler.sandbox import DEFAULT_CONSUMER_KEY

    sandbox = sandbox_factory(rate_limit=1)
    sandbox.seed({"projects": [{"serviceName": "a" * 32, "clusters": []}]})
    forged = {"X-Ovh-Consumer": DEFAULT_CONSUMER_KEY, "X-Ovh-Application": "sandbox-ak"}
    statuses = {
        requests.get(f"{sandbox.url}/cloud/project/{'a' * 32}/kube", headers=forged).status_code for _ in range(20)
    }

    assert statuses == {403}  # refused, unsigned
    assert sandbox.client().get(f"/cloud/project/{'a' * 32}/kube") == []  # the real client's budget is whole


def test_line_numbers_count_only_yaml_1_2_line_breaks(run_ovhkube, tmp_path):
    """NEL, U+2028 and U+2029 end a line for PyYAML (YAML 1.1), not for YAML 1.2 nor for editors: a problem after
    them is still reported on the line the editor shows."""
    path = tmp_path / "separators.yaml"
    path.write_text(
        "# one\u2028\n# two\u2029\n# three\x85\napiVersion: ovhkube/v1\n"
        "kind: Cluster\nmetadata: {name: abc}\nspec:\n  project: 0123456789abcdef0123456789abcdef\n"
        "  customization: {kubeProxy: {ipvs: {syncPeriod: PT0S}}}\n",
        encoding="utf-8",
    )

    result = run_ovhkube("validate", path)

    assert result.returncode == 1
    assert f"{path}:9:" in result.stdout and "syncPeriod: must be greater than 0" in result.stdout


def test_a_folder_that_cannot_be_read_is_an_error_not_a_silent_gap(tmp_path):
    """A sub-folder the run may not list would drop its clusters from plan and drift without a word. Root reads
    any folder, so as root the CLI runs without the capabilities that let it (setpriv, from util-linux)."""
    import os
    import subprocess
    import sys

    (tmp_path / "visible.yaml").write_text(document({}))
    hidden = tmp_path / "team-b"
    hidden.mkdir()
    (hidden / "cluster.yaml").write_text(document({}).replace('"abc"', '"def"'))
    hidden.chmod(0o000)
    unprivileged = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    command = [*unprivileged, sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())"]
    try:
        result = subprocess.run([*command, "validate", tmp_path], capture_output=True, text=True, timeout=60)
    finally:
        hidden.chmod(0o755)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{hidden}: cannot read folder: Permission denied" in result.stdout


def test_a_password_holding_an_at_sign_or_a_mistyped_scheme_is_still_shown_nowhere(sandbox, run_ovhkube, tmp_path):
    from apply_helpers import IPTABLES_60S, live, seed, wanted, write_fleet

    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    at_sign = sandbox.url.replace("http://", "http://deploy:hunter2@secret@")

    result = run_ovhkube("--endpoint", at_sign, "-v", "plan", fleet, env=sandbox.env())

    assert result.returncode == 0, result.stderr  # the API is reached at the URL without them, and signs it so
    assert "secret" not in result.stdout + result.stderr and "hunter2" not in result.stdout + result.stderr
    typo = run_ovhkube("--endpoint", "HTPS://deploy:hunter2@api.example/1.0", "plan", fleet, env=sandbox.env())
    assert typo.returncode == 1 and "unknown endpoint" in typo.stderr and "hunter2" not in typo.stderr
