"""One thing wrong (or worth a warning) in a desired-state file, located at the offending node."""

import base64
import json
import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from reconciler.escape import capped, one_line, without_userinfo

SHOWN_CHARS = 40  # values quoted in messages are cut to this length
ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int  # 1-based; 0 when the problem concerns a path as a whole (e.g. it does not exist)
    column: int  # 1-based; 0 as for line
    path: str  # dotted field path, e.g. spec.customization.kubeProxy.ipvs.tcpTimeout; "" for the file itself
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{one_line(self.file)}:{self.line}:{self.column}" if self.line else one_line(self.file)
        marker = "warning: " if self.severity == WARNING else ""
        field = f"{self.path}: " if self.path else ""
        return f"{where}: {marker}{field}{capped(one_line(self.message))}"

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.path, self.message)


def dotted(path: Any) -> str:
    """('spec', 'customization', 'apiServer', 'admissionPlugins', 'enabled', 1) -> 'spec....enabled[1]'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = _one_short_line(part)
            text += f".{name}" if text else name
    return text


def _one_short_line(name: str, limit: int = 60) -> str:
    """A field name as written, unless it would break the one-line message format."""
    if not name.isprintable():
        name = json.dumps(name)[1:-1]
    return name if len(name) <= limit else name[:limit] + "..."


def shown(value: Any) -> str:
    """A value from a file as a user would write it, on one short line (messages are one line each, whatever the
    file holds): text in double quotes ("PT30S"), true, false, null, numbers, .inf, lists and mappings in flow style
    (["rr"], {"a": 1}); never Python's repr (True, None, ['rr'], b'...')."""
    if isinstance(value, str):  # a password in a URL is never shown
        return json.dumps(_cut(without_userinfo(value)), ensure_ascii=False)
    if isinstance(value, bytes | date):
        return _cut(_plain(value))
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ("-" if value < 0 else "") + ".inf"
    return _cut(json.dumps(value, ensure_ascii=False, default=_plain))


def _plain(value: Any) -> str:
    """What JSON has no word for, as YAML writes it: a date, binary data."""
    if isinstance(value, bytes):
        return "!!binary " + base64.b64encode(value).decode("ascii")
    return value.isoformat() if isinstance(value, date) else str(value)


def _cut(text: str) -> str:
    return text[:SHOWN_CHARS] + ("..." if len(text) > SHOWN_CHARS else "")
