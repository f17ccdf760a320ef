"""Plans for people: text as Terraform users read it, markdown for pull-request comments, JSON for machines."""

import json
from collections.abc import Mapping
from typing import Any

from reconciler.escape import capped, html_text, md_code, md_text, one_line, quoted, without_userinfo
from reconciler.forges import GITHUB_COMMENT_LIMIT
from reconciler.model import ClusterRef
from reconciler.paint import Painter
from reconciler.plan.control_plane import upgrade_notice
from reconciler.plan.data import CHANGING, Action, Change, Plan
from reconciler.plan.diff import FieldChange
from reconciler.plan.groups import Group, is_disruptive, opens_to_the_world, reading_order, set_change
from reconciler.plan.node_pools import POOL_NOTICE
from reconciler.plan.waves import Schedule, Wave, gated_before, schedule
from reconciler.policy.check import Finding, PolicyCheck
from reconciler.steps import NEW_CLUSTER_ID, StepKind
from reconciler.windows import parse_utc

ERASE_WARNING = "ALL KUBERNETES DATA WILL BE ERASED"
HEADLINES = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.UPGRADE: "will be UPGRADED",
    Action.RESET: "will be RESET",
    Action.DELETE: "will be DELETED",
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


def change_line(change: FieldChange) -> str:
    members = set_change(change)
    if members is not None and change.before is not None and change.after is not None:
        shown = [f"+{value(x)}" for x in members.added] + [f"-{value(x)}" for x in members.removed]
        return f"~ {change.path}: {', '.join(shown) or 'reordered'}"
    if change.sign == "+":
        return f"+ {change.path}: {value(change.after)}"
    if change.sign == "-":
        return f"- {change.path}: {value(change.before)} -> (unset)"
    return f"~ {change.path}: {value(change.before)} -> {value(change.after)}"


printable = one_line  # a name or path from a file as one line without control characters (as JSON escapes them)


def origin_note(change: FieldChange, each_own_file: bool = False) -> str:
    """Where the desired value of a changed field is written, for the person who would edit it (`each_own_file`: a
    group's clusters write it each in its own file)."""
    if each_own_file and not change.defaults:
        return "  # in each cluster's own file"
    return f"  # {printable(change.origin)}" if change.source else ""


Projects = Mapping[str, str]  # project id -> its description, where it was read


def project_label(project: str, projects: Projects | None) -> str:
    """`a1b2c3d4… "Payments EU"`: the project's id, cut, and its description where it is known."""
    described = (projects or {}).get(project)
    return f'{project[:8]}… "{printable(described)}"' if described else f"{project[:8]}…"


def cluster_label(ref: ClusterRef, projects: Projects | None) -> str:
    described = (projects or {}).get(ref.project)
    return f'{ref.label} in "{printable(described)}"' if described else ref.label


def by_project(group: Group, projects: Projects | None) -> list[tuple[str, list[str]]]:
    """The group's cluster names, each project once, in the order met."""
    names: dict[str, list[str]] = {}
    for change in group.changes:
        names.setdefault(change.cluster.project, []).append(change.cluster.name)
    return [(project_label(project, projects), listed) for project, listed in names.items()]


def alarms(change: Change) -> list[str]:
    """The lines a reviewer must not miss beside the diff: an opening of the API server to anyone."""
    return [alarm for alarm in map(opens_to_the_world, change.diff) if alarm]


def defaults_lines(plan: Plan) -> list[str]:
    """The blast radius of each ClusterDefaults document, for the plan's summary."""
    return [
        f'ClusterDefaults "{printable(entry["name"])}" ({printable(entry["source"])}): changes {entry["changed"]} '
        f"of the {entry['selected']} planned cluster(s) it selects"
        for entry in plan.defaults_impact
    ]


DELETE_NOTICE = (
    "THE CLUSTER WILL BE DELETED with its node pools, nodes and ALL KUBERNETES DATA (spec.delete: true); this cannot "
    "be undone"
)


def reset_notice(change: Change) -> str:
    policy = next((s.body or {} for s in change.steps if s.kind is StepKind.RESET), {}).get("workerNodesPolicy")
    nodes = (
        "reinstalled (the node pools are kept)"
        if policy == "reinstall"
        else "deleted (the cluster comes back empty, without node pools)"
    )
    return f"{ERASE_WARNING} (pods, services, configuration); worker nodes will be {nodes}"


def ahead_note(field_change: FieldChange) -> str:
    """A live value past the file's floor, kept as it is: said in the plan, reported by drift."""
    where = f" ({printable(field_change.origin)})" if field_change.source else ""
    # An exported fleet writes the version in each project's ClusterDefaults: raising it there would upgrade every
    # other cluster it selects, so say where the one cluster's own value goes.
    own = (
        f" (a spec.{field_change.path} in the cluster's own file wins over ClusterDefaults "
        f"{printable(value(field_change.defaults))}, which sets it for every cluster it selects)"
        if field_change.defaults
        else ""
    )
    return (
        f"{field_change.path} ahead: the cluster runs {printable(value(field_change.before))}, above "
        f"spec.{field_change.path} {printable(value(field_change.after))}{where}: OVHcloud upgraded this cluster "
        f"past the file; update the file to keep it exact{own}"
    )


def notes(change: Change) -> list[str]:
    found = [ahead_note(field_change) for field_change in change.ahead]
    former = change.cluster.renamed_from
    if former is not None and change.action in CHANGING:
        how = "by the reset itself (its body carries the name)" if change.action is Action.RESET else "in place (PUT)"
        found.append(
            f"renamed from {printable(value(former))} (metadata.renamedFrom) {how}: the same cluster, its id kept; "
            f"nothing is created or deleted"
        )
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


def window_note(change: Change) -> str | None:
    """When a disruptive change may start: deferred until its window opens, or only inside the window (open when
    planned); None for a change no window holds."""
    window = change.maintenance_window
    if window is None:
        return None
    if change.deferred_until is None:
        return f"starts only inside its maintenance window {window.describe()}, open when planned"
    opens = parse_utc(change.deferred_until)
    return (
        f"DEFERRED until {window.local(opens)} ({change.deferred_until}): outside its maintenance window "
        f"{window.describe()}; apply leaves it alone until then"
    )


def deferred_count(plan: Plan) -> int:
    return sum(1 for change in plan.changes if change.deferred_until is not None)


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
        f"{counts['reset']} to reset, {counts['delete']} to delete."
    )
    extras = [f"{counts['noop']} unchanged"] + ([f"{counts['error']} error(s)"] if counts["error"] else [])
    deferred = deferred_count(plan)
    if deferred:
        extras.append(f"{deferred} deferred to a maintenance window")
    return f"{line} ({', '.join(extras)})"


GATE = "READY, version as planned, every node pool READY with its nodes available"


def duration(seconds: float) -> str:
    """1s, 90s, 10m, 1h30m: a rollout's pauses and timeouts as people write them."""
    whole = int(seconds)
    if whole != seconds or whole < 120 and whole % 60:
        return f"{seconds:g}s"
    hours, minutes = divmod(whole // 60, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


def rollout_head(rolled: Schedule) -> str:
    rollout = rolled.rollout
    held = "every change goes" if rollout.all_changes else "disruptive changes go"
    gate = GATE + ("; the API server answers /readyz" if rollout.gate_api_server else "")
    return (
        f"{held} wave by wave; a wave starts once every cluster of the waves before it passes the health gate ({gate};"
        f" at most {duration(rollout.gate_timeout)} each)"
    )


def wave_line(number: int, wave: Wave) -> str:
    pause = f"; then a pause of {duration(wave.spec.pause_after)}" if wave.spec.pause_after else ""
    return (
        f"{number}. {one_line(wave.name)}: {len(wave.rolled)} of {len(wave.members)} cluster(s) to roll, {wave.cap} "
        f"at a time (maxInFlight {wave.spec.max_in_flight}){pause}"
    )


def rollout_lines(plan: Plan) -> list[str]:
    """The waves, in order, with what each holds; empty without a rollout."""
    rolled = schedule(plan)
    if rolled is None:
        return []
    name = one_line(json.dumps(rolled.rollout.name, ensure_ascii=False))
    lines = [f"Rollout {name} ({one_line(rolled.rollout.source)}): {rollout_head(rolled)}"]
    lines += [f"  {wave_line(number, wave)}" for number, wave in enumerate(rolled.waves, start=1)]
    if rolled.free:
        lines.append(f"  {len(rolled.free)} other change(s) go at once, outside the waves")
    lines += [f"  note: {note}" for note in blocking_notes(plan, rolled)]
    return lines


def blocking_notes(plan: Plan, rolled: Schedule) -> list[str]:
    """Clusters of a wave, with nothing to change, whose status when planned is not READY, ahead of a wave that has
    changes to send: apply gates them first, so the rollout may stop there (as after a failed canary)."""
    notes = []
    for number, wave in enumerate(rolled.waves):
        if not any(later.rolled for later in rolled.waves[number + 1 :]):
            break
        for index in gated_before(rolled, plan, number + 1):
            change = plan.changes[index]
            if change.wave == wave.name and change.status not in (None, "READY"):
                notes.append(
                    f"{one_line(change.cluster.name)} (wave {one_line(wave.name)}) is {one_line(change.status)}: "
                    "the waves after it start only once it passes the health gate"
                )
    return notes


def policy_headline(check: PolicyCheck) -> str:
    """`Policies (examples/policies, 4 files): 1 denied, 1 warning`, or `...: passed`."""
    counts = [f"{len(check.denials)} denied"] if check.denials else []
    counts += [f"{len(check.warnings)} warning(s)"] if check.warnings else []
    verdict = ", ".join(counts) if check.denials else "passed" + (f", {counts[0]}" if counts else "")
    files = f"{len(check.files)} file{'' if len(check.files) == 1 else 's'}"
    return f"Policies ({printable(check.folder)}, {files}, {check.digest[:15]}…): {verdict}"


def finding_subject(finding: Finding, plan: Plan, projects: Projects | None, markdown: bool = False) -> str:
    """The cluster a finding is about, as the plan names it; `the plan` for a message about no cluster."""
    if finding.cluster is None:
        return "the plan"
    for change in plan.changes:
        ref = change.cluster
        if ref.name == finding.cluster and finding.project in (None, ref.project):
            if markdown:
                return f"{md_code(ref.name)} ({md_text(project_label(ref.project, projects))})"
            return cluster_label(ref, projects)
    named = md_code(finding.cluster) if markdown else quoted(finding.cluster)
    return f"{named} (no cluster of this plan)"


def policy_lines(plan: Plan, paint: Painter, projects: Projects | None) -> list[str]:
    check = plan.policy
    if check is None:
        return []
    lines = [paint(policy_headline(check), bold=True, fg="red" if check.denials else None)]
    for finding in check.denials + check.warnings:
        subject = one_line(finding_subject(finding, plan, projects))
        text = f"{subject}: [{one_line(finding.package)}] {capped(one_line(finding.message))}"
        if finding.rule == "deny":
            lines.append(paint(f"  DENIED   {text}", fg="red", bold=True))
        else:
            lines.append(paint(f"  warning  {text}", fg="yellow"))
    if check.denials:
        lines.append("  apply refuses this plan while a policy denies it.")
    return lines + [""]


def render_text(plan: Plan, color: bool = False, projects: Projects | None = None) -> str:
    paint = Painter(color)

    lines = []
    for group in reading_order(plan.changes):
        lines += (
            _text_one(group.first, paint, projects) if len(group.changes) == 1 else _text_group(group, paint, projects)
        )
        lines.append("")
    lines += policy_lines(plan, paint, projects)
    if not plan.has_changes and not plan.has_errors:
        lines.append(f"No changes. The live state matches the files ({len(plan.changes)} cluster(s)).")
    else:
        lines.append(paint(summary_line(plan), bold=True))
        lines += defaults_lines(plan)
        lines += rollout_lines(plan)
    return "\n".join(lines) + "\n"


def _text_one(change: Change, paint: Painter, projects: Projects | None) -> list[str]:
    headline = f"# {one_line(cluster_label(change.cluster, projects))} {HEADLINES[change.action]}"
    loud = change.action in (Action.DELETE, Action.RESET, Action.UPGRADE, Action.ERROR) or any(
        step.kind is StepKind.POOL_DELETE for step in change.steps
    )
    style = {"fg": "red", "bold": True} if loud else {"bold": True}
    wave = f"  (wave {one_line(change.wave)})" if change.wave and change.action is not Action.NOOP else ""
    lines = [paint(headline, **style) + paint(f"  [{one_line(change.source)}]{wave}", dim=True)]
    if change.action is Action.DELETE:
        lines.append(paint(f"  !!! {DELETE_NOTICE} !!!", fg="red", bold=True))
    if change.action is Action.RESET:
        lines.append(paint(f"  !!! {reset_notice(change)} !!!", fg="red", bold=True))
    if change.action is Action.UPGRADE:
        lines.append(paint(f"  !!! {upgrade_notice(change.steps)} !!!", fg="red", bold=True))
    window = window_note(change)
    if window:
        lines.append(paint(f"  >>> {window}", fg="yellow", bold=True))
    if change.error:
        lines.append(paint(f"  error: {one_line(change.error)}", fg="red"))
    return lines + _text_body(change, paint, each_own_file=False)


def _text_group(group: Group, paint: Painter, projects: Projects | None) -> list[str]:
    first = group.first
    lines = [paint(f"# {len(group.changes)} clusters {HEADLINES[first.action]}, each the same way:", bold=True)]
    lines += [
        f"    {one_line(project)}: {', '.join(map(one_line, names))}" for project, names in by_project(group, projects)
    ]
    each_own_file = len({change.source for change in group.changes}) > 1
    return lines + _text_body(first, paint, each_own_file)


def _text_body(change: Change, paint: Painter, each_own_file: bool) -> list[str]:
    lines = []
    for field_change in change.diff:
        line = paint(change_line(field_change), fg=SIGN_COLORS[field_change.sign])
        lines.append("  " + line + paint(origin_note(field_change, each_own_file), dim=True))
    lines += [paint(f"  !!! {alarm} !!!", fg="red", bold=True) for alarm in alarms(change)]
    lines += [f"    note: {note}" for note in notes(change)]
    for warning in change.warnings:
        if warning.startswith(POOL_NOTICE):  # a replacement or a deletion: as loud as a reset
            lines.append(paint(f"  !!! {one_line(warning)} !!!", fg="red", bold=True))
        else:
            lines.append(paint(f"    warning: {one_line(warning)}", fg="yellow"))
    return lines


def render_json(plan: Plan) -> str:
    return plan.to_json()


def _markdown_one(change: Change, projects: Projects | None) -> str:
    open_ = " open" if is_disruptive(change) else ""  # what erases or drains is never folded away
    where = md_text(project_label(change.cluster.project, projects))
    summary = (
        f"<b>{html_text(change.cluster.name)}</b> ({where}): {change.action} ({len(change.diff)} change(s))"
        f" <code>{html_text(change.source)}</code>"
    )
    if change.deferred_until:
        summary += f" <b>deferred until {html_text(change.deferred_until)}</b>"
    body = [change_line(c) + origin_note(c) for c in change.diff]
    if change.error:
        body.insert(0, f"! error: {one_line(change.error)}")
    return _markdown_section(f"<details{open_}><summary>{summary}</summary>\n", body, change)


def _markdown_group(group: Group, projects: Projects | None) -> str:
    first = group.first
    each_own_file = len({change.source for change in group.changes}) > 1
    summary = f"<b>{len(group.changes)} clusters</b>: {first.action} ({len(first.diff)} change(s), the same on each)"
    names = [
        f"- {md_text(project)}: {', '.join(md_code(name) for name in listed)}"
        for project, listed in by_project(group, projects)
    ]
    body = [change_line(c) + origin_note(c, each_own_file) for c in first.diff]
    return _markdown_section(f"<details open><summary>{summary}</summary>\n\n" + "\n".join(names) + "\n", body, first)


def _markdown_section(opening: str, body: list[str], change: Change) -> str:
    parts = [opening]
    if body:
        parts.append("```diff\n" + "\n".join(body) + "\n```")
    window = window_note(change)
    if window:
        parts.append(
            f"- :hourglass: **{md_text(window)}**" if change.deferred_until else f"- :clock2: {md_text(window)}"
        )
    parts += [f"- :rotating_light: **{md_text(alarm)}**" for alarm in alarms(change)]
    parts += [f"- note: {md_text(note)}" for note in notes(change)]
    parts += [
        f"- :bangbang: **{md_text(warning)}**" if warning.startswith(POOL_NOTICE) else f"- :warning: {md_text(warning)}"
        for warning in change.warnings
    ]
    parts.append("\n</details>\n")
    return "\n".join(parts)


class MarkdownBudget:
    """Text that must stay under a size: parts are added while they fit, and what did not fit is named instead."""

    OVERFLOW_ROOM = 300  # kept free for the line that says what was left out

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

    def add_all(self, items: list[str], left_out: str, counts: list[int] | None = None) -> None:
        """Each item while it fits; then one line saying how many were left out (`left_out` takes the count: of
        the items, or the sum of `counts` of those left out)."""
        for index, item in enumerate(items):
            if self.full or not self.add(item):
                if not self.full:  # said once: what comes after is left out too
                    rest = sum(counts[index:]) if counts else len(items) - index
                    self.parts.append(left_out.format(rest))
                self.full = True
                return


def left_out_line(limit: int) -> str:
    """What a markdown plan says where it stops short of `limit`; `{}` takes the count of clusters left out."""
    return (
        f"\n_{{}} more cluster(s) not shown: the comment would pass its limit of {limit:,} characters. The full plan "
        f"is in the job's artifact (the file of `plan --out`; `ovhkube show FILE` prints it)._\n"
    )


def render_markdown(plan: Plan, limit: int = GITHUB_COMMENT_LIMIT, projects: Projects | None = None) -> str:
    """Summary and what erases or drains first, then every other change, identical ones as one group; fits in
    `limit` characters (a forge's comment limit).

    Past the limit, what comes last goes first (unchanged clusters' notes, then updates, then creates and errors),
    replaced by one line that says how many clusters it leaves out and where the full plan is.
    """
    footer = f"\n<sub>ovhkube {plan.tool_version}, endpoint {plan.endpoint}, {plan.created_at}</sub>\n"
    text = MarkdownBudget(limit - len(footer))
    text.add(f"### ovhkube plan: {summary_line(plan).removeprefix('Plan: ')}\n\n")
    more = "> - and {} more: see the plan file\n\n"
    deletes = [c for c in plan.changes if c.action is Action.DELETE]
    if deletes:
        text.add(f"> [!CAUTION]\n> **{len(deletes)} cluster(s) will be DELETED, with ALL KUBERNETES DATA.**\n")
        lines = [f"> - {md_code(c.cluster.name)} ({_where(c, projects)}): {DELETE_NOTICE}\n" for c in deletes]
        text.add_all(lines + ["\n"], more)
    resets = [c for c in plan.changes if c.action is Action.RESET]
    if resets:
        text.add(f"> [!CAUTION]\n> **{len(resets)} cluster(s) will be RESET: {ERASE_WARNING}.**\n")
        lines = [
            f"> - {md_code(c.cluster.name)} ({_where(c, projects)}): {reset_notice(c)}{_deferred(c)}\n" for c in resets
        ]
        text.add_all(lines + ["\n"], more)
    upgrades = [c for c in plan.changes if c.action is Action.UPGRADE]
    if upgrades:
        text.add(f"> [!CAUTION]\n> **{len(upgrades)} cluster(s) will be UPGRADED: nodes are drained, no way back.**\n")
        lines = [
            f"> - {md_code(c.cluster.name)} ({_where(c, projects)}): {upgrade_notice(c.steps)}{_deferred(c)}\n"
            for c in upgrades
        ]
        text.add_all(lines + ["\n"], more)
    opened = [(c, alarm) for c in plan.changes if c.action in (Action.UPDATE, Action.CREATE) for alarm in alarms(c)]
    if opened:
        text.add(f"> [!CAUTION]\n> **{len(opened)} cluster(s) opened to anyone:**\n")
        lines = [f"> - {md_code(c.cluster.name)} ({_where(c, projects)}): {md_text(alarm)}\n" for c, alarm in opened]
        text.add_all(lines + ["\n"], more)
    errors = [c for c in plan.changes if c.action is Action.ERROR]
    if errors:
        text.add(f"> [!WARNING]\n> **{len(errors)} cluster(s) could not be planned.**\n")
        lines = [f"> - {md_code(c.cluster.name)}: {md_text(c.error)}\n" for c in errors]
        text.add_all(lines + ["\n"], more)
    if plan.policy is not None:
        _markdown_policy(plan, plan.policy, projects, text, more)
    if plan.defaults_impact:
        text.add("| ClusterDefaults | source | clusters selected | clusters changed |\n|---|---|---|---|\n")
        rows = [
            f"| {code_cell(e['name'])} | {code_cell(e['source'])} | {e['selected']} | **{e['changed']}** |\n"
            for e in plan.defaults_impact
        ]
        text.add_all(rows + ["\n"], "\n_{} more ClusterDefaults not shown; see the plan file._\n\n")
    rolled = schedule(plan)
    if rolled is not None:
        name, source = md_code(rolled.rollout.name), md_code(rolled.rollout.source)
        text.add(f"**Rollout {name}** ({source}): {md_text(rollout_head(rolled))}\n\n")
        text.add("| wave | clusters | to roll | at a time | pause after |\n|---|---|---|---|---|\n")
        rows = [
            f"| {code_cell(w.name)} | {len(w.members)} | **{len(w.rolled)}** | {w.cap} "
            f"({code_cell(w.spec.max_in_flight)}) | {duration(w.spec.pause_after) if w.spec.pause_after else ''} |\n"
            for w in rolled.waves
        ]
        text.add_all(rows + ["\n"], "\n_{} more waves not shown; see the plan file._\n\n")
    groups = reading_order(plan.changes)
    if not plan.has_changes and not plan.has_errors:
        text.add(f"No changes: the live state matches the files ({len(plan.changes)} cluster(s)).\n")
    sections = [
        (_markdown_one(g.first, projects) if len(g.changes) == 1 else _markdown_group(g, projects)) + "\n"
        for g in groups
    ]
    text.add_all(sections, left_out_line(limit), [len(g.changes) for g in groups])
    return "".join(text.parts) + footer


def _markdown_policy(
    plan: Plan, check: PolicyCheck, projects: Projects | None, text: "MarkdownBudget", more: str
) -> None:
    for rule, findings in (("deny", check.denials), ("warn", check.warnings)):
        if not findings:
            continue
        if rule == "deny":
            text.add(f"> [!CAUTION]\n> **{md_text(policy_headline(check))}: apply refuses this plan.**\n")
        else:
            text.add(f"> [!WARNING]\n> **{len(findings)} policy warning(s).**\n")
        lines = [
            f"> - {finding_subject(finding, plan, projects, markdown=True)}: \\[{md_text(finding.package)}\\] "
            f"{md_text(capped(finding.message))}\n"
            for finding in findings
        ]
        text.add_all(lines + ["\n"], more)
    if not check.denials:
        text.add(f"{md_text(policy_headline(check))}\n\n")


def _deferred(change: Change) -> str:
    return (
        f" (**deferred until {md_text(change.deferred_until)}**: its maintenance window)"
        if change.deferred_until
        else ""
    )


def _where(change: Change, projects: Projects | None) -> str:
    return md_text(project_label(change.cluster.project, projects))


def render(
    plan: Plan, fmt: str, color: bool = False, projects: Projects | None = None, limit: int = GITHUB_COMMENT_LIMIT
) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan, limit, projects)
    return render_text(plan, color, projects)
