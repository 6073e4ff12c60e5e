"""SQLite persistence for functions, triggers and asynchronous invocations (D/fc.sqlite)."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .spec import FunctionSpec, TriggerSpec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS triggers (
    function TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    PRIMARY KEY (function, name)
);
CREATE TABLE IF NOT EXISTS async_tasks (
    request_id TEXT PRIMARY KEY,
    function TEXT NOT NULL,
    payload BLOB,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS async_tasks_by_status ON async_tasks (status);
"""

PENDING = ("Enqueued", "Running")


@dataclass(frozen=True)
class AsyncTask:
    """One asynchronous invocation and how its attempts went."""

    request_id: str
    function: str
    source: str  # "api", "oss:<trigger name>", ...
    status: str  # Enqueued | Running | Succeeded | Failed | Expired
    attempts: int
    last_error: str
    created: float
    updated: float


class FcStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args=()) -> list:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # functions
    def put_function(self, spec: FunctionSpec) -> None:
        self._run(
            "INSERT OR REPLACE INTO functions (name, spec) VALUES (?, ?)",
            (spec.name, spec.to_json()),
        )

    def delete_function(self, name: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM functions WHERE name = ?", (name,))
            self._db.execute("DELETE FROM triggers WHERE function = ?", (name,))
            self._db.execute("COMMIT")

    def functions(self) -> list[FunctionSpec]:
        return [
            FunctionSpec.from_json(row[0])
            for row in self._run("SELECT spec FROM functions ORDER BY name")
        ]

    # triggers
    def put_trigger(self, trigger: TriggerSpec) -> None:
        self._run(
            "INSERT OR REPLACE INTO triggers (function, name, spec) VALUES (?, ?, ?)",
            (trigger.function_name, trigger.name, trigger.to_json()),
        )

    def delete_trigger(self, function: str, name: str) -> None:
        self._run("DELETE FROM triggers WHERE function = ? AND name = ?", (function, name))

    def triggers(self) -> list[TriggerSpec]:
        return [
            TriggerSpec.from_json(row[0])
            for row in self._run("SELECT spec FROM triggers ORDER BY function, name")
        ]

    # asynchronous invocations
    def add_task(self, request_id: str, function: str, payload: bytes, source: str) -> None:
        now = time.time()
        self._run(
            "INSERT INTO async_tasks (request_id, function, payload, source, status, created,"
            " updated) VALUES (?, ?, ?, ?, 'Enqueued', ?, ?)",
            (request_id, function, payload, source, now, now),
        )

    def update_task(
        self,
        request_id: str,
        status: str,
        attempts: int,
        last_error: str = "",
        drop_payload: bool = False,
    ) -> None:
        payload_sql = ", payload = NULL" if drop_payload else ""
        self._run(
            f"UPDATE async_tasks SET status = ?, attempts = ?, last_error = ?, updated = ?"
            f"{payload_sql} WHERE request_id = ?",
            (status, attempts, last_error, time.time(), request_id),
        )

    def pending_tasks(self) -> list[tuple[AsyncTask, bytes]]:
        rows = self._run(
            "SELECT request_id, function, source, status, attempts, last_error, created, updated,"
            " payload FROM async_tasks WHERE status IN (?, ?) ORDER BY created",
            PENDING,
        )
        return [(AsyncTask(*row[:8]), bytes(row[8] or b"")) for row in rows]

    def tasks(self, function: str | None = None) -> list[AsyncTask]:
        sql = (
            "SELECT request_id, function, source, status, attempts, last_error, created,"
            " updated FROM async_tasks"
        )
        args: tuple = ()
        if function is not None:
            sql += " WHERE function = ?"
            args = (function,)
        return [AsyncTask(*row) for row in self._run(sql + " ORDER BY created", args)]

    def task(self, request_id: str) -> AsyncTask | None:
        rows = self._run(
            "SELECT request_id, function, source, status, attempts, last_error, created, updated"
            " FROM async_tasks WHERE request_id = ?",
            (request_id,),
        )
        return AsyncTask(*rows[0]) if rows else None
