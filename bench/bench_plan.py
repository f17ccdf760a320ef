"""Plan 1,000 clusters of one project on the sandbox at --latency-ms 50, against the round-trip floor."""

import math
import tempfile
from pathlib import Path

from bench.fleet import medians, sandbox_server, timed_run, write_desired, write_seed

CLUSTERS = 1000
LATENCY_S = 0.050
RUNS = 3


def floor_seconds(clusters: int, parallelism: int) -> float:
    # The clock call, then the listing and two reads per cluster packed into waves of `parallelism`.
    return (1 + math.ceil((1 + 2 * clusters) / parallelism)) * LATENCY_S


def run() -> str:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_seed(root / "seed.yaml", CLUSTERS, "PT30S")
        write_desired(root / "desired", CLUSTERS, "PT60S")  # every cluster differs: a full plan
        with sandbox_server(root / "state.sqlite3", root / "seed.yaml", "--latency-ms", "50") as env:
            for parallelism in (10, 30):
                args = ["plan", str(root / "desired"), "--parallelism", str(parallelism), "--format", "json"]
                result = medians([timed_run(args, env) for _ in range(RUNS)])
                floor = floor_seconds(CLUSTERS, parallelism)
                rows.append(
                    f"| {parallelism} | {floor:.2f} | {result['wall']:.2f} | {result['wall'] / floor:.2f}x "
                    f"| {1000 * result['cpu'] / CLUSTERS:.2f} | {result['rss_mb']:.0f} |"
                )
    return "\n".join(
        [
            f"## plan: {CLUSTERS} clusters, one project, sandbox at --latency-ms 50",
            "",
            f"Whole `ovhkube plan` processes (start-up, loading {CLUSTERS} documents, reads, diff, JSON output), "
            f"median of {RUNS}. Floor: (1 + ceil((1 + 2N) / P)) x 50 ms. Goal: at most 1.2x the floor.",
            "",
            "| parallelism | floor (s) | wall (s) | wall / floor | CPU ms per cluster | peak RSS (MB) |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )
