"""`ovhkube validate` on 1,000 cluster files against a bare PyYAML C-loader parse of the same files.

Both are timed as whole processes (start-up included: that is what CI pays), interleaved so that the shared
machine's noise falls on both alike; the figures are medians. Goal: validate at most 3x the bare parse.
A third command, validate with the compiled schema check (files/fastcheck.py) turned off, so that every document goes
through jsonschema, shows what that check buys: it stays only while it is what holds validate under the goal.
"""

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = 1000
RUNS = 9
GOAL_RATIO = 3.0
OVHKUBE = str(Path(sys.executable).parent / "ovhkube")
BARE_PARSE = """
import os, sys, yaml
for root, dirs, names in os.walk(sys.argv[1]):
    for name in sorted(names):
        with open(os.path.join(root, name), "rb") as stream:
            list(yaml.load_all(stream.read(), Loader=yaml.CSafeLoader))
"""


def cluster_file(index: int) -> str:
    mode = ("iptables", "ipvs")[index % 2]
    project = f"{0x5D2B6E0F8C4A4B19A7E3C1D9F0B28A64 + index % 8:032x}"
    return f"""# yaml-language-server: $schema=../schemas/cluster.schema.json
apiVersion: ovhkube/v1
kind: Cluster
metadata:
  name: cluster-{index:04d}
spec:
  project: {project}
  region: {("GRA7", "SBG5", "BHS5")[index % 3]}
  version: "1.31"
  kubeProxyMode: {mode}
  customization:
    apiServer:
      admissionPlugins:
        enabled: [AlwaysPullImages, NodeRestriction]
        disabled: []
    kubeProxy:
      iptables: {{minSyncPeriod: PT1S, syncPeriod: PT{30 + index % 60}S}}
      ipvs: {{minSyncPeriod: PT0S, scheduler: rr, syncPeriod: PT1M, tcpFinTimeout: PT0S, tcpTimeout: PT0S}}
  lifecycle:
    allowReset: {"true" if index % 10 == 0 else "false"}
"""


WITHOUT_FASTCHECK = """
import sys
import reconciler.files.validate as validate
validate._fast_check = lambda: None
from reconciler.cli import main
raise SystemExit(main(["validate", sys.argv[1]]))
"""


def timed(command: list[str], expect_exit: int = 0) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process; CPU (user + system) is what the shared machine's load blurs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != expect_exit:
        raise RuntimeError(f"{command[:2]} exited {result.returncode}: {result.stdout[-500:]}{result.stderr[-500:]}")
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def run() -> str:
    with tempfile.TemporaryDirectory() as folder:
        for index in range(FILES):
            Path(folder, f"cluster-{index:04d}.yaml").write_text(cluster_file(index))
        commands = {
            "validate": [OVHKUBE, "validate", folder],
            "bare": [sys.executable, "-c", BARE_PARSE, folder],
            "version": [OVHKUBE, "--version"],
            "no_fastcheck": [sys.executable, "-c", WITHOUT_FASTCHECK, folder],
        }
        for command in commands.values():  # warm the file cache and the bytecode
            timed(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(RUNS):
            for name, command in commands.items():
                wall, used = timed(command)
                times[name].append(wall)
                cpu[name].append(used)
    median = {name: statistics.median(values) for name, values in times.items()}
    cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
    spread = {name: f"{min(values):.3f} .. {max(values):.3f} s" for name, values in times.items()}
    ratio = median["validate"] / median["bare"]
    slow_ratio = median["no_fastcheck"] / median["bare"]
    verdict = "meets" if ratio <= GOAL_RATIO else "MISSES"
    return f"""## validate

`ovhkube validate` on {FILES:,} generated cluster files (one cluster each, both blocks managed) against a bare
`python -c` PyYAML `CSafeLoader` parse of the same files; whole processes, start-up included, medians of
{RUNS} interleaved runs.

| what | median | runs (min .. max) | CPU median |
|---|---|---|---|
| `ovhkube validate DIR` | {median["validate"]:.3f} s | {spread["validate"]} | {cpu_median["validate"]:.3f} s |
| bare PyYAML C-loader parse | {median["bare"]:.3f} s | {spread["bare"]} | {cpu_median["bare"]:.3f} s |
| `ovhkube --version` (start-up) | {median["version"]:.3f} s | {spread["version"]} | {cpu_median["version"]:.3f} s |
| validate, compiled check off (jsonschema for every document) | {median["no_fastcheck"]:.3f} s \
| {spread["no_fastcheck"]} | {cpu_median["no_fastcheck"]:.3f} s |

Ratio validate / bare parse: **{ratio:.2f}x** ({verdict} the goal of at most {GOAL_RATIO:g}x); without the compiled
check (files/fastcheck.py) {slow_ratio:.2f}x, and {cpu_median["no_fastcheck"] / cpu_median["validate"]:.2f}x the CPU: \
that check is what keeps validate near the goal, so it stays."""
