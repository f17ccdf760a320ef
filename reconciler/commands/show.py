"""`ovhkube show PLANFILE`: a saved plan rendered as text, JSON or markdown. Offline: no API call, no credentials."""

from typing import cast

import typer

from reconciler.commands.options import COMMENT_LIMIT
from reconciler.commands.plan import PlanFormat
from reconciler.errors import UserError


def show(
    ctx: typer.Context,
    plan_file: str = typer.Argument(..., metavar="PLANFILE", help="A plan saved by `ovhkube plan --out FILE`."),
    fmt: PlanFormat = typer.Option(PlanFormat.text, "--format", help="Output format."),
    comment_limit: str = COMMENT_LIMIT,
) -> None:
    """Show a saved plan (from `plan --out`) as plan shows it; reads no API and needs no credentials."""
    from reconciler.commands.settings import is_terminal
    from reconciler.plan.data import PlanFileError
    from reconciler.plan.planfile import read_plan_file
    from reconciler.plan.render import render

    try:
        the_plan = read_plan_file(plan_file)
    except PlanFileError as exc:
        raise UserError(str(exc)) from None
    if fmt is PlanFormat.text:  # markdown has this in its footer, JSON in its fields
        print(
            f"Saved plan {plan_file}: made {the_plan.created_at} by ovhkube {the_plan.tool_version} "
            f"for endpoint {the_plan.endpoint}.\n"
        )
    # parse_comment_limit, its callback, has made the limit a number of characters.
    print(render(the_plan, fmt.value, ctx.obj.color and is_terminal(), limit=cast(int, comment_limit)), end="")
