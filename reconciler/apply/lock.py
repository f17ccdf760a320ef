"""The apply lock: a local file by default (`.ovhkube/apply.lock`: two applies in one workspace never run at once),
or an object in an S3-compatible bucket that every runner shares (`--lock s3://BUCKET/KEY`, apply/s3lock.py).

The exclusion is a kernel file lock (flock) on the file, so a holder that dies (kill -9, a cancelled CI job)
releases it on its own and nobody has to remove anything. The file's content says who holds it (host, pid,
command, since) for the message of the one that waits; a content naming a pid that is no longer running on this
host is a stale holder's, and is said so when it is taken over.
"""

import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import IO

from reconciler.errors import UserError
from reconciler.escape import quoted, without_userinfo

LOCK_PATH = os.path.join(".ovhkube", "apply.lock")  # OVHKUBE_LOCK_FILE names another (one per workspace)
POLL_SECONDS = 0.2
DEFAULT_S3_EXPIRY = 120.0


class HeldLock:
    """The lock as this apply holds it: `lost` says why it is no longer this apply's (None while it is). Set by the
    S3 lock's renewal, or by `confirm` (the S3 lock looked at in the store), which runs before every write: nothing
    is sent once another runner may hold it."""

    def __init__(self, confirm: Callable[["HeldLock"], None] | None = None) -> None:
        self._guard = threading.Lock()
        self._lost: str | None = None
        self._confirm = confirm  # None: a kernel lock, which cannot be taken over while this process runs

    @property
    def lost(self) -> str | None:
        with self._guard:
            return self._lost

    def lose(self, why: str) -> None:
        with self._guard:
            self._lost = self._lost or why

    def confirm(self) -> str | None:
        """Right before a write: why the lock is no longer this apply's, looking at the store now (None: still ours).
        A runner may have broken it as stale while this one was paused, before the next renewal would notice."""
        if self.lost is None and self._confirm is not None:
            self._confirm(self)
        return self.lost


class LockBusy(UserError):
    """The workspace lock cannot be had: another apply holds it past --lock-timeout, or the file cannot be made."""


def describe(holder: dict | None) -> str:
    if not holder:
        return "another process (no details in the lock file)"
    command = " ".join(str(part) for part in holder.get("command") or [])[:200]
    return f"pid {holder.get('pid')} on {holder.get('host')} (`{command}`) since {holder.get('since')}"


def _read_holder(handle: IO[str]) -> dict | None:
    try:
        handle.seek(0)
        holder = json.loads(handle.read(64 * 1024) or "null")
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _dead_here(holder: dict | None) -> bool:
    """True when the holder named a process of this host that no longer runs."""
    if not holder or holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # running, as another user
    return False


@contextmanager
def apply_lock(timeout: float, note: Callable[[str], None], path: str | None = None) -> Iterator[HeldLock]:
    """Hold the workspace lock for the block; wait up to `timeout` seconds for it, else LockBusy naming the holder."""
    path = path or os.environ.get("OVHKUBE_LOCK_FILE") or LOCK_PATH
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held open for the whole apply)
    except OSError as exc:  # a stray `.ovhkube` file where the folder goes: said so, not "File exists"
        why = f"{exc.filename} is a file, not a folder" if isinstance(exc, FileExistsError) else exc.strerror
        raise LockBusy(f"cannot take the workspace lock {path}: {why}. Nothing was changed") from None
    try:
        deadline = time.monotonic() + timeout
        waiting_said = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(handle)
                if time.monotonic() >= deadline:
                    raise LockBusy(
                        f"another apply holds the workspace lock {path}: {describe(holder)}. Nothing was changed; "
                        f"wait for it to finish, or wait with --lock-timeout"
                    ) from None
                if not waiting_said:
                    note(f"waiting for the workspace lock {path}, held by {describe(holder)}")
                    waiting_said = True
                time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        previous = _read_holder(handle)
        if _dead_here(previous):
            note(f"note: taking over the workspace lock left by {describe(previous)}, which is no longer running")
        since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        command = ["ovhkube", *(without_userinfo(arg) for arg in sys.argv[1:])]
        holder = {"host": socket.gethostname(), "pid": os.getpid(), "command": command}
        handle.truncate(0)
        handle.write(json.dumps(holder | {"since": since}) + "\n")
        handle.flush()
        try:
            yield HeldLock()  # a kernel lock: held until the process ends, never lost
        finally:
            handle.truncate(0)  # released: nobody holds it
            handle.flush()
    finally:
        handle.close()  # closing drops the flock


def lock_for(
    url: str | None, timeout: float, note: Callable[[str], None], expiry: float = DEFAULT_S3_EXPIRY
) -> AbstractContextManager[HeldLock]:
    """The lock `--lock` names: `s3://BUCKET/KEY`, or a local file (a path, or `file://PATH`); none: the workspace's."""
    if url and url.startswith("s3://"):
        from reconciler.apply.s3lock import s3_lock  # boto3 loads only for an S3 lock

        return s3_lock(url, timeout, expiry, note)
    if url and "://" in url and not url.startswith("file://"):
        scheme = url.split("://", 1)[0]
        raise UserError(f"--lock: unknown lock backend {quoted(scheme)}; give s3://BUCKET/KEY, file://PATH or a path")
    path = url[len("file://") :] if url and url.startswith("file://") else url
    return apply_lock(timeout, note, path or None)
