"""SQLite persistence of queues and messages (D/mns.sqlite)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from .model import Message, QueueAttributes

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    last_modify_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    body_md5 TEXT NOT NULL,
    priority INTEGER NOT NULL,
    enqueue_time INTEGER NOT NULL,
    first_dequeue_time INTEGER NOT NULL DEFAULT 0,
    dequeue_count INTEGER NOT NULL DEFAULT 0,
    visible_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    receipt_handle TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, visible_at);
CREATE INDEX IF NOT EXISTS messages_expiry ON messages (queue, expires_at);
"""

_MESSAGE_COLUMNS = (
    "seq, message_id, body, body_md5, priority, enqueue_time, first_dequeue_time,"
    " dequeue_count, visible_at, receipt_handle"
)


class MnsStore:
    """Every method is one short transaction; callers serialise through `lock`."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.lock = threading.RLock()

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def transaction(self):
        return _Transaction(self)

    # queues
    def queue(self, name: str) -> tuple[QueueAttributes, int, int] | None:
        row = self.db.execute(
            "SELECT attributes, create_time, last_modify_time FROM queues WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        return QueueAttributes(**json.loads(row[0])), row[1], row[2]

    def put_queue(
        self, name: str, attributes: QueueAttributes, create_time: int, modify_time: int
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO queues (name, attributes, create_time, last_modify_time)"
            " VALUES (?, ?, ?, ?)",
            (name, json.dumps(attributes.to_dict()), create_time, modify_time),
        )

    def delete_queue(self, name: str) -> None:
        self.db.execute("DELETE FROM queues WHERE name = ?", (name,))
        self.db.execute("DELETE FROM messages WHERE queue = ?", (name,))

    def queue_names(self, prefix: str, after: str, limit: int) -> list[str]:
        rows = self.db.execute(
            "SELECT name FROM queues WHERE name >= ? AND name > ? AND substr(name, 1, ?) = ?"
            " ORDER BY name LIMIT ?",
            (prefix, after, len(prefix), prefix, limit),
        ).fetchall()
        return [r[0] for r in rows]

    # messages
    def add_message(
        self,
        queue: str,
        message_id: str,
        body: str,
        md5: str,
        priority: int,
        enqueue_time: int,
        visible_at: int,
        expires_at: int,
    ) -> int:
        cur = self.db.execute(
            "INSERT INTO messages (queue, message_id, body, body_md5, priority, enqueue_time,"
            " visible_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (queue, message_id, body, md5, priority, enqueue_time, visible_at, expires_at),
        )
        return cur.lastrowid

    def expire(self, queue: str, now: int) -> None:
        self.db.execute("DELETE FROM messages WHERE queue = ? AND expires_at <= ?", (queue, now))

    def visible(self, queue: str, now: int, limit: int) -> list[Message]:
        rows = self.db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE queue = ? AND visible_at <= ?"
            " ORDER BY priority, seq LIMIT ?",
            (queue, now, limit),
        ).fetchall()
        return [Message(*row) for row in rows]

    def mark_received(
        self, seq: int, first_dequeue_time: int, dequeue_count: int, visible_at: int, handle: str
    ) -> None:
        self.db.execute(
            "UPDATE messages SET first_dequeue_time = ?, dequeue_count = ?, visible_at = ?,"
            " receipt_handle = ? WHERE seq = ?",
            (first_dequeue_time, dequeue_count, visible_at, handle, seq),
        )

    def message(self, queue: str, seq: int) -> Message | None:
        row = self.db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE queue = ? AND seq = ?", (queue, seq)
        ).fetchone()
        return Message(*row) if row else None

    def delete_message(self, seq: int) -> None:
        self.db.execute("DELETE FROM messages WHERE seq = ?", (seq,))

    def next_visible_at(self, queue: str, now: int) -> int | None:
        row = self.db.execute(
            "SELECT MIN(visible_at) FROM messages WHERE queue = ? AND visible_at > ?", (queue, now)
        ).fetchone()
        return row[0]

    def counts(self, queue: str, now: int) -> tuple[int, int, int]:
        """(active, inactive, delayed) message counts."""
        row = self.db.execute(
            "SELECT SUM(visible_at <= ?), SUM(visible_at > ? AND dequeue_count > 0),"
            " SUM(visible_at > ? AND dequeue_count = 0) FROM messages WHERE queue = ?",
            (now, now, now, queue),
        ).fetchone()
        return tuple(int(v or 0) for v in row)


class _Transaction:
    def __init__(self, store: MnsStore):
        self.store = store

    def __enter__(self) -> MnsStore:
        self.store.lock.acquire()
        self.store.db.execute("BEGIN IMMEDIATE")
        return self.store

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.store.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.store.lock.release()
