"""Secrets Manager semantics of local KMS: generic secrets with versions and stage labels
(ACSCurrent, ACSPrevious), kept in one SQLite file of the data dir. No HTTP here (api.py).

Rules from the KMS API reference (CreateSecret, GetSecretValue, PutSecretValue;
help.aliyun.com/document_detail/154490): a name is 1-192 characters of letters, digits and
`_ / + = . - @`, and a generic secret's name may not start with `acs/`; the value is at most
30,720 bytes; a new version takes ACSCurrent and the one before it becomes ACSPrevious.
A secret may name the customer master key that protects it (CreateSecret's EncryptionKeyId,
keys.py); without one the service's own key protects it. Stricter than the cloud, on
purpose: only Generic secrets. Values are stored as given (local data only): the key's part
is who may read and write them (api.py, localcloud/ram/kms_access.py), not the bytes.
"""

from __future__ import annotations

import base64
import binascii
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
    name TEXT PRIMARY KEY, description TEXT NOT NULL, create_time TEXT NOT NULL,
    key_id TEXT
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
class SecretValue:
    """A value as CreateSecret and PutSecretValue take it."""

    version_id: str
    data: str
    data_type: str = "text"  # text | binary (base64)


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
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(secrets)")}
        if "key_id" not in columns:  # a data dir from before keys existed
            self._db.execute("ALTER TABLE secrets ADD COLUMN key_id TEXT")
        self._lock = threading.Lock()

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

    def create(self, name: str, version: SecretValue, description: str, key_id: str | None):
        """A new secret with its first version; `key_id`: its customer master key, if any."""
        check_name(name)
        _check_value(version.version_id, version.data, version.data_type)
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.execute(
                    "INSERT INTO secrets VALUES (?, ?, ?, ?)", (name, description, _now(), key_id)
                )
            except sqlite3.IntegrityError:
                self._db.execute("ROLLBACK")
                raise errors.ResourceExists(
                    f"The secret {name!r} already exists: use PutSecretValue for a new value"
                ) from None
            self._insert_version(name, version.version_id, version.data, version.data_type)
            self._db.execute("COMMIT")

    def describe(self, name: str) -> dict:
        """DescribeSecret's metadata (never the value)."""
        with self._lock:
            self._require(name)
            description, created, key_id = self._db.execute(
                "SELECT description, create_time, key_id FROM secrets WHERE name = ?", (name,)
            ).fetchone()
        found = {
            "Arn": self.arn(name),
            "SecretName": name,
            "SecretType": "Generic",
            "Description": description,
            "CreateTime": created,
            "UpdateTime": created,
            "AutomaticRotation": "Disabled",
        }
        # the service's own key has no id to show (the API reference's example names a key)
        return {**found, "EncryptionKeyId": key_id} if key_id else found

    def key_of(self, name: str) -> str | None:
        """The id of the customer master key protecting the secret, None for the service key
        (or when there is no such secret: the request then fails as not found)."""
        with self._lock:
            row = self._db.execute("SELECT key_id FROM secrets WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

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
