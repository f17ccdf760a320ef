"""Printing for the commands: results on stdout, messages and errors on stderr, colour only where wanted."""

import sys

from reconciler.commands.settings import Settings, is_terminal
from reconciler.paint import Painter


def _styled(text: str, settings: Settings | None, stream, **style) -> str:
    if settings is not None and settings.color and is_terminal(stream):
        return Painter(True)(text, **style)
    return text


def out(text: str = "", settings: Settings | None = None, **style) -> None:
    print(_styled(text, settings, sys.stdout, **style), file=sys.stdout)


def err(text: str, settings: Settings | None = None, **style) -> None:
    print(_styled(text, settings, sys.stderr, **style), file=sys.stderr)
