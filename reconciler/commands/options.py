"""Options several commands share, declared once so that they read the same in every command's --help."""

import re

import typer

from reconciler.errors import UserError
from reconciler.escape import quoted
from reconciler.forges import COMMENT_LIMITS

PATHS = typer.Argument(..., metavar="PATH", help="Files or folders of desired-state YAML.")
TARGET = typer.Option(None, "--target", metavar="NAME", help="Only this cluster (NAME or PROJECT/NAME); repeatable.")
PARALLELISM = typer.Option(10, "--parallelism", metavar="N", min=1, max=100, help="API calls at once.")

PROJECT_ID = re.compile(r"[0-9a-f]{32}")
MIN_COMMENT_LIMIT = 2_000  # characters: the summary, the loud parts and the line saying what was left out


def parse_comment_limit(text: str) -> int:
    """`github`, `gitlab` or a number of characters: the largest markdown output the forge takes as a comment."""
    limit = COMMENT_LIMITS.get(text.strip().lower())
    if limit is None and text.strip().isdigit():
        limit = int(text)
    if limit is None or limit < MIN_COMMENT_LIMIT:
        raise typer.BadParameter(
            f"{quoted(text)}: give github (65,536 characters), gitlab (1,000,000) or a number of characters "
            f"(at least {MIN_COMMENT_LIMIT:,})"
        )
    return limit


COMMENT_LIMIT = typer.Option(
    "github",
    "--comment-limit",
    metavar="FORGE|CHARS",
    callback=parse_comment_limit,
    help="markdown: the most characters the comment may hold (github, gitlab or a number); past it, it says what it "
    "left out.",
)


def check_project(name: str) -> None:
    """A --project value is a project id; UserError quoting what was typed (an empty or blank one is seen)."""
    if not PROJECT_ID.fullmatch(name):
        raise UserError(
            f"--project {quoted(name)} is not a Public Cloud project id (32 lowercase hexadecimal characters)"
        )


POLICY = typer.Option(
    None,
    "--policy",
    metavar="DIR",
    help="Check the plan with the Rego policies (*.rego) in DIR: deny rules fail it, warn rules are shown.",
)
