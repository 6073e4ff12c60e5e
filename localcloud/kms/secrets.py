"""Secrets Manager semantics of local KMS: generic secrets with versions and stage labels
(ACSCurrent, ACSPrevious), kept in one SQLite file of the data dir. No HTTP here (api.py).

Rules from the KMS API reference (CreateSecret, GetSecretValue, PutSecretValue;
help.aliyun.com/document_detail/154490): a name is 1-192 characters of letters, digits and
`_ / + = . - @`, and a generic secret's name may not start with `acs/`; the value is at most
30,720 bytes; a new version takes ACSCurrent and the one before it becomes ACSPrevious.
Stricter than the cloud, on purpose: only Generic secrets, no EncryptionKeyId (localcloud
has no keys to encrypt with), and values are stored as given (local data only).
"""

from __future__ import annotations

import base64
import binascii
import collections
import json
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import errors

NAME = re.compile(r"[A-Za-z0-9_/+=.@-]{1,192}")
VERSION_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_DATA_BYTES = 30_720
CURRENT, PREVIOUS = "ACSCurrent", "ACSPrevious"
SCHEMA = """
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY, description TEXT NOT NULL, create_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL, version_id TEXT NOT NULL, data TEXT NOT NULL, data_type TEXT NOT NULL,
    stages TEXT NOT NULL, create_time TEXT NOT NULL, PRIMARY KEY (name, version_id)
);
"""


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise errors.InvalidParameter(
            f"SecretName {name!r} is invalid: 1-192 characters of letters, digits and _/+=.-@"
        )
    if name.startswith("acs/"):
        raise errors.InvalidParameter(
            f"SecretName {name!r} is invalid: a generic secret's name may not start with acs/"
        )
    return name


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class SecretVersion:
    name: str
    version_id: str
    data: str
    data_type: str  # text | binary (base64)
    stages: tuple[str, ...]
    create_time: str


class SecretStore:
    def __init__(self, path: Path, region: str, account_id: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.region, self.account_id = region, account_id
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        # requests by action, and those RAM denied (admin /counters): tests count KMS calls
        self._counters: collections.Counter = collections.Counter()
        self._counters_lock = threading.Lock()  # not _lock: the event loop must not wait on SQL

    def count(self, action: str, denied: bool = False) -> None:
        with self._counters_lock:
            self._counters[f"{action}.denied" if denied else action] += 1

    def counters_snapshot(self) -> dict[str, int]:
        with self._counters_lock:
            return dict(self._counters)

    def reset_counters(self) -> None:
        with self._counters_lock:
            self._counters.clear()

    def arn(self, name: str) -> str:
        return f"acs:kms:{self.region}:{self.account_id}:secret/{name}"

    def name_of(self, given: str) -> str:
        """A secret's name from its name or its ARN (another account's ARN is not found)."""
        if given.startswith("acs:kms:"):
            prefix = self.arn("")
            if not given.startswith(prefix):
                raise errors.ResourceNotFound(f"The secret {given!r} is not in this account/region")
            given = given[len(prefix) :]
        return check_name(given)

    def create(self, name: str, version_id: str, data: str, data_type: str, description: str):
        check_name(name)
        _check_value(version_id, data, data_type)
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.execute(
                    "INSERT INTO secrets VALUES (?, ?, ?)", (name, description, _now())
                )
            except sqlite3.IntegrityError:
                self._db.execute("ROLLBACK")
                raise errors.ResourceExists(
                    f"The secret {name!r} already exists: use PutSecretValue for a new value"
                ) from None
            self._insert_version(name, version_id, data, data_type)
            self._db.execute("COMMIT")

    def put_value(self, name: str, version_id: str, data: str, data_type: str) -> SecretVersion:
        _check_value(version_id, data, data_type)
        with self._lock:
            self._require(name)
            self._db.execute("BEGIN")
            try:
                for row in self._db.execute(
                    "SELECT version_id, stages FROM versions WHERE name = ?", (name,)
                ).fetchall():
                    stages = [s for s in json.loads(row[1]) if s != PREVIOUS]
                    stages = [PREVIOUS if s == CURRENT else s for s in stages]
                    self._db.execute(
                        "UPDATE versions SET stages = ? WHERE name = ? AND version_id = ?",
                        (json.dumps(stages), name, row[0]),
                    )
                self._insert_version(name, version_id, data, data_type)
            except errors.KmsError:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return self.value(name, version_id=version_id)

    def value(self, name: str, stage: str | None = None, version_id: str | None = None):
        with self._lock:
            self._require(name)
            rows = self._db.execute(
                "SELECT version_id, data, data_type, stages, create_time FROM versions "
                "WHERE name = ?",
                (name,),
            ).fetchall()
        wanted = stage or (None if version_id else CURRENT)
        for version, data, data_type, stages, created in rows:
            labels = tuple(json.loads(stages))
            if (version_id is None or version == version_id) and (
                wanted is None or wanted in labels
            ):
                return SecretVersion(name, version, data, data_type, labels, created)
        raise errors.ResourceNotFound(
            f"The secret {name!r} has no version {version_id or ''}{' ' if version_id else ''}"
            f"with stage {wanted or '(any)'}"
        )

    def _require(self, name: str) -> None:
        if not self._db.execute("SELECT 1 FROM secrets WHERE name = ?", (name,)).fetchone():
            raise errors.ResourceNotFound(
                f"The secret {name!r} does not exist: create it with CreateSecret"
            )

    def _insert_version(self, name: str, version_id: str, data: str, data_type: str) -> None:
        try:
            self._db.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?)",
                (name, version_id, data, data_type, json.dumps([CURRENT]), _now()),
            )
        except sqlite3.IntegrityError:
            raise errors.ResourceExists(
                f"The secret {name!r} already has a version {version_id!r}: use a new VersionId"
            ) from None

    def close(self) -> None:
        self._db.close()


def _check_value(version_id: str, data: str, data_type: str) -> None:
    if not VERSION_ID.fullmatch(version_id or ""):
        raise errors.InvalidParameter(
            f"VersionId {version_id!r} is invalid: 1-64 letters, digits, '.', '_' or '-'"
        )
    if data_type not in ("text", "binary"):
        raise errors.InvalidParameter(f"SecretDataType must be text or binary, got {data_type!r}")
    if len(data.encode("utf-8")) > MAX_DATA_BYTES:
        raise errors.InvalidParameter(f"SecretData is over {MAX_DATA_BYTES} bytes")
    if data_type == "binary":
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error:
            raise errors.InvalidParameter("binary SecretData must be Base64") from None
