"""Drift: the plan's comparison, read as a report of what differs from git, for people, scripts and Prometheus.

The comparison is the plan's (reconciler.plan.planner); this module only names each cluster's state, by looking up
the plan's action and error reason (never its prose): in_sync (noop), drifted (update or reset; also a cluster that
was read and differs but that the plan cannot act on), missing (would be created), error (could not be read, or the
file cannot match it). A cluster that could not be read is an error and never counted as drift either way.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from reconciler import __version__
from reconciler.errors import ExitCode
from reconciler.escape import html_text, md_code, md_text, one_line
from reconciler.forges import GITHUB_COMMENT_LIMIT
from reconciler.indented_json import indented
from reconciler.live.read import LiveView
from reconciler.model import DesiredCluster, ErrorReason
from reconciler.paint import Painter
from reconciler.plan.data import Action, Change, Plan
from reconciler.plan.render import MarkdownBudget, ahead_note, code_cell, printable, value

FORMAT_VERSION = "1"


class DriftState(StrEnum):
    """A cluster's state in the report; the JSON strings are the values."""

    IN_SYNC = "in_sync"
    DRIFTED = "drifted"
    MISSING = "missing"
    ERROR = "error"


STATES = tuple(DriftState)
# The markdown report's first line is always "# " + this, so a workflow can find the issue it opened last time.
MARKDOWN_TITLE = "ovhkube drift report"


@dataclass(frozen=True)
class DriftedField:
    path: str
    desired: Any  # as the file writes it; None: not set
    live: Any  # as the API answers it; None: not set
    source: str | None = None  # "FILE:LINE" to edit to change the desired value
    defaults: str | None = None  # the ClusterDefaults document that writes it, when one does

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "desired": self.desired,
            "live": self.live,
            "source": self.source,
            "defaults": self.defaults,
        }

    @property
    def edit(self) -> str:
        """Which file to edit, for people."""
        where = printable(self.source)
        return f'{where} (ClusterDefaults "{printable(self.defaults)}")' if self.defaults else where


@dataclass(frozen=True)
class ClusterDrift:
    project: str
    name: str
    source: str
    state: DriftState
    id: str | None = None
    region: str | None = None
    status: str | None = None  # the live status; None where the cluster was not read (absent, or an error)
    fields: list[DriftedField] = field(default_factory=list)
    error: str | None = None
    note: str | None = None

    def to_dict(self, checked_at: str) -> dict:
        return {
            "project": self.project,
            "name": self.name,
            "id": self.id,
            "region": self.region,
            "source": self.source,
            "state": self.state,
            "status": self.status,
            "checked_at": checked_at,
            "fields": [f.to_dict() for f in self.fields],
            "error": self.error,
            "note": self.note,
        }


@dataclass(frozen=True)
class UnmanagedCluster:
    project: str
    name: str
    id: str
    region: str | None
    status: str | None
    kube_proxy_mode: str | None

    def to_dict(self) -> dict:
        return {
            "project": self.project,
            "name": self.name,
            "id": self.id,
            "region": self.region,
            "status": self.status,
            "kubeProxyMode": self.kube_proxy_mode,
        }


@dataclass(frozen=True)
class UnmanagedPool:
    """A live node pool of a declared cluster that no file declares (Karpenter's, the CRD's, the console's)."""

    project: str
    cluster: str
    cluster_id: str
    name: str
    id: str
    flavor: str | None
    desired_nodes: int | None
    status: str | None

    def to_dict(self) -> dict:
        return {
            "project": self.project,
            "cluster": self.cluster,
            "clusterId": self.cluster_id,
            "name": self.name,
            "id": self.id,
            "flavor": self.flavor,
            "desiredNodes": self.desired_nodes,
            "status": self.status,
        }


@dataclass
class DriftReport:
    clusters: list[ClusterDrift]
    endpoint: str
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    unmanaged: list[UnmanagedCluster] | None = None  # None: --unmanaged was not asked
    unmanaged_counts: dict[str, int] = field(default_factory=dict)  # per project listed
    unmanaged_errors: list[str] = field(default_factory=list)  # listed clusters that could not be read
    unmanaged_pools: list[UnmanagedPool] | None = None  # None: --unmanaged was not asked

    @property
    def checked_at_text(self) -> str:
        return self.checked_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def summary(self) -> dict:
        counts: dict[str, int | None] = {state: sum(c.state == state for c in self.clusters) for state in STATES}
        counts["unmanaged"] = None if self.unmanaged is None else len(self.unmanaged)
        return counts

    @property
    def has_errors(self) -> bool:
        return bool(self.unmanaged_errors) or any(c.state == DriftState.ERROR for c in self.clusters)

    @property
    def has_drift(self) -> bool:
        strays = bool(self.unmanaged) or bool(self.unmanaged_pools)
        return strays or any(c.state in (DriftState.DRIFTED, DriftState.MISSING) for c in self.clusters)

    @property
    def exit_code(self) -> ExitCode:
        if self.has_errors:
            return ExitCode.ERROR
        return ExitCode.DRIFT if self.has_drift else ExitCode.OK

    def to_dict(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "tool_version": __version__,
            "checked_at": self.checked_at_text,
            "endpoint": self.endpoint,
            "summary": self.summary,
            "clusters": [c.to_dict(self.checked_at_text) for c in self.clusters],
            "unmanaged": None if self.unmanaged is None else [u.to_dict() for u in self.unmanaged],
            "unmanaged_errors": list(self.unmanaged_errors),
            "unmanaged_pools": None if self.unmanaged_pools is None else [p.to_dict() for p in self.unmanaged_pools],
        }


# Building the report from the plan


STATE_OF_ACTION = {
    Action.NOOP: DriftState.IN_SYNC,
    Action.UPDATE: DriftState.DRIFTED,
    Action.UPGRADE: DriftState.DRIFTED,
    Action.RESET: DriftState.DRIFTED,
    Action.CREATE: DriftState.MISSING,
    Action.DELETE: DriftState.DRIFTED,  # marked spec.delete: true, and it still exists
}
# An `error` entry by its reason. The cluster was read and differs from its file, but the plan cannot act on it (the
# reset gate, a status that will not turn READY by itself): it has drifted all the same. Otherwise its drift is
# unknown, or the file can never match it: an error. Every reason is listed, so a new one needs a decision here.
STATE_OF_REASON = {
    ErrorReason.RESET_NOT_ALLOWED: DriftState.DRIFTED,
    ErrorReason.RESET_WOULD_LOSE: DriftState.DRIFTED,  # the live mode differs from the file
    ErrorReason.MODE_WITHOUT_EFFECT: DriftState.DRIFTED,  # the live mode differs from the file, though it has no effect
    ErrorReason.NOT_READY: DriftState.DRIFTED,
    ErrorReason.UPGRADE_NOT_ALLOWED: DriftState.DRIFTED,
    ErrorReason.UPGRADE_REFUSED_BY_POLICY: DriftState.DRIFTED,
    ErrorReason.PLAN_CHANGE: DriftState.DRIFTED,  # the live plan differs from the file's (which no apply can change)
    ErrorReason.POOL_NOT_ALLOWED: DriftState.DRIFTED,  # a pool differs from its file in what only a replacement changes
    ErrorReason.DELETE_NOT_ALLOWED: DriftState.DRIFTED,  # marked spec.delete: true, and it still exists
    ErrorReason.READ_FAILED: DriftState.ERROR,
    ErrorReason.UNKNOWN_IF_EXISTS: DriftState.ERROR,
    ErrorReason.NAME_TAKEN_TWICE: DriftState.ERROR,
    ErrorReason.ID_NOT_FOUND: DriftState.ERROR,
    ErrorReason.ID_NAME_MISMATCH: DriftState.ERROR,
    ErrorReason.REGION_REQUIRED: DriftState.ERROR,
    ErrorReason.REGION_MISMATCH: DriftState.ERROR,
    ErrorReason.VERSION_NOT_OFFERED: DriftState.ERROR,  # the file asks for what cannot be: fixed in the file
    ErrorReason.POOL_INVALID: DriftState.ERROR,
    ErrorReason.NETWORK_INVALID: DriftState.ERROR,  # the file asks for what the cluster's plan cannot have
}


def compare(plan: Plan) -> list[ClusterDrift]:
    """One ClusterDrift per planned cluster, in the plan's order."""
    return [classify(change) for change in plan.changes]


def classify(change: Change) -> ClusterDrift:
    ref = change.cluster
    fields = [DriftedField(c.path, c.after, c.before, c.source, c.defaults) for c in change.diff]
    # A live value past the file's floor (a version OVHcloud upgraded) is drift too: the file no longer says
    # exactly what runs, though nothing would be sent.
    ahead = [DriftedField(c.path, c.after, c.before, c.source, c.defaults) for c in change.ahead]
    notes = [ahead_note(c) for c in change.ahead]
    common: dict[str, Any] = {
        "project": ref.project,
        "name": ref.name,
        "source": change.source,
        "id": ref.id,
        "region": ref.region,
        "status": change.status,
    }
    if change.action is not Action.ERROR:
        state = STATE_OF_ACTION[change.action]
        if state == DriftState.MISSING:
            notes.insert(0, "the cluster does not exist: apply would create it")
        elif change.action is Action.DELETE:
            notes.insert(0, "the cluster is marked for deletion (spec.delete: true) and still exists")
        elif ahead:
            state = DriftState.DRIFTED
        shown = fields + ahead if state == DriftState.DRIFTED else []
        return ClusterDrift(state=state, fields=shown, note="; ".join(notes) or None, **common)
    if change.reason is not None and STATE_OF_REASON[change.reason] == DriftState.DRIFTED:
        note = "; ".join([change.error or "", *notes])
        return ClusterDrift(state=DriftState.DRIFTED, fields=fields + ahead, note=note, **common)
    return ClusterDrift(
        state=DriftState.ERROR, fields=fields + ahead, error=change.error, note="; ".join(notes) or None, **common
    )


def find_unmanaged(
    view: LiveView, declared: list[DesiredCluster], projects: set[str]
) -> tuple[list[UnmanagedCluster], dict[str, int], list[str]]:
    """Live clusters of `projects` that no file in `declared` names (by name, or by a pinned id)."""
    names = {(c.project, c.name) for c in declared} | {(c.project, c.renamed_from) for c in declared if c.renamed_from}
    ids = {(c.project, c.id) for c in declared if c.id}
    found, counts, errors = [], {}, []
    for project in sorted(projects):
        if project not in view.clusters_by_project:
            continue  # the listing failed: every declared cluster of the project already reports it
        strays = [
            UnmanagedCluster(
                project, c.get("name", ""), c.get("id", ""), c.get("region"), c.get("status"), c.get("kubeProxyMode")
            )
            for c in view.clusters_by_project[project]
            if (project, c.get("name")) not in names and (project, c.get("id")) not in ids
        ]
        found += strays
        counts[project] = len(strays)
        errors += [
            f"cluster {cluster_id} of project {project} could not be read, so whether a file declares it is "
            f"unknown: {message}"
            for (where, cluster_id), message in sorted(view.read_errors.items())
            if where == project and (project, cluster_id) not in ids
        ]
    return found, counts, errors


def find_unmanaged_pools(view: LiveView, declared: list[DesiredCluster]) -> list[UnmanagedPool]:
    """The live pools of the declared clusters (those whose pools were read) that no file's pool stands for."""
    from reconciler.plan.node_pools import generations

    found = []
    for cluster in declared:
        result = view.results.get(cluster.key)
        live = result.found if result else None
        if live is None or live.node_pools is None:
            continue
        declared_names = frozenset(pool.name for pool in cluster.node_pools)
        owned = {
            id(member)
            for pool in cluster.node_pools
            for _, member in generations(pool.name, live.node_pools, declared_names)
        }
        found += [
            UnmanagedPool(
                cluster.project,
                cluster.name,
                str(live.cluster.get("id", "")),
                str(pool.get("name", "")),
                str(pool.get("id", "")),
                pool.get("flavor"),
                pool.get("desiredNodes"),
                pool.get("status"),
            )
            for pool in live.node_pools
            if id(pool) not in owned
        ]
    return found


# Formats


def render_json(report: DriftReport) -> str:
    return indented(report.to_dict()) + "\n"


def summary_line(report: DriftReport) -> str:
    counts = report.summary
    parts = [f"{counts['drifted']} drifted", f"{counts['missing']} missing"]
    if counts["unmanaged"] is not None:
        parts.append(f"{counts['unmanaged']} unmanaged")
    if report.unmanaged_pools is not None:
        parts.append(f"{len(report.unmanaged_pools)} unmanaged pool(s)")
    parts += [f"{counts['error']} error(s)", f"{counts['in_sync']} in sync"]
    return ", ".join(parts)


def field_line(drifted: DriftedField) -> str:
    edit = f"; edit {drifted.edit}" if drifted.source else ""
    return f"{drifted.path}: desired {value(drifted.desired)}, live {value(drifted.live)}{edit}"


def _status_note(cluster: ClusterDrift) -> str | None:
    if cluster.status and cluster.status != "READY":
        return f"status: {cluster.status} (not READY)"
    return None


TEXT_HEADLINES = {
    DriftState.DRIFTED: ("~", "has drifted from its file", "yellow"),
    DriftState.MISSING: ("+", "is missing", "yellow"),
    DriftState.ERROR: ("!", "could not be checked", "red"),
    DriftState.IN_SYNC: ("=", "is in sync", None),
}


def render_text(report: DriftReport, color: bool = False) -> str:
    paint = Painter(color)

    lines = []
    for cluster in report.clusters:
        status = _status_note(cluster)
        if cluster.state == DriftState.IN_SYNC and not status:
            continue
        sign, headline, hue = TEXT_HEADLINES[cluster.state]
        where = f"{cluster.project}/{cluster.id or ('new' if cluster.state == DriftState.MISSING else 'id unknown')}"
        title = f"{sign} {one_line(cluster.name)} ({one_line(where)}) {headline}"
        lines.append(paint(title, bold=True, fg=hue) + f"  [{one_line(cluster.source)}]")
        if cluster.error:
            lines.append(paint(f"    error: {one_line(cluster.error)}", fg="red"))
        lines += [f"    {field_line(f)}" for f in cluster.fields]
        lines += [f"    {one_line(extra)}" for extra in (status, cluster.note and f"note: {cluster.note}") if extra]
        lines.append("")
    for stray in report.unmanaged or []:
        lines.append(
            paint(
                f"? {one_line(stray.name)} ({one_line(f'{stray.project}/{stray.id}')}) is not declared in any file",
                bold=True,
                fg="yellow",
            )
            + one_line(f"  [{stray.region}, {stray.kube_proxy_mode}, {stray.status}]")
        )
    for pool in report.unmanaged_pools or []:
        where = f"{pool.cluster} ({pool.project}/{pool.cluster_id})"
        lines.append(
            paint(f"? node pool {one_line(pool.name)} of {one_line(where)} is not declared in any file", fg="yellow")
            + one_line(f"  [{pool.flavor}, {pool.desired_nodes} node(s), {pool.status}]")
        )
    lines += [paint(f"error: {one_line(message)}", fg="red") for message in report.unmanaged_errors]
    if report.unmanaged or report.unmanaged_errors or report.unmanaged_pools:
        lines.append("")
    verdict = {ExitCode.OK: "In sync", ExitCode.DRIFT: "Drift", ExitCode.ERROR: "Drift check incomplete"}[
        report.exit_code
    ]
    lines.append(
        paint(f"{verdict}: {summary_line(report)}.", bold=True)
        + f" Checked {report.checked_at_text} against {report.endpoint}."
    )
    return "\n".join(lines) + "\n"


def _cell(data: Any) -> str:
    return code_cell(value(data))


def _markdown_cluster(cluster: ClusterDrift) -> str:
    parts = [f"#### {md_code(cluster.name)}: {cluster.state} <code>{html_text(cluster.source)}</code>", ""]
    if cluster.error:
        parts += [f"> error: {md_text(cluster.error)}", ""]
    if cluster.note:
        parts += [f"> {md_text(cluster.note)}", ""]
    if cluster.fields:
        parts += ["| field | desired (git) | live | edit |", "|---|---|---|---|"]
        parts += [
            f"| {code_cell(f.path)} | {_cell(f.desired)} | {_cell(f.live)} | {code_cell(f.edit) if f.source else '-'} |"
            for f in cluster.fields
        ]
        parts.append("")
    return "\n".join(parts) + "\n"


def render_markdown(report: DriftReport, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """A stable title line, then the counts, a table of what is not in sync, and one section per cluster; under
    GitHub's size limit however large the fleet (what does not fit is named, least important first)."""
    footer = f"\n<sub>ovhkube {__version__}, endpoint {report.endpoint}, {report.checked_at_text}</sub>\n"
    text = MarkdownBudget(limit - len(footer))
    text.add(
        f"# {MARKDOWN_TITLE}\n\n**{summary_line(report)}**: checked {report.checked_at_text} against "
        f"`{report.endpoint}`.\n\n"
    )
    left_out = "\n_{} more cluster(s) not shown: the report would pass GitHub's limit; see the job's log._\n"
    shown = [c for c in report.clusters if c.state != DriftState.IN_SYNC or _status_note(c)]
    if shown:
        text.add("| cluster | project | state | live status | source |\n|---|---|---|---|---|\n")
        rows = [
            f"| {code_cell(c.name)} | {code_cell(c.project)} | **{c.state}** | {md_text(c.status or '-')} "
            f"| {code_cell(c.source)} |\n"
            for c in shown
        ]
        text.add_all(rows + ["\n"], left_out)
    else:
        text.add(f"Every cluster matches its file ({len(report.clusters)} cluster(s)).\n\n")
    if report.unmanaged:
        text.add(
            "### Clusters no file declares\n\n| cluster | project | id | region | mode | status |\n"
            "|---|---|---|---|---|---|\n"
        )
        rows = [
            f"| {code_cell(u.name)} | {code_cell(u.project)} | {code_cell(u.id)} | {md_text(u.region)} "
            f"| {md_text(u.kube_proxy_mode)} | {md_text(u.status)} |\n"
            for u in report.unmanaged
        ]
        text.add_all(rows + ["\n"], left_out)
    if report.unmanaged_pools:
        text.add(
            "### Node pools no file declares\n\n| pool | cluster | project | flavor | nodes | status |\n"
            "|---|---|---|---|---|---|\n"
        )
        rows = [
            f"| {code_cell(p.name)} | {code_cell(p.cluster)} | {code_cell(p.project)} | {md_text(p.flavor)} "
            f"| {md_text(str(p.desired_nodes))} | {md_text(p.status)} |\n"
            for p in report.unmanaged_pools
        ]
        text.add_all(rows + ["\n"], left_out)
    text.add_all([f"> error: {md_text(message)}\n" for message in report.unmanaged_errors], "> and {} more error(s)\n")
    text.add_all([_markdown_cluster(c) for c in shown if c.state != DriftState.IN_SYNC], left_out)
    return "".join(text.parts) + footer


def _label(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: dict, number: float | str) -> str:
    inside = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
    return f"{name}{{{inside}}} {number}" if labels else f"{name} {number}"


def _family(name: str, help_text: str, samples: list[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples]


def render_prometheus(report: DriftReport) -> str:
    """Text exposition format, for node_exporter's textfile collector or a pushgateway.

    A cluster that could not be read has no drift sample (its drift is unknown), only read_error 1.
    """
    keyed = [(c, {"project": c.project, "cluster": c.name}) for c in report.clusters]
    lines = _family(
        "ovhkube_cluster_drift",
        "1 when the cluster differs from its desired-state file or is missing, 0 when in sync.",
        [
            _sample("ovhkube_cluster_drift", k, int(c.state in (DriftState.DRIFTED, DriftState.MISSING)))
            for c, k in keyed
            if c.state != DriftState.ERROR
        ],
    )
    lines += _family(
        "ovhkube_cluster_drifted_fields",
        "Number of settings that differ from the file.",
        [
            _sample("ovhkube_cluster_drifted_fields", k, len(c.fields))
            for c, k in keyed
            if c.state == DriftState.DRIFTED
        ],
    )
    lines += _family(
        "ovhkube_cluster_read_error",
        "1 when the cluster could not be checked (its drift is unknown), else 0.",
        [_sample("ovhkube_cluster_read_error", k, int(c.state == DriftState.ERROR)) for c, k in keyed],
    )
    lines += _family(
        "ovhkube_cluster_ready",
        "1 when the live cluster is READY, 0 in any other status.",
        [_sample("ovhkube_cluster_ready", k, int(c.status == "READY")) for c, k in keyed if c.status],
    )
    if report.unmanaged is not None:
        lines += _family(
            "ovhkube_unmanaged_clusters",
            "Live clusters of the project that no desired-state file declares.",
            [
                _sample("ovhkube_unmanaged_clusters", {"project": project}, count)
                for project, count in sorted(report.unmanaged_counts.items())
            ],
        )
    if report.unmanaged_pools is not None:
        per_cluster: dict[tuple[str, str], int] = {}
        for pool in report.unmanaged_pools:
            per_cluster[(pool.project, pool.cluster)] = per_cluster.get((pool.project, pool.cluster), 0) + 1
        lines += _family(
            "ovhkube_unmanaged_node_pools",
            "Live node pools of a declared cluster that no desired-state file declares.",
            [
                _sample("ovhkube_unmanaged_node_pools", {"project": project, "cluster": cluster}, count)
                for (project, cluster), count in sorted(per_cluster.items())
            ],
        )
    lines += _family(
        "ovhkube_drift_check_timestamp_seconds",
        "Unix time of the drift check; alert when it grows old.",
        [_sample("ovhkube_drift_check_timestamp_seconds", {}, f"{report.checked_at.timestamp():.3f}")],
    )
    return "\n".join(lines) + "\n"


def render(report: DriftReport, fmt: str, color: bool = False) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "prometheus":
        return render_prometheus(report)
    return render_text(report, color)
