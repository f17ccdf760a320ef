"""One thing wrong (or worth a warning) in a desired-state file, located at the offending node."""

import json
from dataclasses import asdict, dataclass

from reconciler.escape import capped, one_line

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


def dotted(path) -> str:
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


def shown(value) -> str:
    """A value as one short line (messages are one line each, whatever the file holds)."""
    text = value if isinstance(value, str) else str(value)
    cut = text[:SHOWN_CHARS] + ("..." if len(text) > SHOWN_CHARS else "")
    return json.dumps(cut, ensure_ascii=False) if isinstance(value, str) else cut
