"""Printing for the commands: results on stdout, messages and errors on stderr, colour only where wanted."""

import sys

import typer

from reconciler.commands.settings import Settings, is_terminal


def _styled(text: str, settings: Settings | None, stream, **style) -> str:
    if settings is not None and settings.color and is_terminal(stream):
        return typer.style(text, **style)
    return text


def out(text: str = "", settings: Settings | None = None, **style) -> None:
    print(_styled(text, settings, sys.stdout, **style), file=sys.stdout)


def err(text: str, settings: Settings | None = None, **style) -> None:
    print(_styled(text, settings, sys.stderr, **style), file=sys.stderr)
