"""Persistence of roles, policies (with their versions) and attachments: one SQLite file in
the data dir, each entity a JSON row, loaded whole at start (RAM state is small)."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS roles (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS policies (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attachments (
    role_key TEXT NOT NULL, policy_name TEXT NOT NULL, attach_date TEXT NOT NULL,
    PRIMARY KEY (role_key, policy_name)
);
"""


@dataclass
class Role:
    name: str
    role_id: str
    assume_role_policy_document: str
    description: str
    create_date: str
    update_date: str
    max_session_duration: int = 3600


@dataclass
class PolicyVersion:
    version_id: str  # v1, v2, ...
    document: str
    create_date: str


@dataclass
class Policy:
    name: str
    description: str
    create_date: str
    update_date: str
    default_version: str
    next_version: int
    versions: list[PolicyVersion] = field(default_factory=list)

    def version(self, version_id: str) -> PolicyVersion:
        return next(v for v in self.versions if v.version_id == version_id)

    @property
    def default_document(self) -> str:
        return self.version(self.default_version).document


def _policy_from(data: dict) -> Policy:
    versions = [PolicyVersion(**v) for v in data.pop("versions")]
    return Policy(**data, versions=versions)


class RamStore:
    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(data_dir / "ram.db", check_same_thread=False)
        self._db.executescript(SCHEMA)

    def load(self) -> tuple[dict[str, Role], dict[str, Policy], dict[str, dict[str, str]]]:
        with self._lock:
            roles = {k: Role(**json.loads(d)) for k, d in self._db.execute("SELECT * FROM roles")}
            policies = {
                n: _policy_from(json.loads(d))
                for n, d in self._db.execute("SELECT * FROM policies")
            }
            attached: dict[str, dict[str, str]] = {}
            for role_key, name, date in self._db.execute("SELECT * FROM attachments"):
                attached.setdefault(role_key, {})[name] = date
        return roles, policies, attached

    def put_role(self, key: str, role: Role) -> None:
        self._write("INSERT OR REPLACE INTO roles VALUES (?, ?)", key, json.dumps(asdict(role)))

    def delete_role(self, key: str) -> None:
        self._write("DELETE FROM roles WHERE key=?", key)

    def put_policy(self, policy: Policy) -> None:
        self._write(
            "INSERT OR REPLACE INTO policies VALUES (?, ?)", policy.name, json.dumps(asdict(policy))
        )

    def delete_policy(self, name: str) -> None:
        self._write("DELETE FROM policies WHERE name=?", name)
        self._write("DELETE FROM attachments WHERE policy_name=?", name)

    def attach(self, role_key: str, policy_name: str, date: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO attachments VALUES (?, ?, ?)", role_key, policy_name, date
        )

    def detach(self, role_key: str, policy_name: str) -> None:
        self._write(
            "DELETE FROM attachments WHERE role_key=? AND policy_name=?", role_key, policy_name
        )

    def _write(self, sql: str, *args) -> None:
        with self._lock, self._db:
            self._db.execute(sql, args)

    def close(self) -> None:
        with self._lock:
            self._db.close()
