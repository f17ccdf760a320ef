"""plan, drift and apply open the API (python-ovh, the session, GET /auth/time) while the files load. Users see the
same as when it was opened after: the files' problems first and alone, whatever the API; nothing signed sent before
the files are valid (the unsigned GET /auth/time may be); -v lines whole, after the files' warnings."""

import socket
import subprocess
import sys
import time

import pytest
from apply_helpers import live, seed, wanted, write_fleet

from reconciler.commands.opening import THREAD_NAME

BAD_FILE = "apiVersion: ovhkube/v2\nkind: Cluster\nmetadata: {name: web}\nspec: {project: %s}\n" % ("ab" * 16)
PROBLEM = ':1:13: apiVersion: must be ovhkube/v1; got "ovhkube/v2"'
FILES_ERROR = "error: 1 problem(s) in the files; no cluster was read from the API"
COMMANDS = [["plan"], ["drift"], ["apply", "--auto-approve"]]
NO_KEYS = {"OVH_APPLICATION_KEY": "", "OVH_APPLICATION_SECRET": "", "OVH_CONSUMER_KEY": ""}


def closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bad_files(tmp_path) -> str:
    (tmp_path / "bad.yaml").write_text(BAD_FILE)
    return str(tmp_path / "bad.yaml")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("api", ["unreachable", "no credentials"])
def test_bad_files_are_said_alone_and_at_once_whatever_the_api(run_ovhkube, sandbox, tmp_path, command, api):
    path = bad_files(tmp_path)
    # An API that never answers would be retried for 30 s: the files' error must not wait for it, nor mention it.
    env = sandbox.env(OVH_ENDPOINT=f"http://127.0.0.1:{closed_port()}/1.0", OVHKUBE_CLOCK_BUDGET_SECONDS="30")
    if api == "no credentials":
        env = sandbox.env(**NO_KEYS)
    started = time.monotonic()
    result = run_ovhkube(*command[:1], path, *command[1:], env=env)
    assert result.returncode == 1
    assert result.stderr == f"{path}{PROBLEM}\n{FILES_ERROR}\n"
    assert result.stdout == ""
    assert time.monotonic() - started < 15  # the process's own start-up, not the 30 s of retries


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_bad_files_send_nothing_signed_at_most_the_unsigned_clock_request(run_ovhkube, sandbox, tmp_path, command):
    seed(sandbox, live(1, "web"))
    path = bad_files(tmp_path)
    result = run_ovhkube("-v", *command[:1], path, *command[1:], env=sandbox.env())
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}{PROBLEM}" and lines[-1] == FILES_ERROR
    # -v: the clock request, if it was answered before the files were found bad, is logged, whole, before the error.
    for line in lines[1:-1]:
        assert line.startswith(("api: GET /auth/time 200 ", "requests: 1 (GET 1); 0 retries")), line
    assert [(r["method"], r["path"]) for r in sandbox.requests()] in ([], [("GET", "/auth/time")])


def test_verbose_lines_of_the_api_follow_the_files_warnings_whole(run_ovhkube, sandbox, tmp_path):
    seed(sandbox, live(1, "web"))
    write_fleet(tmp_path, wanted("web"))
    (tmp_path / "ci.yaml").write_text("stages: [test]\n")  # not a desired-state file: a warning under -v
    result = run_ovhkube("plan", str(tmp_path), "-v", env=sandbox.env())
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'ci.yaml'}:1:1: warning: skipped: not a desired-state file")
    assert lines[1].startswith("api: GET /auth/time 200 ") and lines[2].startswith("api: GET /cloud/project/")
    # The clock, the listing and the project's description (issue 22: a text plan names projects by it).
    assert lines[-1].startswith("requests: 3 (GET 3); 0 retries") and len(lines) == 5


def test_the_apis_error_comes_after_the_files_warnings_when_the_files_are_valid(run_ovhkube, sandbox, tmp_path):
    write_fleet(tmp_path, wanted("web"))
    (tmp_path / "ci.yaml").write_text("stages: [test]\n")
    result = run_ovhkube("drift", str(tmp_path), "-v", env=sandbox.env(**NO_KEYS))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'ci.yaml'}:1:1: warning: skipped")
    assert len(lines) == 2 and lines[1].startswith(f"error: missing API credentials for {sandbox.url};")


# Records every module loaded, with the thread that loads it (a module already loaded is not looked for again).
RECORDING_IMPORTS = f"""
import sys, threading
loaded = []
class Recorder:
    def find_spec(self, name, path=None, target=None):
        loaded.append((threading.current_thread().name, name))
sys.meta_path.insert(0, Recorder())
from reconciler.cli import main
code = main()
print("opening thread loaded:", sorted(name for thread, name in loaded if thread == {THREAD_NAME!r}), file=sys.stderr)
raise SystemExit(code)
"""


@pytest.mark.parametrize("api", ["sandbox", "unreachable"])
def test_the_opening_thread_imports_nothing(sandbox, tmp_path, api):
    """A Ctrl-C or SIGTERM handled in the import system's own callbacks can leave Python's import lock held by the
    main thread: a thread importing after that would wait forever, and the command with it. So python-ovh and
    requests are imported by the main thread, and the opening's thread loads no module, whatever the API answers."""
    seed(sandbox, live(1, "web"))
    env = sandbox.env()
    if api == "unreachable":
        env = sandbox.env(OVH_ENDPOINT=f"http://127.0.0.1:{closed_port()}/1.0", OVHKUBE_CLOCK_BUDGET_SECONDS="1")
    fleet = write_fleet(tmp_path, wanted("web"))
    command = [sys.executable, "-c", RECORDING_IMPORTS, "-v", "plan", fleet]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == (0 if api == "sandbox" else 1), result.stderr
    assert "opening thread loaded: []" in result.stderr.splitlines()
