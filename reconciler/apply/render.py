"""An apply's account for people (a summary table and one closing line) and for machines (JSON)."""

from reconciler.apply.result import ApplyReport, ClusterOutcome, Result
from reconciler.apply.waiting import format_seconds
from reconciler.escape import capped, one_line, quoted
from reconciler.indented_json import indented
from reconciler.plan.render import value

COLUMNS = ("CLUSTER", "ACTION", "RESULT", "DURATION", "REASON")


def closing_line(report: ApplyReport) -> str:
    counts = report.summary
    deleted = f"{counts['deleted']} deleted, " if counts["deleted"] else ""
    line = (
        f"{counts['created']} created, {counts['updated']} updated, {counts['upgraded']} upgraded, "
        f"{counts['reset']} reset, {deleted}{counts['failed']} failed"
    )
    if counts["not_planned"]:
        line += f" ({counts['not_planned']} not applied: errors in the plan, --skip-errors)"
    if counts["done_elsewhere"]:
        line += f", {counts['done_elsewhere']} done by someone else"
    if counts["not_started"]:
        line += f", {counts['not_started']} not started (the rollout stopped)"
    if counts["deferred"]:
        line += f", {counts['deferred']} deferred to their maintenance window"
    if report.interrupted:
        stopped = "terminated (SIGTERM)" if report.terminated else "interrupted"
        return f"Apply {stopped}: {line}, {counts['interrupted']} interrupted, {counts['skipped']} not started."
    return f"Apply complete: {line}."


def _row(outcome: ClusterOutcome) -> tuple[str, ...]:
    reason = outcome.reason or ("; ".join(outcome.notes) if outcome.notes else "")
    return (
        one_line(outcome.change.cluster.name),
        outcome.change.action,
        outcome.result,
        format_seconds(outcome.duration),
        capped(one_line(reason)),
    )


def render_text(report: ApplyReport) -> str:
    shown = [o for o in report.outcomes if o.result is not Result.UNCHANGED]
    lines = []
    if shown:
        rows = [COLUMNS] + [_row(outcome) for outcome in shown]
        widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
            lines.append("  ".join(cells).rstrip())
        lines.append("")
    for outcome in shown:
        for miss in outcome.mismatches:
            lines.append(
                f"{one_line(outcome.change.cluster.name)}: {miss['path']}: expected {value(miss['expected'])}, "
                f"live {value(miss['live'])}"
            )
    if any(outcome.mismatches for outcome in shown):
        lines.append("")
    if report.rollout_stopped:
        lines.append(
            f"Rollout {quoted(report.rollout or '')} stopped: {report.rollout_stopped}; nothing later was sent. Once "
            "the failed cluster is healthy, apply again: what is done plans as no change, and the rollout goes on "
            "from there."
        )
    if report.rollout_waits and not report.rollout_stopped:
        lines.append(
            f"Rollout {quoted(report.rollout or '')} waits: {report.rollout_waits}; the later waves were not "
            "started. An apply once the window is open goes on from there."
        )
    if not report.waited:
        lines.append("Not waited for and not verified (--no-wait): run `ovhkube plan` later to confirm.")
    lines.append(closing_line(report))
    return "\n".join(lines) + "\n"


def render_json(report: ApplyReport) -> str:
    return indented(report.to_dict()) + "\n"
