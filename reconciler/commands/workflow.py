"""Steps that plan, apply and drift share: load the files, pick the targets, read live state, make the plan."""

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from reconciler.commands.console import err
from reconciler.commands.settings import Settings, is_terminal
from reconciler.errors import UserError
from reconciler.escape import quoted_list
from reconciler.live.api import ApiClient
from reconciler.model import DesiredCluster
from reconciler.plan.data import Change

PROGRESS_FROM = 20  # clusters; below that a progress bar is noise


def load_or_fail(paths: list[str], settings: Settings, opening=None) -> list[DesiredCluster]:
    """The desired clusters, or every problem on stderr and exit 1 before any API call. The files' Account
    documents go to `opening` (an ApiOpening): each project is then read and written through its account."""
    loaded = load_checked(paths, settings)
    if opening is not None and loaded.accounts:
        opening.use_accounts(loaded.accounts)
    return loaded.clusters


def load_accounts_or_fail(paths: list[str], settings: Settings, outcome: str) -> list:
    """The Account documents of `--accounts PATH...`, or every problem in them on stderr and exit 1 (`outcome`: what
    the error says happened, "nothing was read")."""
    from reconciler.files.accounts import load_accounts

    accounts, problems = load_accounts(paths)
    for problem in problems:
        err(str(problem), settings, fg="red")
    if problems:
        raise UserError(f"{len(problems)} problem(s) in the Account documents; {outcome}")
    if not accounts:
        raise UserError(f"--accounts: no Account document in {', '.join(paths)}")
    return accounts


def load_checked(paths: list[str], settings: Settings, offline: bool = False):
    """The files read and valid (warnings on stderr), or every problem on stderr and exit 1. `offline`: the command
    never reads the API, so the error does not say it did not."""
    from reconciler.files.load import FOREIGN_FILE
    from reconciler.files.validate import load_desired

    loaded = load_desired(paths)
    skipped = [w for w in loaded.warnings if w.message == FOREIGN_FILE]
    shown = [w for w in loaded.warnings if settings.verbose or w not in skipped] + loaded.problems
    for problem in sorted(shown, key=lambda problem: problem.sort_key):  # by file and line, as validate lists them
        err(str(problem), settings, fg="red" if problem.is_error else "yellow")
    if skipped and not settings.verbose:
        err(f"note: skipped {len(skipped)} file(s) that are not desired-state files (a seed, CI files); -v lists them")
    if not loaded.ok:
        unread = "" if offline else "; no cluster was read from the API"
        raise UserError(f"{len(loaded.problems)} problem(s) in the files{unread}")
    # The files' objects live as long as the run: out of the cyclic collector's scans, which otherwise walk them
    # again on every full collection while the live state is read (about 30 ms of CPU in a plan of 1,000 clusters).
    gc.freeze()
    return loaded


def select_targets(
    clusters: list[DesiredCluster], targets: list[str] | None, warn: bool = True
) -> list[DesiredCluster]:
    """`--target NAME` or `--target PROJECT/NAME`; a target that matches nothing is an error, not a silent no-op.
    `warn`: say that the others are left out (not where picking one cluster is the command's job: kubeconfig)."""
    if not targets:
        return clusters
    unknown = [t for t in targets if not any(_matches(c, t) for c in clusters)]
    if unknown:
        raise UserError(f"--target matches no cluster in the files: {quoted_list(unknown)}")
    chosen = [c for c in clusters if any(_matches(c, t) for t in targets)]
    if not warn:
        return chosen
    err(
        f"warning: --target is in effect: {len(chosen)} of {len(clusters)} cluster(s) are looked at, the others "
        "are not compared at all. Use it for an exception (one cluster to fix now), not in routine runs."
    )
    return chosen


def _matches(cluster: DesiredCluster, target: str) -> bool:
    return target in (cluster.name, f"{cluster.project}/{cluster.name}")


@contextmanager
def progress(total_hint: int, label: str, settings: Settings) -> Iterator:
    """A progress callback(done, total): a bar on a terminal for a large fleet, silent otherwise."""
    if total_hint < PROGRESS_FROM or not is_terminal(sys.stderr):
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True, no_color=not settings.color), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def plan_fleet(
    api: ApiClient,
    clusters: list[DesiredCluster],
    parallelism: int,
    settings: Settings,
    whole_projects: bool = False,
    all_pools: bool = False,
):
    """(LiveView, Plan) of the clusters. A cluster is planned as soon as its project's listing is in, if it needs no
    other read, while the rest of the fleet is awaited: planning 1,000 clusters is ~25 ms of CPU that would otherwise
    follow the last answer. The plan is make_plan's of the whole view, cluster for cluster."""
    from reconciler.plan.planner import make_plan, plan_cluster

    early: dict[tuple[str, str], Change] = {}

    def plan_early(cluster: DesiredCluster, result) -> None:
        early[cluster.key] = plan_cluster(cluster, result)

    with collector_paused():
        view = read_fleet(
            api, clusters, parallelism, settings, whole_projects, on_complete=plan_early, all_pools=all_pools
        )
        the_plan = make_plan(clusters, view, api.endpoint_label, planned=early)
    return view, with_connections(api, the_plan)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off while the live state is read and planned, and what was made meanwhile then frozen
    out of it, as the files are (load_checked): the view and the plan hold no reference cycles and live as long as
    the run, yet every full collection walked them all again (docs/benchmarks.md). It is back on after an
    exception too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def with_connections(api: ApiClient, the_plan):
    """The plan, saying which account served each of its projects when the files declare accounts (AccountsApi)."""
    from dataclasses import replace

    from reconciler.live.accounts import AccountsApi
    from reconciler.plan.data import Connection

    if not isinstance(api, AccountsApi):
        return the_plan
    projects = [change.cluster.project for change in the_plan.changes]
    connections = tuple(Connection(*served) for served in api.connections(projects))
    return replace(the_plan, accounts=connections)


def read_only_or_fail(opening, read):
    """(read(api), endpoint label) through the Api of `opening` (an ApiOpening), opened read-only: it refuses anything
    but GET before sending it: plan, drift and export can never change a cluster. An API failure is one line and
    exit 1 (in cli.main)."""
    with opening.api() as api:
        if not api.read_only:
            raise RuntimeError("read_only_or_fail needs a read-only Api")  # a wiring mistake, caught by every test
        return read(api), api.endpoint_label


def plan_fleet_or_fail(
    opening,
    settings: Settings,
    clusters: list[DesiredCluster],
    parallelism: int,
    whole_projects: bool = False,
    all_pools: bool = False,
) -> tuple:
    """(LiveView, Plan) of the declared clusters, read-only; `all_pools`: the pools of every found cluster too
    (drift --unmanaged), not only of those whose file declares pools."""
    return read_only_or_fail(
        opening, lambda api: plan_fleet(api, clusters, parallelism, settings, whole_projects, all_pools)
    )[0]


def read_fleet(
    api: ApiClient,
    clusters: list[DesiredCluster],
    parallelism: int,
    settings: Settings,
    whole_projects: bool = False,
    on_complete=None,
    all_pools: bool = False,
):
    """The LiveView of the clusters; `whole_projects`: every cluster of their projects too (drift --unmanaged);
    `on_complete(cluster, result)`: called as soon as a cluster's live state is all in, where it needs no other
    read (its IP restrictions, OIDC or node pools), while other projects are awaited; `all_pools`: see
    plan_fleet_or_fail."""
    from reconciler.live.control_plane import read_parts
    from reconciler.live.read import read_live
    from reconciler.plan.planner import desired_ref, parts_to_read

    desired = {cluster.key: cluster for cluster in clusters}
    # IP restrictions and OIDC have their own GETs: read only where the files manage them or a reset will wipe them.
    needs: dict[tuple[str, str], tuple[str, ...]] = {}

    def resolved(key: tuple[str, str], result) -> None:
        cluster = desired.get(key)
        if cluster is None:
            return
        needs[key] = parts_to_read(cluster, result)
        if on_complete is not None and not needs[key] and not cluster.node_pools:
            on_complete(cluster, result)

    with progress(len(clusters), "reading live state", settings) as on_progress:
        refs = [desired_ref(c) for c in clusters]
        view = read_live(api, refs, parallelism, on_progress, whole_projects=whole_projects, on_result=resolved)
    fail_on_one_cause(api, view)
    needs = {c.key: needs[c.key] if c.key in needs else parts_to_read(c, view.results[c.key]) for c in clusters}
    read_parts(api, view, needs, parallelism)
    read_node_pools(api, view, clusters, parallelism, all_pools)
    return view


def read_node_pools(
    api: ApiClient, view, clusters: list[DesiredCluster], parallelism: int, all_pools: bool = False
) -> None:
    """One pool listing per cluster whose file declares pools (none for the others, unless `all_pools`); its
    flavors where the plan would create a pool of a flavor."""
    from reconciler.live.node_pools import add_flavors, add_node_pools, add_region_flavors
    from reconciler.plan.node_pools import needs_flavors

    declaring = [c for c in clusters if c.node_pools]
    add_node_pools(api, view, [c.key for c in (clusters if all_pools else declaring)], parallelism)
    flavored = []
    creating: dict[tuple[str, str], str] = {}  # clusters to create with pools of a flavor: their region
    for cluster in declaring:
        result = view.results[cluster.key]
        if result.found is not None and needs_flavors(cluster.node_pools, result.found.node_pools or []):
            flavored.append(cluster.key)
        elif result.found is None and not result.error and cluster.region and needs_flavors(cluster.node_pools, []):
            creating[cluster.key] = cluster.region
    add_flavors(api, view, flavored, parallelism)
    add_region_flavors(api, view, creating, parallelism)


def fail_on_one_cause(api: ApiClient, view) -> None:
    """A cause shared by the whole run (credentials, access rules, an unseeded sandbox) is one error line with its
    hint, not an error entry per cluster."""
    from urllib.parse import urlsplit

    from reconciler.live.causes import one_cause

    label = api.endpoint_label
    sandbox = label == "sandbox" or urlsplit(label).hostname in ("127.0.0.1", "localhost", "::1")
    projects = len(view.listed) + len(view.project_failures)
    cause = one_cause(view.project_failures, projects, sandbox)
    if cause:
        raise UserError(cause)
