"""The apply lock in an S3-compatible bucket (`--lock s3://BUCKET/KEY`): every runner that names it shares it.

Taking it is one conditional write: PUT with `If-None-Match: *` succeeds only if the object does not exist, so of
two runners exactly one gets it (as Terraform's S3 backend locks its state with `use_lockfile`). The object says
who holds it (host, user, pid, CI job, command, since) and for how long: a holder rewrites it every third of its
expiry while it runs, so a holder that died (SIGKILL, a lost runner) stops renewing it and the lock goes stale.
Staleness is judged on the store's clock (its Last-Modified against the Date of its answer), never on the
runners' clocks. A stale lock is taken over with `If-Match: <its ETag>`, so two runners breaking the same stale
lock cannot both win; release is a DELETE with `If-Match` of the holder's own last write.

boto3 is imported here only: its configuration is boto3's own (AWS_ENDPOINT_URL, AWS_PROFILE, the credentials
chain, AWS_DEFAULT_REGION).
"""

import getpass
import json
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from reconciler.apply.lock import HeldLock
from reconciler.errors import UserError
from reconciler.escape import capped, one_line, without_userinfo

POLL_SECONDS = 1.0
MAX_LOCK_BYTES = 64 * 1024


class LockRefused(UserError):
    """The S3 lock cannot be had: held past --lock-timeout, or the store refuses (no bucket, access denied...)."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(url: str) -> S3Location:
    """`s3://BUCKET/KEY` -> its bucket and key; anything else is a UserError naming the form expected."""
    rest = url[len("s3://") :] if url.startswith("s3://") else ""
    bucket, _, key = rest.partition("/")
    if not bucket or not key or key.endswith("/"):
        raise UserError(f"--lock {one_line(url)}: an S3 lock is s3://BUCKET/KEY (for example s3://ops/ovhkube.lock)")
    return S3Location(bucket, key)


def ci_job_url(environ: dict[str, str]) -> str | None:
    """The CI job this process runs in, as its CI shows it (GitLab, GitHub Actions, Jenkins), if any."""
    if environ.get("CI_JOB_URL"):
        return environ["CI_JOB_URL"]
    github = [environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if all(github):
        return f"{github[0]}/{github[1]}/actions/runs/{github[2]}"
    return environ.get("BUILD_URL") or None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def holder_identity(expiry: float) -> dict[str, Any]:
    """What the lock object says about this process (never a secret: the command line loses any URL password)."""
    return {
        "id": uuid.uuid4().hex,
        "host": socket.gethostname(),
        "user": _user(),
        "pid": os.getpid(),
        "ciJob": ci_job_url(dict(os.environ)),
        "command": ["ovhkube", *(without_userinfo(arg) for arg in sys.argv[1:])],
        "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expiresAfterSeconds": expiry,
    }


def describe(holder: dict[str, Any] | None) -> str:
    """The holder as one line: who, where, which job, since when (text from the bucket, escaped)."""
    if not holder:
        return "another process (the lock object says nothing readable about its holder)"
    written = holder.get("command")  # a list as ovhkube writes it; anything else another writer put there
    parts = written if isinstance(written, list) else [written] if written not in (None, "", {}) else []
    command = " ".join(part if isinstance(part, str) else json.dumps(part, default=str) for part in parts)[:200]
    text = f"{holder.get('user')}, pid {holder.get('pid')} on {holder.get('host')} (`{command}`)"
    if holder.get("ciJob"):
        text += f", CI job {holder.get('ciJob')}"
    return capped(one_line(f"{text} since {holder.get('since')}"))


@dataclass
class _Seen:
    """The lock object as read: its holder, its ETag, and how long ago the store last saw it written (None: unknown,
    the store's Date unreadable; such a lock is never judged stale)."""

    holder: dict[str, Any] | None
    etag: str
    age: float | None


def store_age(date: str | None, last_modified: datetime) -> float | None:
    """Seconds since `last_modified` on the store's clock (the Date of its answer; this runner's clock when it sends
    none); None when its Date cannot be read or names no time zone (`-0000`)."""
    if date is None:
        return (datetime.now(UTC) - last_modified).total_seconds()
    try:
        store_now = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    if store_now.tzinfo is None or last_modified.tzinfo is None:
        return None
    return (store_now - last_modified).total_seconds()


class S3Lock:
    def __init__(self, location: S3Location, expiry: float, note: Callable[[str], None]) -> None:
        self.location = location
        self.expiry = expiry
        self.note = note
        self.identity = holder_identity(expiry)
        config = Config(connect_timeout=5, read_timeout=15, retries={"mode": "standard", "max_attempts": 3})
        try:
            self.s3 = boto3.session.Session().client("s3", config=config)
        except BotoCoreError as exc:  # a broken profile or configuration
            raise self._refused(exc) from None
        self.etag = ""
        self.written_at = 0.0  # monotonic time our last successful write was sent: it expires `expiry` after
        # A renewal and a confirmation never overlap: one changes the ETag the other compares with.
        self._writing = threading.Lock()
        self._unconfirmed_said = False

    def _refused(self, exc: BotoCoreError | ClientError) -> LockRefused:
        return LockRefused(f"cannot take the apply lock {self.location.url}: {_reason(exc)}. Nothing was changed")

    def _body(self) -> bytes:
        renewed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps(self.identity | {"renewed": renewed}).encode()

    def _put(self, **condition: str) -> str:
        sent = time.monotonic()
        answer = self.s3.put_object(
            Bucket=self.location.bucket,
            Key=self.location.key,
            Body=self._body(),
            ContentType="application/json",
            **condition,
        )
        self.written_at = sent
        return str(answer.get("ETag", ""))

    def _read(self) -> _Seen | None:
        """The lock object now, or None if there is none."""
        try:
            answer = self.s3.get_object(Bucket=self.location.bucket, Key=self.location.key)
        except (BotoCoreError, ClientError) as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        raw = answer["Body"].read(MAX_LOCK_BYTES)
        try:
            holder = json.loads(raw)
        except ValueError:
            holder = None
        date = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        age = store_age(date, answer["LastModified"])
        return _Seen(holder if isinstance(holder, dict) else None, str(answer.get("ETag", "")), age)

    def _expired(self, seen: _Seen) -> bool:
        holder_expiry = (seen.holder or {}).get("expiresAfterSeconds")
        expiry = holder_expiry if isinstance(holder_expiry, int | float) and holder_expiry > 0 else self.expiry
        return seen.age is not None and seen.age > expiry

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting_said = False
        while True:
            try:
                self.etag = self._put(IfNoneMatch="*")
                return
            except (BotoCoreError, ClientError) as exc:
                if _code(exc) not in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                    raise self._refused(exc) from None
            try:
                seen = self._read()
            except (BotoCoreError, ClientError) as exc:
                raise self._refused(exc) from None
            if seen is None:
                continue  # released between the two requests: try again at once
            if seen.holder and seen.holder.get("id") == self.identity["id"]:
                self.etag = seen.etag  # our own write, whose answer was lost and retried
                self.written_at = time.monotonic() - (seen.age if seen.age is not None else self.expiry / 3)
                return
            if self._expired(seen):
                if self._break(seen):
                    return
                continue
            if time.monotonic() >= deadline:
                raise LockRefused(
                    f"another apply holds the lock {self.location.url}: {describe(seen.holder)}. Nothing was changed; "
                    f"wait for it to finish, or wait with --lock-timeout"
                )
            if not waiting_said:
                self.note(f"waiting for the lock {self.location.url}, held by {describe(seen.holder)}")
                waiting_said = True
            time.sleep(min(POLL_SECONDS, max(0.05, deadline - time.monotonic())))

    def _break(self, seen: _Seen) -> bool:
        """Take over a stale lock, only if it is still the object that was judged stale."""
        try:
            self.etag = self._put(IfMatch=seen.etag)
        except (BotoCoreError, ClientError) as exc:
            if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409", "NoSuchKey"):
                return False  # renewed, released or broken by another runner meanwhile: look again
            raise self._refused(exc) from None
        self.note(
            f"note: broke the stale lock {self.location.url} of {describe(seen.holder)}: not renewed for "
            f"{seen.age or 0:.0f}s, so its holder stopped without releasing it"
        )
        return True

    def confirm(self, held: HeldLock) -> None:
        """Before a write: the object is still the one this apply last wrote (its ETag, read now). Another runner
        that broke it as stale (this one paused past its expiry, a store that lost it) has written its own; `held`
        is then lost. A store that cannot answer loses it only once it would have expired since our last write."""
        with self._writing:
            try:
                answer = self.s3.head_object(Bucket=self.location.bucket, Key=self.location.key)
            except (BotoCoreError, ClientError) as exc:
                if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                    held.lose(
                        f"the apply lock {self.location.url} was taken over during this apply by {self._holder_now()}"
                    )
                elif time.monotonic() >= self.written_at + self.expiry:
                    held.lose(
                        f"the apply lock {self.location.url} could not be confirmed before a write, and it expired "
                        f"since it was last renewed ({_reason(exc)}): another runner may hold it now"
                    )
                elif not self._unconfirmed_said:
                    self._unconfirmed_said = True
                    self.note(
                        f"warning: could not look at the lock {self.location.url} before a write ({_reason(exc)}); "
                        f"it was renewed {time.monotonic() - self.written_at:.0f}s ago, within its expiry"
                    )
                return
            if str(answer.get("ETag", "")) != self.etag:
                held.lose(
                    f"the apply lock {self.location.url} was taken over during this apply by {self._holder_now()}"
                )

    def renew(self, held: HeldLock) -> None:
        """Rewrite the object (a new Last-Modified). `held` is lost once someone else has the object, or once the
        next try would come after it expired."""
        with self._writing:
            self._renew(held)

    def _renew(self, held: HeldLock) -> None:
        try:
            self.etag = self._put(IfMatch=self.etag)
        except (BotoCoreError, ClientError) as exc:
            if _code(exc) in ("PreconditionFailed", "412", "NoSuchKey"):
                now = self._holder_now()
                held.lose(f"the apply lock {self.location.url} was taken over during this apply by {now}")
            elif time.monotonic() + self.expiry / 3 >= self.written_at + self.expiry:
                held.lose(
                    f"the apply lock {self.location.url} could not be renewed before it expired ({_reason(exc)}): "
                    f"another runner may hold it now"
                )
            else:
                self.note(f"warning: could not renew the lock {self.location.url}: {_reason(exc)}")

    def _holder_now(self) -> str:
        try:
            seen = self._read()
        except (BotoCoreError, ClientError) as exc:
            return f"another runner (the lock object cannot be read: {_reason(exc)})"
        return "nobody: the lock object was deleted" if seen is None else describe(seen.holder)

    def release(self) -> None:
        try:
            self.s3.delete_object(Bucket=self.location.bucket, Key=self.location.key, IfMatch=self.etag)
        except (BotoCoreError, ClientError) as exc:
            if _code(exc) in ("PreconditionFailed", "412"):
                return  # no longer ours: the runner that took it over releases it
            self.note(
                f"warning: could not release the lock {self.location.url} ({_reason(exc)}); "
                f"it expires {self.expiry:.0f}s after its last renewal"
            )


def _code(exc: BotoCoreError | ClientError) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        return str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")
    return ""


def _reason(exc: BotoCoreError | ClientError) -> str:
    """A botocore failure as one line: the store's error code and message, or what kept the request from it."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        error = response["Error"]
        text = f"{error.get('Code')}: {error.get('Message') or 'refused'}"
    else:
        text = str(exc) or type(exc).__name__
    return capped(one_line(without_userinfo(text)), 300)


@contextmanager
def s3_lock(url: str, timeout: float, expiry: float, note: Callable[[str], None]) -> Iterator[HeldLock]:
    """Hold the S3 lock for the block, renewing it every third of `expiry`; wait up to `timeout` for it. The block
    gets the lock as held: lost once another runner has it, or once it could not be renewed before expiring."""
    if expiry < 1:
        raise UserError("--lock-expiry: at least 1s (the holder renews the lock every third of it)")
    lock = S3Lock(parse_s3_url(url), expiry, note)
    lock.acquire(timeout)
    held = HeldLock(lock.confirm)
    done = threading.Event()

    def keep_renewing() -> None:
        while not done.wait(expiry / 3) and not held.lost:
            lock.renew(held)

    renewer = threading.Thread(target=keep_renewing, name="s3-lock-renewal", daemon=True)
    renewer.start()
    try:
        yield held
    finally:
        done.set()
        renewer.join(timeout=20)
        if not held.lost:
            lock.release()
