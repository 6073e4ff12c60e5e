"""Customer master keys of local KMS (CreateKey, DescribeKey, EnableKey, DisableKey), kept
in the same SQLite file as the secrets. No HTTP here (api.py); no key material either:
localcloud data is local, so a key is its id, its state and its metadata.

From the KMS API reference (CreateKey, DescribeKey; help.aliyun.com/document_detail/28947)
and "Impact of CMK status on API operations" (help.aliyun.com/document_detail/44211):
- CreateKey takes no KeyId: KMS makes the globally unique id (a UUID in the examples) and
  answers KeyMetadata (KeyId, Arn, KeyState Enabled, KeyUsage ENCRYPT/DECRYPT, KeySpec
  Aliyun_AES_256, Origin Aliyun_KMS, Creator, CreationDate, ...).
- Only an Enabled key encrypts or decrypts (GenerateDataKey, Decrypt): a Disabled one is
  409 Rejected.Disabled, one pending deletion 409 Rejected.PendingDeletion; EnableKey and
  DisableKey on a key pending deletion are 409 Rejected.StateModifiedFailed.
- ScheduleKeyDeletion (PendingWindowInDays 7-366, required) makes a key PendingDeletion;
  CancelKeyDeletion "returns [it] to the Enabled state" (CancelKeyDeletion API reference),
  and is 409 Rejected.StateModifiedFailed for a key not pending deletion. localcloud never
  ends the window: a key stays PendingDeletion until its deletion is cancelled.
- An unknown key is 404 Forbidden.KeyNotFound, "The specified Key is not found."
- A key's RAM resource is acs:kms:${region}:${account}:key/${key-id} (document_detail/28953).

`seed` is not a KMS API: it is the admin control that gives the local account a key that
exists in the cloud account already, under its cloud id (docs/decisions/local-kms-keys.md).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import errors

# ids the environment schema accepts too (ossbatch.config KmsPassword.key_id): a UUID from
# CreateKey, or a KMS instance's `key-...` id; aliases (alias/...) are not key ids
KEY_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
ENABLED, DISABLED, PENDING_DELETION = "Enabled", "Disabled", "PendingDeletion"
STATES = (ENABLED, DISABLED, PENDING_DELETION)
KEY_SPEC, KEY_USAGE, ORIGIN = "Aliyun_AES_256", "ENCRYPT/DECRYPT", "Aliyun_KMS"
SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY, description TEXT NOT NULL, state TEXT NOT NULL,
    create_time TEXT NOT NULL, delete_date TEXT
);
"""


def key_arn(region: str, account_id: str, key_id: str) -> str:
    return f"acs:kms:{region}:{account_id}:key/{key_id}"


def check_key_id(key_id: str) -> str:
    if not KEY_ID.fullmatch(key_id or ""):
        raise errors.InvalidParameter(
            f"KeyId {key_id!r} is invalid: 1-128 letters, digits and '-' (a key's id or its "
            "ARN acs:kms:<region>:<account>:key/<id>)"
        )
    return key_id


def key_id_of(given: str, region: str, account_id: str) -> str:
    """The key id in `given`, a key id or its ARN; a key ARN of another account or region
    names no key of this one (Forbidden.KeyNotFound)."""
    if given.startswith("acs:kms:"):
        prefix = key_arn(region, account_id, "")
        if not given.startswith(prefix):
            raise errors.KeyNotFound(f"The key {given!r} is not in this account/region")
        given = given[len(prefix) :]
    return check_key_id(given)


def _now(after_seconds: float = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + after_seconds))


@dataclass(frozen=True)
class Key:
    key_id: str
    description: str
    state: str
    create_time: str
    delete_date: str | None = None  # when PendingDeletion


class KeyStore:
    def __init__(self, path: Path, region: str, account_id: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.region, self.account_id = region, account_id
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(keys)")}
        if "delete_date" not in columns:  # a data dir from before deletion was served
            self._db.execute("ALTER TABLE keys ADD COLUMN delete_date TEXT")
        self._lock = threading.Lock()

    def arn(self, key_id: str) -> str:
        return key_arn(self.region, self.account_id, key_id)

    def id_of(self, given: str) -> str:
        return key_id_of(given, self.region, self.account_id)

    def create(self, description: str = "") -> Key:
        return self._insert(str(uuid.uuid4()), description)

    def seed(self, key_id: str, description: str = "") -> tuple[Key, bool]:
        """(the key with this id, whether it was made now): an existing key is left as it is."""
        check_key_id(key_id)
        with self._lock:
            found = self._find(key_id)
        if found is not None:
            return found, False
        try:
            return self._insert(key_id, description), True
        except errors.KmsError:  # made meanwhile by another request
            return self.describe(key_id), False

    def describe(self, key_id: str) -> Key:
        with self._lock:
            found = self._find(key_id)
        if found is None:
            raise errors.KeyNotFound(
                f"The key {key_id!r} does not exist in {self.region}: check the KeyId"
            )
        return found

    def set_enabled(self, key_id: str, enabled: bool) -> Key:
        key = self.describe(key_id)
        if key.state == PENDING_DELETION:
            raise errors.StateModifiedFailed(
                f"The key {key_id!r} is pending deletion: cancel the deletion first"
            )
        with self._lock:
            self._db.execute(
                "UPDATE keys SET state = ? WHERE key_id = ?",
                (ENABLED if enabled else DISABLED, key_id),
            )
        return self.describe(key_id)

    def schedule_deletion(self, key_id: str, days: str) -> Key:
        if not days.isdigit() or not 7 <= int(days) <= 366:
            raise errors.InvalidParameter(
                f"PendingWindowInDays must be a whole number of days from 7 to 366, not {days!r}"
            )
        if self.describe(key_id).state == PENDING_DELETION:
            raise errors.StateModifiedFailed(f"The key {key_id!r} is pending deletion already")
        with self._lock:
            self._db.execute(
                "UPDATE keys SET state = ?, delete_date = ? WHERE key_id = ?",
                (PENDING_DELETION, _now(int(days) * 86400), key_id),
            )
        return self.describe(key_id)

    def cancel_deletion(self, key_id: str) -> Key:
        if self.describe(key_id).state != PENDING_DELETION:
            raise errors.StateModifiedFailed(f"The key {key_id!r} is not pending deletion")
        with self._lock:
            self._db.execute(
                "UPDATE keys SET state = ?, delete_date = NULL WHERE key_id = ?",
                (ENABLED, key_id),
            )
        return self.describe(key_id)

    def require_enabled(self, key_id: str, use: str) -> Key:
        """The key, if it may `use` (encrypt, decrypt) now; else its state's 409 Rejected.*."""
        key = self.describe(key_id)
        if key.state == DISABLED:
            raise errors.KeyDisabled(
                f"The key {key_id!r} is Disabled, so it cannot {use}: EnableKey it first"
            )
        if key.state == PENDING_DELETION:
            raise errors.KeyPendingDeletion(
                f"The key {key_id!r} is pending deletion, so it cannot {use}"
            )
        return key

    def _find(self, key_id: str) -> Key | None:
        row = self._db.execute(
            "SELECT key_id, description, state, create_time, delete_date FROM keys "
            "WHERE key_id = ?",
            (key_id,),
        ).fetchone()
        return Key(*row) if row else None

    def _insert(self, key_id: str, description: str) -> Key:
        if len(description) > 8192:
            raise errors.InvalidParameter("Description is over 8,192 characters")
        key = Key(key_id, description, ENABLED, _now())
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO keys VALUES (?, ?, ?, ?, NULL)",
                    (key.key_id, key.description, key.state, key.create_time),
                )
            except sqlite3.IntegrityError:
                raise errors.InvalidParameter(f"a key {key_id!r} exists already") from None
        return key

    def metadata(self, key: Key) -> dict:
        """KeyMetadata as CreateKey and DescribeKey answer it."""
        found = {
            "KeyId": key.key_id,
            "Arn": self.arn(key.key_id),
            "KeyState": key.state,
            "KeyUsage": KEY_USAGE,
            "KeySpec": KEY_SPEC,
            "Origin": ORIGIN,
            "ProtectionLevel": "SOFTWARE",
            "Description": key.description,
            "Creator": self.account_id,
            "CreationDate": key.create_time,
            "AutomaticRotation": "Disabled",
        }
        # "returned only when the value of KeyState is PendingDeletion" (CreateKey reference)
        return {**found, "DeleteDate": key.delete_date} if key.delete_date else found

    def close(self) -> None:
        self._db.close()
