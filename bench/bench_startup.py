"""Start-up: `ovhkube --version`, `validate` of one file and `plan` of one cluster against a bare interpreter, whole
processes, interleaved; and where the time of --version goes (`python -X importtime`)."""

import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.fleet import LOAD_NOTE, sandbox_server, timed_run, write_fleet_desired, write_fleet_seed

RUNS = 9
CLI = [sys.executable, "-m", "reconciler.cli"]


def run() -> str:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_fleet_seed(root / "seed.yaml", 1)
        write_fleet_desired(root / "desired", 1, "PT60S")
        desired = str(root / "desired" / "fleet-00000.yaml")
        commands = {
            "bare `python -c pass`": ["-c", "pass"],
            "`ovhkube --version`": ["--version"],
            "`ovhkube validate FILE` (one cluster)": ["validate", desired],
            "`ovhkube plan FILE` (one cluster, sandbox)": ["plan", desired],
        }
        runs: dict[str, list[dict]] = {label: [] for label in commands}
        with sandbox_server(root / "state.sqlite3", root / "seed.yaml") as env:
            for _ in range(RUNS):  # interleaved, so that all see the same load
                for label, args in commands.items():
                    runs[label].append(_timed(args, env))
    bare = statistics.median(r["cpu"] for r in runs["bare `python -c pass`"])
    rows = []
    for label, results in runs.items():
        cpu = statistics.median(r["cpu"] for r in results)
        wall = statistics.median(r["wall"] for r in results)
        rows.append(f"| {label} | {wall:.3f} | {cpu:.3f} | {cpu / bare:.1f}x |")
    return "\n".join(
        [
            "## start-up",
            "",
            f"Whole processes, interleaved, median of {RUNS}; CPU is user + system time of the process. The plan "
            "reads one project of a local sandbox (no added latency).",
            "",
            "| command | wall (s) | CPU (s) | CPU against the bare interpreter |",
            "|---|---|---|---|",
            *rows,
            "",
            "The largest imports of `ovhkube --version` (`python -X importtime`, cumulative, one run): "
            + _largest_imports(),
            "",
            "typer converts every command's parameters through pydantic (`typer/_coercion.py`), which `validate` "
            "and `plan` therefore import (about 45 ms of CPU; typer already turns pydantic's plugin discovery off); "
            "`--version` (an eager callback) does not. python-ovh and requests load only in commands that talk to "
            "the API. Of ovhkube's own modules, the cost is mostly the standard library they need (dataclasses "
            "brings inspect, which typer loads anyway) and the creation of their dataclasses; a plan with "
            "`--format json` no longer imports the text renderer, the waves or the policy modules (6 to 8 ms), and "
            "no other import was found of note that a command loads without using it.",
            "",
            LOAD_NOTE,
        ]
    )


def _timed(args: list[str], env: dict) -> dict:
    if args[:1] == ["-c"]:
        return timed_run(args, env, command=[sys.executable])
    return timed_run(args, env)


def _largest_imports(count: int = 6) -> str:
    trace = subprocess.run([*CLI[:1], "-X", "importtime", *CLI[1:], "--version"], capture_output=True, text=True)
    top = []
    for line in trace.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line)
        if match and len(match[2]) <= 2:  # imported by ovhkube itself, or one level down
            top.append((int(match[1]), match[3]))
    return ", ".join(f"{name} {micro / 1000:.0f} ms" for micro, name in sorted(top, reverse=True)[:count]) + "."
