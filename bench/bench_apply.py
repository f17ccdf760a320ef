"""apply: what 100 kubeProxy updates across 5 projects cost in requests, by kind, per changed cluster; and the
client's CPU per cluster for 1,000 and 10,000 clusters with --no-wait (collecting results must stay linear)."""

import tempfile
from collections import Counter
from pathlib import Path

from bench.fleet import (
    LOAD_NOTE,
    RequestLog,
    request_kind,
    sandbox_server,
    timed_run,
    write_fleet_desired,
    write_fleet_seed,
)

UPDATES = 100
TRANSITION_S = 2.0
FLEETS = (1000, 10000)


def run() -> str:
    return "\n\n".join([_requests_per_update(), _cpu_per_cluster()])


def _requests_per_update() -> str:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        projects = write_fleet_seed(root / "seed.yaml", UPDATES)
        write_fleet_desired(root / "desired", UPDATES, "PT60S")
        log = RequestLog(root / "requests.jsonl")
        options = ("--latency-ms", "50", "--transition-seconds", str(TRANSITION_S), "--request-log", str(log.path))
        with sandbox_server(root / "state.sqlite3", root / "seed.yaml", *options) as env:
            result = timed_run(["apply", str(root / "desired"), "--auto-approve", "--parallelism", "100"], env)
            entries = log.since_last()
    kinds = Counter(request_kind(entry) for entry in entries)
    rows = [f"| {kind} | {count} | {count / UPDATES:.2f} |" for kind, count in sorted(kinds.items())]
    return "\n".join(
        [
            f"## apply: {UPDATES} kubeProxy updates across {projects} projects",
            "",
            f"One whole `ovhkube apply DIR --auto-approve --parallelism 100` process against a sandbox at "
            f"--latency-ms 50 --transition-seconds {TRANSITION_S:.0f}: the plan, a fresh read of each cluster right "
            "before its PUT and the polls (one expanded listing of a project serves every cluster of it about to be "
            "written, or waiting), the PUT, verification on the read that found READY. Requests from the sandbox's "
            "request log.",
            "",
            "| request | count | per changed cluster |",
            "|---|---|---|",
            *rows,
            f"| **all** | **{len(entries)}** | **{len(entries) / UPDATES:.2f}** |",
            "",
            f"Wall time {result['wall']:.1f} s; client CPU {result['cpu']:.2f} s.",
            "",
            LOAD_NOTE,
        ]
    )


def _cpu_per_cluster() -> str:
    rows, per_cluster = [], {}
    for count in FLEETS:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            projects = write_fleet_seed(root / "seed.yaml", count)
            write_fleet_desired(root / "desired", count, "PT60S")
            with sandbox_server(root / "state.sqlite3", root / "seed.yaml") as env:
                args = ["apply", str(root / "desired"), "--auto-approve", "--no-wait", "--parallelism", "30"]
                result = timed_run(args, env)
        per_cluster[count] = 1000 * result["cpu"] / count
        rows.append(
            f"| {count:,} | {projects} | {result['wall']:.1f} | {result['cpu']:.1f} | {per_cluster[count]:.2f} "
            f"| {result['rss_mb']:.0f} |"
        )
    small, large = FLEETS
    ratio = per_cluster[large] / per_cluster[small]
    return "\n".join(
        [
            "## apply --no-wait: client CPU per cluster, 1,000 and 10,000 clusters",
            "",
            "One whole `ovhkube apply DIR --auto-approve --no-wait --parallelism 30` process per fleet (20 clusters "
            "a project), sandbox with no added latency; every cluster gets a PUT. CPU: user + system time of the "
            "ovhkube process alone.",
            "",
            "| clusters | projects | wall (s) | client CPU (s) | CPU ms per cluster | peak RSS (MB) |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"CPU per cluster at {large:,} is {ratio:.2f}x the {small:,} figure (goal: within 1.5x).",
            "",
            LOAD_NOTE,
        ]
    )
