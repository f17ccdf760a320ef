"""Sandbox speed: signed GETs per second with 10 client threads, and the latency `--latency-ms 50` adds.

The sandbox runs as `ovhkube sandbox serve` in its own process (as in the fleet benchmarks); the client is
reconciler.live.client (python-ovh signing, one pooled session), so the figure is what ovhkube itself can get.
"""

import os
import statistics
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench.fleet import CREDENTIALS, PROJECT, sandbox_server, write_seed
from reconciler.commands.connect import open_api
from reconciler.commands.settings import Settings

THREADS = 10
RUNS = 5
RUN_SECONDS = 2.0
LATENCY_SAMPLES = 40
CLUSTER_PATH = f"/cloud/project/{PROJECT}/kube/00000000-0000-4000-8000-000000000000"


@contextmanager
def credentials():
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def gets_per_second(api) -> float:
    deadline = time.monotonic() + RUN_SECONDS
    counts = [0] * THREADS

    def worker(index: int) -> None:
        while time.monotonic() < deadline:
            api.get(CLUSTER_PATH)
            counts[index] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def median_call_ms(api) -> float:
    api.get(CLUSTER_PATH)  # warm the connection
    samples = []
    for _ in range(LATENCY_SAMPLES):
        started = time.perf_counter()
        api.get(CLUSTER_PATH)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


@contextmanager
def sandbox_api(folder: Path, *options: str):
    """An Api on a seeded `sandbox serve` process started with these options."""
    folder.mkdir()
    write_seed(folder / "seed.yaml", 10)
    with (
        sandbox_server(folder / "state.sqlite3", folder / "seed.yaml", *options) as env,
        open_api(Settings(endpoint=env["OVH_ENDPOINT"]), parallelism=THREADS) as api,
    ):
        yield api


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp, credentials():
        with sandbox_api(Path(tmp) / "plain") as api:
            rates = [gets_per_second(api) for _ in range(RUNS)]
            plain_ms = median_call_ms(api)
        with sandbox_api(Path(tmp) / "slow", "--latency-ms", "50") as api:
            slow_ms = median_call_ms(api)
    rate = statistics.median(rates)
    added = slow_ms - plain_ms
    return "\n".join(
        [
            "## Sandbox",
            "",
            "`ovhkube sandbox serve` in its own process; client: reconciler.live.client (signed GETs of one cluster).",
            "",
            "| measure | result | goal |",
            "|---|---|---|",
            f"| signed GETs per second, {THREADS} client threads, latency 0 (median of {RUNS} runs of "
            f"{RUN_SECONDS:.0f} s) | {rate:.0f}/s | >= 500/s {'(met)' if rate >= 500 else '(NOT met)'} |",
            f"| one GET, latency 0 (median of {LATENCY_SAMPLES}) | {plain_ms:.1f} ms | |",
            f"| one GET, `--latency-ms 50` (median of {LATENCY_SAMPLES}) | {slow_ms:.1f} ms | |",
            f"| latency added by `--latency-ms 50` | {added:.1f} ms | 50 +- 5 ms "
            f"{'(met)' if abs(added - 50) <= 5 else '(NOT met)'} |",
            "",
            f"Runs at latency 0: {', '.join(f'{r:.0f}' for r in rates)} GETs/s.",
        ]
    )
