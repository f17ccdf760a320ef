"""The sandbox's state: one SQLite file that threads and processes share, and that survives restarts.

Writes run in `BEGIN IMMEDIATE` transactions (one writer at a time, waiting up to the busy timeout), so a
read-modify-write of a cluster never loses a concurrent change. The journal is WAL, so reads take no write lock
and never wait for a writer. Each thread keeps its own connection (sqlite3 connections are not shared).
"""

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.sandbox import DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY

BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    application_key TEXT NOT NULL,
    application_secret TEXT NOT NULL,
    consumer_key TEXT NOT NULL,
    PRIMARY KEY (application_key, consumer_key)
);
CREATE TABLE IF NOT EXISTS projects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    service_name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS clusters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    project TEXT NOT NULL,
    data TEXT NOT NULL,          -- the cluster as stored (durations as sent), JSON
    status_since REAL NOT NULL,  -- unix time of the last status change
    ready_at REAL,               -- unix time a transient status ends; NULL: status_since + the server's transition
    resets INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS clusters_by_project ON clusters (project, seq);
CREATE TABLE IF NOT EXISTS expired_projects (service_name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS project_descriptions (service_name TEXT PRIMARY KEY, description TEXT NOT NULL);
"""


@dataclass
class StoredCluster:
    id: str
    project: str
    data: dict
    status_since: float
    ready_at: float | None = None
    resets: int = 0


class StateError(Exception):
    """The state file cannot be used (its folder is a file, it is no SQLite database...); one line says why."""


class State:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a part of the path is a file (a stray `.ovhkube` file), or not writable
            where = exc.filename or self.path.parent
            why = "is a file, not a folder" if isinstance(exc, FileExistsError | NotADirectoryError) else exc.strerror
            raise StateError(f"cannot keep the sandbox's state in {self.path}: {where} {why}") from None
        self._local = threading.local()
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            raise StateError(
                f"{self.path} is not a sandbox state ({exc}): move it away, or name another file with --state or "
                "OVHKUBE_SANDBOX_STATE"
            ) from None

    def _open(self) -> None:
        self._connection().executescript(_SCHEMA)  # IF NOT EXISTS: safe when several processes start at once
        with self.write() as conn:
            if conn.execute("SELECT COUNT(*) FROM credentials").fetchone()[0] == 0:
                conn.execute(
                    "INSERT INTO credentials VALUES (?, ?, ?)",
                    (DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY),
                )
        # Credentials are only ever written just above, so they are read once: every request checks them.
        rows = self.read().execute("SELECT application_key, consumer_key, application_secret FROM credentials")
        self._secrets = {(application_key, consumer_key): secret for application_key, consumer_key, secret in rows}

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN ourselves, so reads run without any transaction left open.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across a process crash
            self._local.conn = conn
        return conn

    def read(self) -> sqlite3.Connection:
        return self._connection()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # credentials

    def application_secret(self, application_key: str) -> str | None:
        return next((secret for (key, _), secret in self._secrets.items() if key == application_key), None)

    def consumer_known(self, application_key: str, consumer_key: str) -> bool:
        return (application_key, consumer_key) in self._secrets

    # projects and clusters

    def project_exists(self, service_name: str, conn: sqlite3.Connection | None = None) -> bool:
        conn = conn or self.read()
        return conn.execute("SELECT 1 FROM projects WHERE service_name = ?", (service_name,)).fetchone() is not None

    def project_expired(self, service_name: str) -> bool:
        query = "SELECT 1 FROM expired_projects WHERE service_name = ?"
        return self.read().execute(query, (service_name,)).fetchone() is not None

    @staticmethod
    def set_project_expired(conn: sqlite3.Connection, service_name: str, expired: bool) -> None:
        conn.execute("DELETE FROM expired_projects WHERE service_name = ?", (service_name,))
        if expired:
            conn.execute("INSERT INTO expired_projects VALUES (?)", (service_name,))

    def project_description(self, service_name: str) -> str | None:
        query = "SELECT description FROM project_descriptions WHERE service_name = ?"
        row = self.read().execute(query, (service_name,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def set_project_description(conn: sqlite3.Connection, service_name: str, description: str | None) -> None:
        conn.execute("DELETE FROM project_descriptions WHERE service_name = ?", (service_name,))
        if description is not None:
            conn.execute("INSERT INTO project_descriptions VALUES (?, ?)", (service_name, description))

    def projects(self) -> list[str]:
        return [row[0] for row in self.read().execute("SELECT service_name FROM projects ORDER BY seq")]

    def cluster_ids(self, service_name: str, conn: sqlite3.Connection | None = None) -> list[str]:
        rows = (conn or self.read()).execute("SELECT id FROM clusters WHERE project = ? ORDER BY seq", (service_name,))
        return [row[0] for row in rows]

    def clusters(self, service_name: str, conn: sqlite3.Connection | None = None) -> list[StoredCluster]:
        rows = (conn or self.read()).execute(
            "SELECT id, project, data, status_since, ready_at, resets FROM clusters WHERE project = ? ORDER BY seq",
            (service_name,),
        )
        return [_stored(row) for row in rows]

    def cluster(self, service_name: str, cluster_id: str, conn: sqlite3.Connection | None = None):
        conn = conn or self.read()
        row = conn.execute(
            "SELECT id, project, data, status_since, ready_at, resets FROM clusters WHERE project = ? AND id = ?",
            (service_name, cluster_id),
        ).fetchone()
        return _stored(row) if row else None

    @staticmethod
    def add_project(conn: sqlite3.Connection, service_name: str) -> None:
        conn.execute("INSERT OR IGNORE INTO projects (service_name) VALUES (?)", (service_name,))

    @staticmethod
    def remove_project_clusters(conn: sqlite3.Connection, service_name: str) -> None:
        conn.execute("DELETE FROM clusters WHERE project = ?", (service_name,))

    @staticmethod
    def remove_cluster(conn: sqlite3.Connection, cluster_id: str) -> None:
        conn.execute("DELETE FROM clusters WHERE id = ?", (cluster_id,))

    @staticmethod
    def save_cluster(conn: sqlite3.Connection, cluster: StoredCluster) -> None:
        """Insert a new cluster or replace a known one in place (it keeps its position in the listing)."""
        values = (json.dumps(cluster.data), cluster.status_since, cluster.ready_at, cluster.resets, cluster.id)
        updated = conn.execute(
            "UPDATE clusters SET data = ?, status_since = ?, ready_at = ?, resets = ? WHERE id = ?", values
        ).rowcount
        if not updated:
            conn.execute(
                "INSERT INTO clusters (data, status_since, ready_at, resets, id, project) VALUES (?, ?, ?, ?, ?, ?)",
                (*values, cluster.project),
            )


def _stored(row) -> StoredCluster:
    cluster_id, project, data, status_since, ready_at, resets = row
    return StoredCluster(cluster_id, project, json.loads(data), status_since, ready_at, resets)
