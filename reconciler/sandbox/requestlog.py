"""`sandbox serve --request-log FILE`: one JSON object a line for every request answered, so that tests, benchmarks
and users can count what a command costs.

`{"time": 1795000000.123, "method": "GET", "path": "/1.0/cloud/project/.../kube", "status": 200, "expanded": true}`
`expanded` is true only for a project listing answered with full cluster objects. Lines are appended and flushed
one by one (a reader sees every request answered so far); several servers may append to the same file.
"""

import json
import threading
import time
from pathlib import Path


class RequestLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, method: str, path: str, status: int, expanded: bool) -> None:
        entry = {"time": round(time.time(), 3), "method": method, "path": path, "status": status, "expanded": expanded}
        line = json.dumps(entry) + "\n"
        with self._lock:
            if not self._file.closed:
                self._file.write(line)
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_request_log(path: str | Path) -> list[dict]:
    """The entries of a request log, oldest first ([] when there is no such file yet)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
