"""`ovhkube validate` and `ovhkube schema`.

Problems are the command's result, so they go to stdout (as ruff and mypy do: pipe them, or let an editor
parse them), one per line, then a summary line. Exit 0 when valid (warnings allowed), 1 otherwise.
"""

import json
from enum import StrEnum

import typer

from reconciler.commands import console
from reconciler.errors import ExitCode


class ValidateFormat(StrEnum):
    text = "text"
    json = "json"


def validate(
    ctx: typer.Context,
    paths: list[str] = typer.Argument(
        ..., metavar="PATH", help="Files or folders of desired-state YAML (*.yaml, *.yml)."
    ),
    output_format: ValidateFormat = typer.Option(
        ValidateFormat.text, "--format", help="text: FILE:LINE:COL: field: message. json: a list for editors and CI."
    ),
) -> ExitCode:
    """Check desired-state files offline (no credentials needed)."""
    from reconciler.files.load import FOREIGN_FILE
    from reconciler.files.validate import load_desired

    loaded = load_desired(paths)
    found = sorted(loaded.problems + loaded.warnings, key=lambda problem: problem.sort_key)
    if output_format is ValidateFormat.json:
        console.out(json.dumps([problem.to_dict() for problem in found], indent=2))
    else:
        settings = ctx.obj
        skipped = sum(problem.message == FOREIGN_FILE for problem in found)
        for problem in found:
            if settings.verbose or problem.message != FOREIGN_FILE:  # other tools' YAML: counted, listed under -v
                console.out(str(problem), settings, fg="red" if problem.is_error else "yellow")
        console.out(summary(loaded, skipped), settings, bold=True)
    return ExitCode.OK if loaded.ok else ExitCode.ERROR


def summary(loaded, skipped: int = 0) -> str:
    """'3 files, 6 clusters: valid' or '2 errors in 1 file', with warnings and skipped files counted when there are
    any (a skipped file is not counted as a warning)."""
    warnings = len(loaded.warnings) - skipped
    warned = f", {_count(warnings, 'warning')}" if warnings else ""
    if skipped:
        warned += f", {_count(skipped, 'file')} skipped (not desired-state files; -v lists them)"
    if loaded.ok:
        counted = f"{_count(len(loaded.files), 'file')}, {_count(len(loaded.clusters), 'cluster')}"
        defaults = f", {loaded.defaults} ClusterDefaults" if loaded.defaults else ""
        rollout = next((c.rollout for c in loaded.clusters if c.rollout), None)
        waves = f", a Rollout of {_count(len(rollout.waves), 'wave')}" if rollout else ""
        return f"{counted}{defaults}{waves}: valid{warned}"
    files_with_errors = len({problem.file for problem in loaded.problems})
    return f"{_count(len(loaded.problems), 'error')} in {_count(files_with_errors, 'file')}{warned}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def schema(
    plan: bool = typer.Option(
        False, "--plan", help="The schema of the plan JSON (plan --format json, plan --out) instead."
    ),
) -> None:
    """Print the JSON Schema of desired-state files (point editors at it), or with --plan that of the plan JSON."""
    from reconciler.files.schema import PACKAGED_NAME, PLAN_SCHEMA_NAME, schema_text

    console.out(schema_text(PLAN_SCHEMA_NAME if plan else PACKAGED_NAME).rstrip("\n"))
