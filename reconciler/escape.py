"""Text from files and from the API (names, paths, messages), made safe to print where it goes.

A cluster's name is whatever a file or the API says, so printed raw it could clear a terminal (escape codes), forge a
line ("No changes."), reverse what follows (bidi controls), run a CI workflow command (`::warning::`, `##[error]`)
or hide part of a pull-request comment (raw HTML). Each function shows such text for one place; nothing the text
holds is ever sent as a control to that place.
"""

import html
import json
import re
import sys
from contextlib import contextmanager
from typing import Any

MAX_MESSAGE_CHARS = 2000  # an error line past this is cut, with "..." (a message can quote a 500 KB value)
# A line a CI runner reads as a command: GitHub's `::name::` and `##[name]`, even after spaces.
_COMMAND_START = re.compile(r"^(\s*)(:(?=:)|#(?=#\[))", re.MULTILINE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~#!>+-])")


def one_line(text) -> str:
    """Control characters (C0, C1, DEL), line and paragraph separators and bidi controls shown as JSON escapes
    (`\\n`, `\\u001b`, `\\u202e`): the text stays on one line and sends nothing to the terminal."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else json.dumps(char)[1:-1] for char in text)


# Any scheme (a mistyped `htps://` too), up to the last @ of the authority: a password may hold an @.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")


def without_userinfo(text: str) -> str:
    """A URL (or text holding URLs) without the `user:password@` part: it never reaches a plan file, a report or
    a log."""
    return _USERINFO.sub(r"\1", str(text))


def without_userinfo_in(value: Any) -> Any:
    """`value` with every string it holds (in lists and mappings too) free of a URL's `user:password@`."""
    if isinstance(value, str):
        return without_userinfo(value)
    if isinstance(value, list):
        return [without_userinfo_in(item) for item in value]
    if isinstance(value, dict):
        return {key: without_userinfo_in(item) for key, item in value.items()}
    return value


def capped(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def no_commands(text: str) -> str:
    """No line starts a CI workflow command: the first character of one is shown escaped."""
    if "::" not in text and "##[" not in text:  # what the pattern needs: 1 ms for a 1 MB plan, not 8
        return text
    return _COMMAND_START.sub(lambda m: f"{m[1]}\\u{ord(m[2]):04x}", text)


def md_code(text) -> str:
    """Text as inline code in markdown, also inside a table cell: a backtick cannot close it, a `|` cannot end the
    cell, and HTML is shown as written."""
    text = one_line(text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_text(text) -> str:
    """Text as plain markdown (a list item, a table cell): no HTML, no emphasis, links or code from it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(one_line(text), quote=False))


def html_text(text) -> str:
    """Text inside an HTML element of a markdown document (`<summary>`, `<code>`)."""
    return html.escape(one_line(text))


class _NoCommandStream:
    """A text stream whose lines cannot start a CI workflow command, whatever is written to it."""

    def __init__(self, stream):
        self._stream = stream
        self._at_line_start = True

    def write(self, text) -> int:
        if isinstance(text, bytes | bytearray):  # click may write bytes to what is not a TextIOBase
            self.write(bytes(text).decode(getattr(self._stream, "encoding", None) or "utf-8", "replace"))
            return len(text)
        if not text:
            return 0
        if self._at_line_start:
            guarded = no_commands(text)
        else:  # the rest of a line already begun cannot start a command; the lines after it can
            head, newline, tail = text.partition("\n")
            guarded = head + newline + no_commands(tail)
        self._at_line_start = text.endswith("\n")
        self._stream.write(guarded)
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextmanager
def no_commands_in_output():
    """stdout and stderr guarded for the block (the CLI's whole run): defence in depth under the field escaping."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _NoCommandStream(sys.stdout), _NoCommandStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def quoted(value: object, limit: int | None = None, ascii: bool = False) -> str:
    """A value from a file, a plan or the API for a message, as JSON writes it, on one line: a name in double quotes
    (an empty or blank one is seen, a newline or an escape code shows as `\\n`, `\\u001b`), null, [1, 2]; not
    Python's repr (`'a'`, `None`). `limit`: cut to that many characters, ending in `...`. `ascii`: every character
    past ASCII escaped too (`\\u00e9`), for values shown as JSON a reader may copy, or answers the API sent."""
    text = json.dumps(value, ensure_ascii=ascii)
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def quoted_list(names) -> str:
    """Names a user typed, each quoted, so that an empty or blank one is seen: `"", "a b"`."""
    return ", ".join(quoted(name) for name in names)
