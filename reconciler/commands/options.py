"""Options several commands share, declared once so that they read the same in every command's --help."""

import re

import typer

from reconciler.errors import UserError
from reconciler.escape import quoted

PATHS = typer.Argument(..., metavar="PATH", help="Files or folders of desired-state YAML.")
TARGET = typer.Option(None, "--target", metavar="NAME", help="Only this cluster (NAME or PROJECT/NAME); repeatable.")
PARALLELISM = typer.Option(10, "--parallelism", metavar="N", min=1, max=100, help="API calls at once.")

PROJECT_ID = re.compile(r"[0-9a-f]{32}")


def check_project(name: str) -> None:
    """A --project value is a project id; UserError quoting what was typed (an empty or blank one is seen)."""
    if not PROJECT_ID.fullmatch(name):
        raise UserError(
            f"--project {quoted(name)} is not a Public Cloud project id (32 lowercase hexadecimal characters)"
        )
