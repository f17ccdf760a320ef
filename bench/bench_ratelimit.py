"""Under a rate limit: ovhkube's plan against a per-cluster reader written with python-ovh, 200 clusters in 10
projects, the sandbox answering 429 beyond 10 requests a second; and an apply of 20 clusters under a limit nobody
configured (5 requests a second, parallelism 30): the share of its requests refused."""

import tempfile
import time
from pathlib import Path

import ovh

from bench.fleet import (
    CREDENTIALS,
    LOAD_NOTE,
    RequestLog,
    project_id,
    sandbox_server,
    timed_run,
    write_fleet_desired,
    write_fleet_seed,
)
from reconciler.commands.connect import register_endpoint

CLUSTERS = 200
RATE = 10.0
FLEET_AT_FAIR_USE = 1000  # clusters, at 1 request a second (python-ovh issue #81: about 60 a minute)
APPLY_CLUSTERS = 20
APPLY_RATE = 5.0
APPLY_RUNS = 3
REFUSED_GOAL = 0.05  # of an apply's requests, under a limit nobody configured


def per_cluster_reader(url: str, projects: int, rate: float) -> int:
    """What a reader without the expanded listing does: list each project, then GET each cluster and its
    customization, one request every 1/rate seconds (paced at the limit, so never refused). Returns requests sent."""
    keys = (CREDENTIALS[name] for name in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"))
    client = ovh.Client(register_endpoint(url), *keys)
    _ = client.time_delta  # python-ovh learns the clock once (GET /auth/time)
    sent, next_slot = 1, time.monotonic()

    def paced_get(path: str):
        nonlocal sent, next_slot
        time.sleep(max(0.0, next_slot - time.monotonic()))
        next_slot = max(next_slot, time.monotonic()) + 1 / rate
        sent += 1
        return client.get(path)

    for index in range(projects):
        kube = f"/cloud/project/{project_id(index)}/kube"
        for cluster_id in paced_get(kube):
            paced_get(f"{kube}/{cluster_id}")
            paced_get(f"{kube}/{cluster_id}/customization")
    return sent


def run() -> str:
    return "\n\n".join([_plan_against_a_per_cluster_reader(), _apply_under_an_unconfigured_limit()])


def _apply_under_an_unconfigured_limit() -> str:
    """Each run on a fresh sandbox: plan and apply of 20 kubeProxy updates, no client limit set."""
    rows, sent, refused = [], 0, 0
    for number in range(1, APPLY_RUNS + 1):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            write_fleet_seed(root / "seed.yaml", APPLY_CLUSTERS)
            write_fleet_desired(root / "desired", APPLY_CLUSTERS, "PT60S")
            log = RequestLog(root / "requests.jsonl")
            options = ("--rate-limit", str(APPLY_RATE), "--transition-seconds", "2", "--request-log", str(log.path))
            with sandbox_server(root / "state.sqlite3", root / "seed.yaml", *options) as env:
                env.pop("OVHKUBE_MAX_RPS", None)  # a limit nobody configured
                args = ["apply", str(root / "desired"), "--auto-approve", "--parallelism", "30"]
                result = timed_run(args, env)
                entries = log.since_last()
        signed = [e for e in entries if e["path"] != "/auth/time"]
        no = sum(e["status"] == 429 for e in signed)
        sent, refused = sent + len(signed), refused + no
        rows.append(f"| {number} | {len(signed)} | {no} ({no / len(signed):.1%}) | {result['wall']:.1f} |")
    share = refused / sent
    verdict = "met" if share < REFUSED_GOAL else "NOT met"
    return "\n".join(
        [
            f"## apply under a limit nobody configured: {APPLY_CLUSTERS} clusters, sandbox at --rate-limit "
            f"{APPLY_RATE:.0f}, --parallelism 30",
            "",
            f"One whole `ovhkube apply DIR --auto-approve --parallelism 30` process per run, no "
            f"`--max-requests-per-second`, against a fresh sandbox answering 429 past {APPLY_RATE:.0f} signed "
            f"requests a second (a burst of {APPLY_RATE:.0f}) with --transition-seconds 2: the plan's listing, a "
            "fresh read of each cluster before its PUT (a project's listing shared by its clusters), the PUT, the "
            "polls. Signed requests and refusals from the "
            "request log.",
            "",
            "| run | signed requests | refused (429) | wall (s) |",
            "|---|---|---|---|",
            *rows,
            "",
            f"All runs: **{refused} of {sent} refused ({share:.1%})**; goal under {REFUSED_GOAL:.0%}: {verdict}. "
            "Once the live state is read, apply ramps up over time (spaced evenly, 9 requests a second at first, "
            "three times that pace every quarter of a second without a refusal), so a limit meets a request or two "
            "at under three times its pace, not a round of them; a request waiting "
            "for its slot when a 429 comes takes a new one after the pause; and the pace the refusal teaches is "
            "measured over the last 5 s of the run (a second alone holds the limit's burst too).",
        ]
    )


def _plan_against_a_per_cluster_reader() -> str:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        projects = write_fleet_seed(root / "seed.yaml", CLUSTERS)
        write_fleet_desired(root / "desired", CLUSTERS, "PT30S")
        log = RequestLog(root / "requests.jsonl")
        options = ("--rate-limit", str(RATE), "--request-log", str(log.path))
        with sandbox_server(root / "state.sqlite3", root / "seed.yaml", *options) as env:
            ours = timed_run(["plan", str(root / "desired"), "--parallelism", "10"], env)
            our_requests = log.since_last()
            time.sleep(2)  # let the sandbox's bucket fill again
            started = time.perf_counter()
            their_count = per_cluster_reader(env["OVH_ENDPOINT"], projects, RATE)
            theirs = time.perf_counter() - started
            their_requests = log.since_last()
    assert len(their_requests) == their_count, (len(their_requests), their_count)
    refused = sum(e["status"] == 429 for e in our_requests)
    ratio = theirs / ours["wall"]
    ours_at_fair_use = FLEET_AT_FAIR_USE // 20 + 1  # one listing per project of 20, and the clock
    theirs_at_fair_use = FLEET_AT_FAIR_USE // 20 + 2 * FLEET_AT_FAIR_USE + 1
    return "\n".join(
        [
            f"## plan under a rate limit: {CLUSTERS} clusters in {projects} projects, sandbox at --rate-limit 10",
            "",
            "ovhkube: one whole `ovhkube plan --parallelism 10` process. The per-cluster reader: python-ovh, "
            "listing each project then reading each cluster and its customization, paced at 10 requests a second "
            "(bench/bench_ratelimit.py). One run each; requests from the request log.",
            "",
            "| reader | requests | refused (429) | wall (s) |",
            "|---|---|---|---|",
            f"| ovhkube plan | {len(our_requests)} | {refused} | {ours['wall']:.2f} |",
            f"| per-cluster reader (python-ovh) | {len(their_requests)} | 0 | {theirs:.1f} |",
            "",
            f"ovhkube is **{ratio:.0f}x** faster (goal: at least 20x). At the fair-use guidance of one request a "
            f"second, a fleet of {FLEET_AT_FAIR_USE:,} clusters (at least {FLEET_AT_FAIR_USE // 20} projects) costs "
            f"ovhkube {ours_at_fair_use} requests, about {ours_at_fair_use / 60:.1f} minutes, against "
            f"{theirs_at_fair_use:,} requests, about {theirs_at_fair_use / 60:.0f} minutes, for the per-cluster "
            f"reader: {theirs_at_fair_use / ours_at_fair_use:.0f}x (computed from the request counts).",
            "",
            LOAD_NOTE,
        ]
    )
