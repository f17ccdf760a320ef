"""Hostile policies: one that runs for hours stops on Ctrl-C or SIGTERM at once, and a message of megabytes is cut
on its one line, as every other message is."""

import signal
import sys

import pytest
from apply_helpers import live, seed, wanted, write_fleet
from signalling import stopped_by_signal

ENDLESS = """\
package main

import rego.v1

deny contains sprintf("m%d", [i]) if {
	some i in numbers.range(1, 100000000)
}
"""
HUGE_MESSAGE = """\
package main

import rego.v1

tens := concat("", [s | some _ in numbers.range(1, 100000); s := "xxxxxxxxxx"])

deny contains {"cluster": "alpha", "msg": concat("", ["\\u001b[2J", tens])}
"""


def fleet(sandbox, tmp_path) -> str:
    seed(sandbox, live(1, "alpha"))
    return write_fleet(tmp_path, wanted("alpha", mode="ipvs", allow_reset=True))


@pytest.mark.parametrize("signal_name, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_policy_that_runs_for_hours_stops_on_a_signal_within_a_second(sandbox, tmp_path, signal_name, code):
    path = fleet(sandbox, tmp_path)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "endless.rego").write_text(ENDLESS)
    line = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "plan", path]
    line += ["--policy", str(tmp_path / "policies")]
    # The plan is read, and the policy is running: signalled two seconds into it.
    returncode, took, _, stderr = stopped_by_signal(
        line, sandbox.env(), lambda: bool(sandbox.requests()), getattr(signal, signal_name), settle=2
    )
    assert returncode == code, stderr
    assert took < 1.5, took
    assert "Traceback" not in stderr and "internal error" not in stderr


def test_a_message_of_a_megabyte_is_cut_on_its_line(sandbox, run_ovhkube, tmp_path):
    path = fleet(sandbox, tmp_path)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "huge.rego").write_text(HUGE_MESSAGE)
    text = run_ovhkube("plan", path, "--policy", tmp_path / "policies", env=sandbox.env())
    assert text.returncode == 1, text.stderr
    [denied] = [line for line in text.stdout.splitlines() if "DENIED" in line]
    assert "[main] \\u001b[2Jxxxx" in denied and denied.endswith("x...")
    assert len(denied) < 2200
    markdown = run_ovhkube("plan", path, "--policy", tmp_path / "policies", "--format", "markdown", env=sandbox.env())
    [denied] = [line for line in markdown.stdout.splitlines() if "\\[main\\]" in line]
    assert "`alpha`" in denied and denied.endswith("x...")
    assert len(denied) < 2200
