"""SQLite persistence for flows, executions (with their resume checkpoint) and events.

One connection shared by all threads behind a lock; WAL so readers (API calls) do not
wait on a long write. Events are written in batches (at checkpoints and at the end).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .history import Event

SCHEMA = """
CREATE TABLE IF NOT EXISTS flows (
    name TEXT PRIMARY KEY, id TEXT NOT NULL, definition TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', type TEXT NOT NULL DEFAULT 'FDL',
    role_arn TEXT NOT NULL DEFAULT '', execution_mode TEXT NOT NULL DEFAULT 'Standard',
    created_time TEXT NOT NULL, last_modified_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS executions (
    flow_name TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL,
    definition TEXT NOT NULL, input TEXT NOT NULL, output TEXT,
    status TEXT NOT NULL, error_code TEXT, error_detail TEXT,
    started_time TEXT NOT NULL, stopped_time TEXT,
    checkpoint_state TEXT, checkpoint_input TEXT, checkpoint_event INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (flow_name, name)
);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS events (
    flow_name TEXT NOT NULL, execution_name TEXT NOT NULL, event_id INTEGER NOT NULL,
    type TEXT NOT NULL, step_name TEXT NOT NULL, time TEXT NOT NULL, detail TEXT NOT NULL,
    schedule_event_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (flow_name, execution_name, event_id)
);
"""


@dataclass
class FlowRecord:
    name: str
    id: str
    definition: str
    description: str
    type: str
    role_arn: str
    execution_mode: str
    created_time: str
    last_modified_time: str


@dataclass
class ExecutionRecord:
    flow_name: str
    name: str
    seq: int
    definition: str
    input: str
    output: str | None
    status: str
    error_code: str | None
    error_detail: str | None
    started_time: str
    stopped_time: str | None
    checkpoint_state: str | None
    checkpoint_input: str | None
    checkpoint_event: int


class FlowStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: Iterable = ()) -> int:
        with self._lock:
            return self._db.execute(sql, tuple(args)).rowcount

    def _rows(self, sql: str, args: Iterable = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # --- flows ---------------------------------------------------------------------

    def insert_flow(self, flow: FlowRecord) -> bool:
        try:
            self._write("INSERT INTO flows VALUES (?,?,?,?,?,?,?,?,?)", flow.__dict__.values())
            return True
        except sqlite3.IntegrityError:
            return False

    def update_flow(self, flow: FlowRecord) -> None:
        self._write(
            "UPDATE flows SET definition=?, description=?, type=?, role_arn=?, "
            "last_modified_time=? WHERE name=?",
            (
                flow.definition,
                flow.description,
                flow.type,
                flow.role_arn,
                flow.last_modified_time,
                flow.name,
            ),
        )

    def get_flow(self, name: str) -> FlowRecord | None:
        rows = self._rows("SELECT * FROM flows WHERE name=?", (name,))
        return FlowRecord(*rows[0]) if rows else None

    def list_flows(self, after: str, limit: int) -> list[FlowRecord]:
        rows = self._rows(
            "SELECT * FROM flows WHERE name >= ? ORDER BY name LIMIT ?", (after, limit)
        )
        return [FlowRecord(*row) for row in rows]

    def delete_flow(self, name: str) -> bool:
        return self._write("DELETE FROM flows WHERE name=?", (name,)) > 0

    # --- executions ----------------------------------------------------------------

    def insert_execution(self, record: ExecutionRecord) -> bool:
        with self._lock:
            seq = self._db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM executions WHERE flow_name=?",
                (record.flow_name,),
            ).fetchone()[0]
            record.seq = seq
            try:
                self._db.execute(
                    "INSERT INTO executions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    tuple(record.__dict__.values()),
                )
            except sqlite3.IntegrityError:
                return False
            return True

    def get_execution(self, flow_name: str, name: str) -> ExecutionRecord | None:
        rows = self._rows(
            "SELECT * FROM executions WHERE flow_name=? AND name=?", (flow_name, name)
        )
        return ExecutionRecord(*rows[0]) if rows else None

    def list_executions(
        self, flow_name: str, status: str | None, prefix: str | None, after_seq: int, limit: int
    ) -> list[ExecutionRecord]:
        sql = "SELECT * FROM executions WHERE flow_name=? AND seq > ?"
        args: list = [flow_name, after_seq]
        if status:
            sql += " AND status=?"
            args.append(status)
        if prefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(prefix), prefix]
        sql += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return [ExecutionRecord(*row) for row in self._rows(sql, args)]

    def unfinished_executions(self) -> list[ExecutionRecord]:
        rows = self._rows("SELECT * FROM executions WHERE status='Running' ORDER BY started_time")
        return [ExecutionRecord(*row) for row in rows]

    def checkpoint(
        self,
        flow_name: str,
        name: str,
        state: str,
        state_input: str,
        events: list[Event],
        last_event: int,
    ) -> None:
        """Persist pending events and where to resume from, atomically."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._insert_events(flow_name, name, events)
                self._db.execute(
                    "UPDATE executions SET checkpoint_state=?, checkpoint_input=?, "
                    "checkpoint_event=? WHERE flow_name=? AND name=?",
                    (state, state_input, last_event, flow_name, name),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def finish(
        self,
        flow_name: str,
        name: str,
        status: str,
        output: str | None,
        error_code: str | None,
        error_detail: str | None,
        stopped_time: str,
        events: list[Event],
    ) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._insert_events(flow_name, name, events)
                self._db.execute(
                    "UPDATE executions SET status=?, output=?, error_code=?, error_detail=?, "
                    "stopped_time=?, checkpoint_state=NULL, checkpoint_input=NULL "
                    "WHERE flow_name=? AND name=?",
                    (status, output, error_code, error_detail, stopped_time, flow_name, name),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def append_events(self, flow_name: str, name: str, events: list[Event]) -> None:
        with self._lock:
            self._insert_events(flow_name, name, events)

    def _insert_events(self, flow_name: str, name: str, events: list[Event]) -> None:
        if events:
            self._db.executemany(
                "INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        flow_name,
                        name,
                        e.event_id,
                        e.type,
                        e.step_name,
                        e.time,
                        e.detail,
                        e.schedule_event_id,
                    )
                    for e in events
                ],
            )

    def truncate_events(self, flow_name: str, name: str, after_event: int) -> None:
        """Drop events of a state that was cut short by a crash (it will run again)."""
        self._write(
            "DELETE FROM events WHERE flow_name=? AND execution_name=? AND event_id > ?",
            (flow_name, name, after_event),
        )

    def events(self, flow_name: str, name: str, after_event: int, limit: int) -> list[Event]:
        rows = self._rows(
            "SELECT event_id, type, step_name, time, detail, schedule_event_id FROM events "
            "WHERE flow_name=? AND execution_name=? AND event_id > ? ORDER BY event_id LIMIT ?",
            (flow_name, name, after_event, limit),
        )
        return [Event(*row) for row in rows]

    def event_count(self, flow_name: str, name: str) -> int:
        return self._rows(
            "SELECT COUNT(*) FROM events WHERE flow_name=? AND execution_name=?",
            (flow_name, name),
        )[0][0]
