"""`ovhkube plan`: read live state, print what apply would do."""

import os
import sys
from enum import StrEnum
from typing import cast

import typer

from reconciler.commands.options import COMMENT_LIMIT, PARALLELISM, PATHS, POLICY, TARGET
from reconciler.errors import ExitCode, UserError
from reconciler.live.api import ApiClient


class PlanFormat(StrEnum):  # typer >= 0.29 no longer ships click: an enum is how it takes a choice
    text = "text"
    json = "json"
    markdown = "markdown"


def plan(
    ctx: typer.Context,
    paths: list[str] = PATHS,
    out: str = typer.Option(None, "--out", metavar="FILE", help="Also save the plan as JSON, for `apply --plan`."),
    fmt: PlanFormat = typer.Option(PlanFormat.text, "--format", help="Output format."),
    target: list[str] = TARGET,
    parallelism: int = PARALLELISM,
    detailed_exitcode: bool = typer.Option(
        False, "--detailed-exitcode", help="Exit 0 when nothing changes, 2 when something would."
    ),
    comment_limit: str = COMMENT_LIMIT,
    policy: str = POLICY,
) -> ExitCode:
    """Show what apply would change, cluster by cluster. Read-only."""
    from reconciler.commands.opening import opening_api
    from reconciler.commands.output_files import refuse_inputs_as_outputs
    from reconciler.commands.settings import is_terminal
    from reconciler.commands.workflow import load_or_fail, plan_fleet, read_only_or_fail, select_targets
    from reconciler.live.projects import read_descriptions

    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    refuse_inputs_as_outputs({"--out": out, "GITHUB_STEP_SUMMARY": summary_file}, paths)
    settings = ctx.obj
    limit = cast(int, comment_limit)  # parse_comment_limit, its callback, has made it a number of characters

    def read(api: ApiClient) -> tuple:
        _, planned = plan_fleet(api, clusters, parallelism, settings)
        # For people only: JSON names projects by id, and a script needs no description.
        wanted = [] if fmt is PlanFormat.json else sorted({cluster.project for cluster in clusters})
        return planned, read_descriptions(api, wanted, parallelism)

    # The API opens (a round trip) while the files load; it is taken only if they are valid.
    with opening_api(settings, read_only=True, parallelism=parallelism) as opening:
        clusters = select_targets(load_or_fail(paths, settings, opening), target)
        (the_plan, projects), _ = read_only_or_fail(opening, read)
    if policy:
        the_plan = policy_checked(the_plan, policy)
    saved = the_plan.to_json() if out else None  # the JSON output is this very text: written once, not twice
    if saved:
        write_plan_file(out, saved)
    if fmt is PlanFormat.json and not saved:
        sys.stdout.writelines(the_plan.json_parts())  # a change at a time: the text is never whole in memory
    else:
        json_out = fmt is PlanFormat.json and saved
        from reconciler.plan.render import render  # not for a JSON plan

        color = settings.color and is_terminal()
        print(json_out or render(the_plan, fmt.value, color, projects, limit), end="")
    if out:
        _say_how_to_apply(out, the_plan, settings, [account.file for account in opening.accounts])
    if summary_file:
        from reconciler.plan.render import render_markdown

        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(render_markdown(the_plan, projects=projects))
    if the_plan.has_errors or (the_plan.policy and the_plan.policy.denials):
        return ExitCode.ERROR
    if detailed_exitcode and the_plan.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


def _say_how_to_apply(path: str, the_plan, settings, account_files: list[str]) -> None:
    """As Terraform does after `plan -out`: the command that applies exactly this plan (on stderr: stdout may be
    a JSON or markdown document), with the files of its Account documents."""
    import shlex

    from reconciler.commands.console import err
    from reconciler.escape import one_line, without_userinfo

    endpoint = f"--endpoint {shlex.quote(without_userinfo(settings.endpoint))} " if settings.endpoint else ""
    accounts = "".join(f" --accounts {shlex.quote(file)}" for file in dict.fromkeys(account_files))
    command = f"ovhkube {endpoint}apply --plan {shlex.quote(path)}{accounts}"
    err(f"\nSaved the plan to {one_line(path)}. To apply exactly this plan, run:\n    {one_line(command)}")
    if the_plan.has_errors:
        err("It holds errors: apply refuses it unless --skip-errors is given.", settings, fg="yellow")
    if the_plan.policy:
        folder = shlex.quote(the_plan.policy.folder)
        err(f"It was checked by policies: apply checks it again, given them (--policy {one_line(folder)}).", settings)


def policy_checked(the_plan, folder: str):
    """The plan with what the policies of `folder` find; a policy that cannot be evaluated is one line."""
    from reconciler.policy.engine import PolicyError
    from reconciler.policy.on_plan import checked

    try:
        return checked(the_plan, folder)
    except PolicyError as exc:
        raise UserError(f"policy: {exc}") from None


def write_plan_file(path: str, text: str) -> None:
    """Whole or not at all: a half-written plan must never be applied."""
    from reconciler.commands.output_files import write_atomically

    try:
        write_atomically(path, text)
    except OSError as exc:
        raise UserError(f"cannot write the plan to {path}: {exc.strerror}") from None
