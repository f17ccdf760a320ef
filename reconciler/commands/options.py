"""Options several commands share, declared once so that they read the same in every command's --help."""

import typer

PATHS = typer.Argument(..., help="Files or folders of desired-state YAML.")
TARGET = typer.Option(None, "--target", help="Only this cluster (NAME or PROJECT/NAME); repeatable.")
PARALLELISM = typer.Option(10, "--parallelism", min=1, max=100, help="API calls at once.")
