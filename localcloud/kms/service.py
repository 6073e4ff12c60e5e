"""Local KMS as one localcloud service: its secrets and keys (one SQLite file of the data
dir), the request counters the admin listener shows, the reading chosen where the docs are
silent, and the admin control that seeds a key under a given id.

Admin (through localcloud/admin.py, token-protected like every control):
    POST /kms/keys  body {"key_id": "...", "description": "..."} -> {"KeyMetadata", "created"}
        a key with that id, Enabled, unless one exists (then it is left as it is): the key an
        environment names (unzip.password.key_id) exists in the cloud account before infra
        runs, and CreateKey cannot choose an id (docs/decisions/local-kms-keys.md).
"""

from __future__ import annotations

import collections
import json
import os
import threading
from pathlib import Path

from . import errors
from .keys import KeyStore
from .secrets import SecretStore

# what GetSecretValue does with a secret whose key is not Enabled; the docs are silent
# (docs/localcloud-kms.md): "refuse" (stricter, the default) answers the key state's 409 as
# Decrypt does, "allow" reads the value anyway
DISABLED_KEY_READS = ("refuse", "allow")


def disabled_key_reads(options: dict) -> str:
    value = options.get("kms_disabled_key_reads") or os.environ.get(
        "LOCALCLOUD_KMS_DISABLED_KEY_READS", "refuse"
    )
    if value not in DISABLED_KEY_READS:
        raise ValueError(f"kms_disabled_key_reads must be one of {DISABLED_KEY_READS}: {value!r}")
    return value


class KmsService:
    def __init__(self, data_dir: Path, region: str, account_id: str, disabled_key_reads="refuse"):
        path = Path(data_dir) / "kms.sqlite"
        self.secrets = SecretStore(path, region, account_id)
        self.keys = KeyStore(path, region, account_id)
        self.region, self.account_id = region, account_id
        self.disabled_key_reads = disabled_key_reads
        # requests by action, and those RAM denied (admin /counters): tests count KMS calls
        self.counters: collections.Counter = collections.Counter()
        self._counters_lock = threading.Lock()  # not a store's: the event loop must not wait on SQL

    def count(self, action: str, denied: bool = False) -> None:
        with self._counters_lock:
            self.counters[f"{action}.denied" if denied else action] += 1

    def counters_snapshot(self) -> dict[str, int]:
        with self._counters_lock:
            return dict(self.counters)

    def reset_counters(self) -> None:
        with self._counters_lock:
            self.counters.clear()

    def admin_route(self, method: str, path: str, body: bytes):
        if path != "/kms/keys":
            return None
        if method != "POST":
            return 405, {"error": "POST /kms/keys {key_id, description} seeds a key"}
        wanted = json.loads(body or b"{}")
        if not isinstance(wanted, dict) or not isinstance(wanted.get("key_id"), str):
            raise ValueError('POST /kms/keys takes {"key_id": "...", "description": "..."}')
        try:
            key, created = self.keys.seed(wanted["key_id"], str(wanted.get("description", "")))
        except errors.KmsError as exc:
            raise ValueError(exc.message) from None
        return 200, {"KeyMetadata": self.keys.metadata(key), "created": created}

    def close(self) -> None:
        self.secrets.close()
        self.keys.close()
