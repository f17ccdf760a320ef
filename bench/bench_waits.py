"""apply at the default parallelism: clusters in a transition wait together, so a fleet's apply takes about one
cluster's chain (its requests and its transition) plus the time its requests take at that parallelism."""

import os
import statistics
import tempfile
from pathlib import Path

from bench.fleet import LOAD_NOTE, RequestLog, sandbox_server, timed_run, write_fleet_desired, write_fleet_seed

LATENCY_S = 0.050
PARALLELISM = 10  # apply's default: the figures are measured at it, not at a tuned one
RUNS = 3
# (what, clusters, transition seconds, desired kube-proxy mode, goal, against): "alone" compares with one cluster
# alone, "ideal" with one cluster alone plus every request of the run at the parallelism (LATENCY_S each).
CASES = (
    ("resets", 20, 5.0, "ipvs", 1.3, "alone"),
    ("updates", 200, 1.0, "iptables", 2.0, "alone"),
    ("updates", 1000, 1.0, "iptables", 1.3, "ideal"),
)


# Figures of this benchmark before the read before a write came from a shared listing and the ramp grew by quarter
# seconds, kept for comparison.
BEFORE = (
    "Before each cluster's read right before its write came from its project's shared listing (it was a direct GET "
    "each) and the request budget's ramp grew every quarter of a second (it grew every second: 9 requests in the "
    "first, 27 in the next, ...), this benchmark on commit c9f60a6, 2026-12-07 20:51 UTC, load average 1.4 to 1.1: "
    "20 resets 6.1 s alone, 7.9 s the fleet (1.30x, 135 requests); 200 updates 1.9 s alone, 6.7 s the fleet (3.50x, "
    "484 requests); 1,000 updates 1.9 s alone, 18.7 s the fleet, ideal 16.3 s (1.15x, 2,899 requests). At "
    f"--parallelism {PARALLELISM} and 50 ms a request, 484 requests alone take 2.4 s: 200 updates could not come "
    "within 2x of one alone with a GET per cluster before its write, whatever the ramp."
)


def run() -> str:
    load = os.getloadavg()[0]  # what else the machine ran meanwhile: it stretches every wall time
    rows = [_case(*case) for case in CASES]
    loads = f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    return "\n".join(
        [
            "## apply at the default parallelism: waits hold no request",
            "",
            f"Whole `ovhkube apply DIR --auto-approve` processes (default `--parallelism {PARALLELISM}`) against a "
            f"sandbox at --latency-ms {LATENCY_S * 1000:.0f} with the transition given (a PUT or reset keeps the "
            "cluster busy that long), 20 clusters a project; each fleet from a fresh seed, median of "
            f"{RUNS}, interleaved with the same apply of one cluster alone. The ideal of a large fleet is one cluster "
            f"alone plus the time all its requests take at the parallelism (requests x {LATENCY_S * 1000:.0f} ms / "
            f"{PARALLELISM}, the requests counted from the sandbox's request log).",
            "",
            "| apply | transition | one alone (s) | fleet (s) | requests | ideal (s) | ratio | goal "
            f"| --clusters-at-once {PARALLELISM} (s) |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"`--clusters-at-once {PARALLELISM}`: one run of the same fleet with each cluster holding its place from "
            f"its first request to its verification, so that only {PARALLELISM} waits overlap; not run for 1,000 "
            "updates.",
            "",
            f"{LOAD_NOTE} Load during these runs (1-minute load average, {os.cpu_count()} cores): {loads}.",
            "",
            BEFORE,
        ]
    )


def _case(what: str, count: int, transition: float, mode: str, goal: float, against: str) -> str:
    alone, fleet, requests = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for size in (1, count):
            write_fleet_seed(root / f"seed-{size}.yaml", size)
            write_fleet_desired(root / f"desired-{size}", size, "PT60S", mode=mode)
        options = ("--latency-ms", str(int(LATENCY_S * 1000)), "--transition-seconds", str(transition))
        for attempt in range(RUNS):  # interleaved, so that both see the same load
            for size, runs in ((1, alone), (count, fleet)):
                log = RequestLog(root / f"requests-{size}-{attempt}.jsonl")
                state = root / f"state-{size}-{attempt}.sqlite3"
                seed = root / f"seed-{size}.yaml"
                with sandbox_server(state, seed, *options, "--request-log", str(log.path)) as env:
                    runs.append(timed_run(["apply", str(root / f"desired-{size}"), "--auto-approve"], env))
                    if size == count:
                        requests.append(len(log.since_last()))
        before = None
        if against == "alone":
            with sandbox_server(root / "state-before.sqlite3", root / f"seed-{count}.yaml", *options) as env:
                args = ["apply", str(root / f"desired-{count}"), "--auto-approve"]
                before = timed_run([*args, "--clusters-at-once", str(PARALLELISM)], env)["wall"]
    one = statistics.median(r["wall"] for r in alone)
    whole = statistics.median(r["wall"] for r in fleet)
    sent = int(statistics.median(requests))
    ideal = one + sent * LATENCY_S / PARALLELISM if against == "ideal" else one
    ratio = whole / ideal
    verdict = "met" if ratio <= goal else "NOT met"
    ideal_text = f"{ideal:.1f}" if against == "ideal" else "(one alone)"
    return (
        f"| {count:,} {what} | {transition:g} s | {one:.1f} | {whole:.1f} | {sent:,} | {ideal_text} | "
        f"**{ratio:.2f}x** | {goal}x of {'the ideal' if against == 'ideal' else 'one alone'} ({verdict}) | "
        f"{'' if before is None else f'{before:.1f}'} |"
    )
