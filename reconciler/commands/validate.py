"""`ovhkube validate` and `ovhkube schema`."""

import typer


def validate(paths: list[str] = typer.Argument(..., help="Files or folders of desired-state YAML.")) -> None:
    """Check desired-state files offline (no credentials needed)."""
    raise NotImplementedError


def schema() -> None:
    """Print the JSON Schema of desired-state files."""
    raise NotImplementedError
