"""Plans for people: text as Terraform users read it, markdown for pull-request comments, JSON for machines."""

import json
from typing import Any

from reconciler.escape import html_text, md_code, md_text, one_line, without_userinfo
from reconciler.paint import Painter
from reconciler.plan.control_plane import upgrade_notice
from reconciler.plan.data import Action, Change, Plan
from reconciler.plan.diff import FieldChange
from reconciler.plan.node_pools import POOL_NOTICE
from reconciler.steps import NEW_CLUSTER_ID, StepKind

ERASE_WARNING = "ALL KUBERNETES DATA WILL BE ERASED"
GITHUB_COMMENT_LIMIT = 65_536
HEADLINES = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.UPGRADE: "will be UPGRADED",
    Action.RESET: "will be RESET",
    Action.NOOP: "is up to date",
    Action.ERROR: "cannot be planned",
}
SIGN_COLORS = {"+": "green", "~": "yellow", "-": "red"}


def value(data: Any) -> str:
    """A diff value on one line; a URL's user:password@ (from the API: the files refuse it) is never shown."""
    return "(unset)" if data is None else without_userinfo(json.dumps(data, separators=(", ", ": ")))


def code_cell(text: str) -> str:
    """Text as code in a markdown table cell: a `|` would end the cell, even inside backticks."""
    return md_code(text)


def change_line(change: Any) -> str:
    if change.sign == "+":
        return f"+ {change.path}: {value(change.after)}"
    if change.sign == "-":
        return f"- {change.path}: {value(change.before)} -> (unset)"
    return f"~ {change.path}: {value(change.before)} -> {value(change.after)}"


printable = one_line  # a name or path from a file as one line without control characters (as JSON escapes them)


def origin_note(change: Any) -> str:
    """Where the desired value of a changed field is written, for the person who would edit it."""
    return f"  # {printable(change.origin)}" if change.source else ""


def defaults_lines(plan: Plan) -> list[str]:
    """The blast radius of each ClusterDefaults document, for the plan's summary."""
    return [
        f'ClusterDefaults "{printable(entry["name"])}" ({printable(entry["source"])}): changes {entry["changed"]} '
        f"of the {entry['selected']} planned cluster(s) it selects"
        for entry in plan.defaults_impact
    ]


def reset_notice(change: Change) -> str:
    policy = next((s.body or {} for s in change.steps if s.kind is StepKind.RESET), {}).get("workerNodesPolicy")
    nodes = "reinstalled" if policy == "reinstall" else "deleted"
    return f"{ERASE_WARNING} (pods, services, configuration); worker nodes will be {nodes}"


def ahead_note(field_change: FieldChange) -> str:
    """A live value past the file's floor, kept as it is: said in the plan, reported by drift."""
    where = f" ({printable(field_change.origin)})" if field_change.source else ""
    return (
        f"{field_change.path} ahead: the cluster runs {printable(value(field_change.before))}, above "
        f"spec.{field_change.path} {printable(value(field_change.after))}{where}: OVHcloud upgraded this cluster "
        f"past the file; update the file to keep it exact"
    )


def notes(change: Change) -> list[str]:
    found = [ahead_note(field_change) for field_change in change.ahead]
    if change.action in (Action.UPDATE, Action.UPGRADE) and any(
        c.path.startswith("customization.kubeProxy") for c in change.diff
    ):
        found.append("kube-proxy will be restarted (rollout) to load its new configuration")
    if change.action is Action.CREATE and len(change.steps) > 1:
        # Whole paths: the reviewer sees where each follow-up goes, the new id a placeholder no real id can be.
        steps = "; ".join(f"{s.method} {one_line(s.path)}" for s in change.steps)
        found.append(
            f"requests, in order, each waited for READY (even with apply --no-wait): {steps} ({NEW_CLUSTER_ID}: the id "
            f"the create answers)"
        )
    elif len(change.steps) > 1:
        found.append(f"requests, in order, each waited for READY: {request_steps(change)}")
    return found


def request_steps(change: Change) -> str:
    """`POST reset; PUT ipRestrictions; POST update NEXT_MINOR`: what apply sends, in order."""
    steps = []
    for step in change.steps:
        strategy = (step.body or {}).get("strategy") if step.kind is StepKind.UPGRADE else None
        steps.append(step.short + (f" {strategy}" if strategy else ""))
    return "; ".join(steps)


def summary_line(plan: Plan) -> str:
    counts = plan.summary
    line = (
        f"Plan: {counts['create']} to create, {counts['update']} to update, {counts['upgrade']} to upgrade, "
        f"{counts['reset']} to reset."
    )
    extras = [f"{counts['noop']} unchanged"] + ([f"{counts['error']} error(s)"] if counts["error"] else [])
    return f"{line} ({', '.join(extras)})"


def render_text(plan: Plan, color: bool = False) -> str:
    paint = Painter(color)

    lines = []
    for change in plan.changes:
        if change.action is Action.NOOP and not change.warnings and not change.ahead:
            continue
        headline = f"# {one_line(change.cluster.label)} {HEADLINES[change.action]}"
        loud = change.action in (Action.RESET, Action.UPGRADE, Action.ERROR) or any(
            step.kind is StepKind.POOL_DELETE for step in change.steps
        )
        style = {"fg": "red", "bold": True} if loud else {"bold": True}
        lines.append(paint(headline, **style) + paint(f"  [{one_line(change.source)}]", dim=True))
        if change.action is Action.RESET:
            lines.append(paint(f"  !!! {reset_notice(change)} !!!", fg="red", bold=True))
        if change.action is Action.UPGRADE:
            lines.append(paint(f"  !!! {upgrade_notice(change.steps)} !!!", fg="red", bold=True))
        if change.error:
            lines.append(paint(f"  error: {one_line(change.error)}", fg="red"))
        for field_change in change.diff:
            line = paint(change_line(field_change), fg=SIGN_COLORS[field_change.sign])
            lines.append("  " + line + paint(origin_note(field_change), dim=True))
        lines += [f"    note: {note}" for note in notes(change)]
        for warning in change.warnings:
            if warning.startswith(POOL_NOTICE):  # a replacement or a deletion: as loud as a reset
                lines.append(paint(f"  !!! {one_line(warning)} !!!", fg="red", bold=True))
            else:
                lines.append(paint(f"    warning: {one_line(warning)}", fg="yellow"))
        lines.append("")
    if not plan.has_changes and not plan.has_errors:
        lines.append(f"No changes. The live state matches the files ({len(plan.changes)} cluster(s)).")
    else:
        lines.append(paint(summary_line(plan), bold=True))
        lines += defaults_lines(plan)
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    return plan.to_json()


def _markdown_details(change: Change) -> str:
    body = [change_line(c) + origin_note(c) for c in change.diff]
    if change.error:
        body.insert(0, f"! error: {one_line(change.error)}")
    parts = [
        f"<details><summary><b>{html_text(change.cluster.name)}</b>: {change.action} ({len(change.diff)} change(s))"
        f" <code>{html_text(change.source)}</code></summary>\n",
    ]
    if body:
        parts.append("```diff\n" + "\n".join(body) + "\n```")
    parts += [f"- note: {note}" for note in notes(change)]
    parts += [
        f"- :bangbang: **{md_text(warning)}**" if warning.startswith(POOL_NOTICE) else f"- :warning: {md_text(warning)}"
        for warning in change.warnings
    ]
    parts.append("\n</details>\n")
    return "\n".join(parts)


class MarkdownBudget:
    """Text that must stay under a size: parts are added while they fit, and what did not fit is named instead."""

    OVERFLOW_ROOM = 200  # kept free for the line that says what was left out

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.room = limit - self.OVERFLOW_ROOM
        self.full = False

    def add(self, text: str) -> bool:
        if self.full or len(text) > self.room:
            return False
        self.parts.append(text)
        self.room -= len(text)
        return True

    def add_all(self, items: list[str], left_out: str) -> None:
        """Each item while it fits; then one line saying how many were left out (`left_out` takes the count)."""
        for index, item in enumerate(items):
            if self.full or not self.add(item):
                if not self.full:  # said once: what comes after is left out too
                    self.parts.append(left_out.format(len(items) - index))
                self.full = True
                return


def render_markdown(plan: Plan, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """Summary and resets first, then a table and one collapsible section per cluster; fits a GitHub comment.

    Past the limit, the least important parts go first (details, then table rows), each replaced by a line that
    says how many clusters it leaves out; the full plan is in the JSON plan file.
    """
    footer = f"\n<sub>ovhkube {plan.tool_version}, endpoint {plan.endpoint}, {plan.created_at}</sub>\n"
    text = MarkdownBudget(limit - len(footer))
    text.add(f"### ovhkube plan: {summary_line(plan).removeprefix('Plan: ')}\n\n")
    resets = [c for c in plan.changes if c.action is Action.RESET]
    if resets:
        text.add(f"> [!CAUTION]\n> **{len(resets)} cluster(s) will be RESET: {ERASE_WARNING}.**\n")
        lines = [f"> - {md_code(c.cluster.name)} ({md_text(c.cluster.project)}): {reset_notice(c)}\n" for c in resets]
        text.add_all(lines + ["\n"], "> - and {} more: see the plan file\n\n")
    upgrades = [c for c in plan.changes if c.action is Action.UPGRADE]
    if upgrades:
        text.add(f"> [!CAUTION]\n> **{len(upgrades)} cluster(s) will be UPGRADED: nodes are drained, no way back.**\n")
        lines = [
            f"> - {md_code(c.cluster.name)} ({md_text(c.cluster.project)}): {upgrade_notice(c.steps)}\n"
            for c in upgrades
        ]
        text.add_all(lines + ["\n"], "> - and {} more: see the plan file\n\n")
    errors = [c for c in plan.changes if c.action is Action.ERROR]
    if errors:
        text.add(f"> [!WARNING]\n> **{len(errors)} cluster(s) could not be planned.**\n")
        lines = [f"> - {md_code(c.cluster.name)}: {md_text(c.error)}\n" for c in errors]
        text.add_all(lines + ["\n"], "> - and {} more: see the plan file\n\n")
    if plan.defaults_impact:
        text.add("| ClusterDefaults | source | clusters selected | clusters changed |\n|---|---|---|---|\n")
        rows = [
            f"| {code_cell(e['name'])} | {code_cell(e['source'])} | {e['selected']} | **{e['changed']}** |\n"
            for e in plan.defaults_impact
        ]
        text.add_all(rows + ["\n"], "\n_{} more ClusterDefaults not shown; see the plan file._\n\n")
    shown = [c for c in plan.changes if c.action is not Action.NOOP]
    if shown:
        text.add("| cluster | project | action | changes | source |\n|---|---|---|---|---|\n")
    else:
        text.add(f"No changes: the live state matches the files ({len(plan.changes)} cluster(s)).\n")
    rows = [
        f"| {code_cell(c.cluster.name)} | {code_cell(c.cluster.project)} | **{c.action}** | {len(c.diff)} "
        f"| {code_cell(c.source)} |\n"
        for c in shown
    ]
    left_out = "\n_{} more cluster(s) not shown: the comment would pass GitHub's limit; see the plan file._\n"
    text.add_all(rows + ["\n"], left_out)
    text.add_all([_markdown_details(change) + "\n" for change in shown], left_out)
    return "".join(text.parts) + footer


def render(plan: Plan, fmt: str, color: bool = False) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    return render_text(plan, color)
