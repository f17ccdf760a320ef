"""`ovhkube drift`: the plan's comparison as a read-only report, for cron jobs and monitoring."""

from enum import StrEnum

import typer

from reconciler.commands.options import PARALLELISM, PATHS, TARGET
from reconciler.errors import ExitCode, UserError


class DriftFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    prometheus = "prometheus"


def drift(
    ctx: typer.Context,
    paths: list[str] = PATHS,
    fmt: DriftFormat = typer.Option(DriftFormat.text, "--format", help="Output format."),
    unmanaged: bool = typer.Option(
        False, "--unmanaged", help="Also list live clusters of the files' projects that no file declares (drift)."
    ),
    target: list[str] = TARGET,
    parallelism: int = PARALLELISM,
    out: str = typer.Option(
        None, "--out", metavar="FILE", help="Write the report to this file (whole or not at all) instead of stdout."
    ),
) -> ExitCode:
    """Compare live clusters with the files, changing nothing. Exit 0 in sync, 2 drift, 1 error."""
    from datetime import UTC, datetime

    from reconciler.commands.console import err
    from reconciler.commands.opening import opening_api
    from reconciler.commands.output_files import refuse_inputs_as_outputs, write_atomically
    from reconciler.commands.settings import is_terminal
    from reconciler.commands.workflow import load_or_fail, plan_fleet_or_fail, select_targets
    from reconciler.drift.report import (
        DriftReport,
        compare,
        find_unmanaged,
        find_unmanaged_pools,
        render,
        summary_line,
    )

    refuse_inputs_as_outputs({"--out": out}, paths)
    settings = ctx.obj
    with opening_api(settings, read_only=True, parallelism=parallelism) as opening:  # opens while the files load
        declared = load_or_fail(paths, settings, opening)
        clusters = select_targets(declared, target)
        checked_at = datetime.now(UTC)
        view, the_plan = plan_fleet_or_fail(
            opening, settings, clusters, parallelism, whole_projects=unmanaged, all_pools=unmanaged
        )
    report = DriftReport(compare(the_plan), the_plan.endpoint, checked_at)
    if unmanaged:
        projects = {c.project for c in clusters}
        report.unmanaged, report.unmanaged_counts, report.unmanaged_errors = find_unmanaged(view, declared, projects)
        report.unmanaged_pools = find_unmanaged_pools(view, clusters)
    if out:
        try:
            write_atomically(out, render(report, fmt.value))
        except OSError as exc:
            raise UserError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
        err(f"drift: {summary_line(report)}; report written to {out}", settings)
    else:
        print(render(report, fmt.value, color=settings.color and is_terminal()), end="")
    return report.exit_code
