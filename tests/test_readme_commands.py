"""The README's command table against the CLI: every option a command takes is in its row, so a user reading the
table learns of every option (it missed --verify-against, --lock-timeout and drift --target when they landed)."""

from pathlib import Path

import pytest
import typer
from test_exit_codes import every_command

from reconciler.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"
# The emulator's own commands: one row, their options in docs/sandbox.md.
EMULATOR = {"sandbox serve", "sandbox seed", "sandbox show"}


def options_of(path: list[str]) -> set[str]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return {opt for param in command.params for opt in param.opts if opt.startswith("--") and opt != "--help"}


def row_of(path: list[str]) -> str:
    rows = [line for line in README.read_text().splitlines() if line.startswith(f"| `ovhkube {' '.join(path)}")]
    assert rows, f"no README row for ovhkube {' '.join(path)}"
    return rows[0].split(" | ")[0]


@pytest.mark.parametrize("path", [p for p in every_command() if " ".join(p) not in EMULATOR], ids=" ".join)
def test_every_option_of_a_command_is_in_its_readme_row(path):
    row = row_of(path)
    assert [option for option in sorted(options_of(path)) if f"{option}" not in row] == []
