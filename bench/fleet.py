"""Shared by the fleet benchmarks: a seeded sandbox server in a subprocess, desired files, timed CLI runs."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

PROJECT = "b" * 32
CLI = [sys.executable, "-m", "reconciler.cli"]
GNU_TIME = "/usr/bin/time"
CREDENTIALS = {
    "OVH_APPLICATION_KEY": "sandbox-ak",
    "OVH_APPLICATION_SECRET": "sandbox-as",
    "OVH_CONSUMER_KEY": "sandbox-ck",
}


def cluster_name(index: int) -> str:
    return f"bench-{index:04d}"


def seed_cluster(index: int, sync_period: str) -> dict:
    """Cluster number `index` of a benchmark fleet, as a seed file holds it."""
    return {
        "id": f"00000000-0000-4000-8000-{index:012d}",
        "name": cluster_name(index),
        "region": "GRA7",
        "version": "1.31",
        "kubeProxyMode": "iptables",
        "status": "READY",
        "customization": {"kubeProxy": {"iptables": {"syncPeriod": sync_period}}},
    }


def write_seed(path: Path, count: int, sync_period: str = "PT30S") -> None:
    clusters = [seed_cluster(index, sync_period) for index in range(count)]
    path.write_text(yaml.safe_dump({"projects": [{"serviceName": PROJECT, "clusters": clusters}]}))


@contextmanager
def sandbox_server(state: Path, seed: Path, *options: str):
    """`ovhkube sandbox serve` in a subprocess; yields the environment that points the CLI at it."""
    command = CLI + ["sandbox", "serve", "--port", "0", "--state", str(state), "--seed", str(seed), *options]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first_line = server.stdout.readline().strip()
        url = first_line.removeprefix("listening on ")
        yield {**os.environ, **CREDENTIALS, "OVH_ENDPOINT": url, "NO_COLOR": "1"}
    finally:
        server.terminate()
        server.wait(timeout=10)


def timed_run(args: list[str], env: dict, command: list[str] = CLI) -> dict:
    """Wall time, CPU time and peak memory of one whole CLI process (`command` and `args`)."""
    # stderr goes to a file: a pipe nobody reads until the end blocks a process that writes more than 64 KiB.
    # Peak RSS from GNU time where there is one: the kernel counts a child's peak from the process it was forked
    # from (here the benchmark driver, which holds fleets of 10,000 clusters); time's own child starts small.
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as peak:
        measure = [GNU_TIME, "-f", "%M", "-o", peak.name] if os.path.exists(GNU_TIME) else []
        started = time.perf_counter()
        process = subprocess.Popen(measure + command + args, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        rss_kb = int(peak.read().split()[-1]) if measure else usage.ru_maxrss
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 2):
            errors.seek(0)
            raise RuntimeError(f"{' '.join(args)} exited {code}: {errors.read().decode()[-500:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": rss_kb / 1024}


def medians(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def project_id(index: int) -> str:
    return f"a{index:031x}"  # a letter first: YAML would read all digits as a number


def write_fleet_seed(path: Path, count: int, per_project: int = 20, sync_period: str = "PT30S") -> int:
    """`count` clusters, `per_project` to a project (the real API's limit is 20); returns the number of projects."""
    projects: dict[str, list] = {}
    for index in range(count):
        projects.setdefault(project_id(index // per_project), []).append(seed_cluster(index, sync_period))
    seed = {"projects": [{"serviceName": name, "clusters": clusters} for name, clusters in projects.items()]}
    path.write_text(yaml.safe_dump(seed, sort_keys=False), encoding="utf-8")
    return len(projects)


def write_fleet_desired(
    folder: Path, count: int, sync_period: str, per_project: int = 20, per_file: int = 100, mode: str = "iptables"
):
    """The desired files of write_fleet_seed's fleet, every cluster at `sync_period`; another `mode` than the
    seed's iptables resets each cluster (allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, count, per_file):
        documents = [
            {
                "apiVersion": "ovhkube/v1",
                "kind": "Cluster",
                "metadata": {"name": cluster_name(index)},
                "spec": {
                    "project": project_id(index // per_project),
                    "region": "GRA7",
                    "kubeProxyMode": mode,
                    "customization": {"kubeProxy": {mode: {"syncPeriod": sync_period}}},
                }
                | ({} if mode == "iptables" else {"lifecycle": {"allowReset": True, "workerNodesPolicy": "reinstall"}}),
            }
            for index in range(start, min(count, start + per_file))
        ]
        (folder / f"fleet-{start:05d}.yaml").write_text(yaml.safe_dump_all(documents), encoding="utf-8")


class RequestLog:
    """The sandbox's --request-log, read in slices: what one run cost."""

    def __init__(self, path: Path):
        self.path = path
        self.seen = 0

    def since_last(self) -> list[dict]:
        lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        fresh, self.seen = lines[self.seen :], len(lines)
        return [json.loads(line) for line in fresh if line.strip()]


def request_kind(entry: dict) -> str:
    """`GET list (expanded)`, `GET cluster`, `PUT customization`, ... for a request log entry."""
    parts = entry["path"].strip("/").split("/")
    if entry["path"] == "/auth/time":
        what = "clock"
    elif len(parts) == 4:
        what = "list (expanded)" if entry["expanded"] else "list"
    elif len(parts) == 5:
        what = "cluster"
    else:
        what = "/".join(parts[5:])
    return f"{entry['method']} {what}"


LOAD_NOTE = (
    "Measured on a 2-core machine that other work may share: absolute times vary from run to run, ratios compare "
    "runs made in one go, and request counts are exact."
)
