"""Object bytes as immutable files on disk, metadata in SQLite (WAL); safe to share between threads.

Every stored version of an object gets its own file that is never modified in place: a PUT
streams into a temp file that is renamed into place, a copy hard-links the source file, and a
reader that opened a file keeps reading it even if the object is overwritten or deleted.
Small objects (<= INLINE_MAX) skip the file system: their bytes live in the metadata row, which
saves a file create/rename/unlink per request (the dominant cost of small PUTs on ext4).
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
  name TEXT PRIMARY KEY, created REAL NOT NULL, storage_class TEXT NOT NULL,
  acl TEXT NOT NULL, location TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
  bucket TEXT NOT NULL, key TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, crc64 TEXT NOT NULL, content_type TEXT NOT NULL, last_modified REAL NOT NULL,
  storage_class TEXT NOT NULL, object_type TEXT NOT NULL, meta TEXT NOT NULL,
  restore_started REAL, restore_ready REAL, restore_days INTEGER,
  data BLOB,  -- bytes of a small object kept inline (path = ''); NULL for file-backed objects
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
-- noncurrent versions of versioned buckets (the current one, possibly a delete marker, is in
-- objects); same columns, newest first by seq
CREATE TABLE IF NOT EXISTS versions (
  bucket TEXT NOT NULL, key TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, crc64 TEXT NOT NULL, content_type TEXT NOT NULL, last_modified REAL NOT NULL,
  storage_class TEXT NOT NULL, object_type TEXT NOT NULL, meta TEXT NOT NULL,
  restore_started REAL, restore_ready REAL, restore_days INTEGER,
  version_id TEXT NOT NULL, delete_marker INTEGER NOT NULL, seq INTEGER NOT NULL,
  data BLOB,
  PRIMARY KEY (bucket, key, version_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS versions_by_seq ON versions (bucket, key, seq);
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, initiated REAL NOT NULL,
  content_type TEXT NOT NULL, storage_class TEXT NOT NULL, meta TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, upload_id);
-- bucket inventory configurations (inventory_config.InventoryConfig as JSON)
CREATE TABLE IF NOT EXISTS inventories (
  bucket TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (bucket, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, crc64 TEXT NOT NULL, last_modified REAL NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
"""

INLINE_MAX = 64 * 1024

OBJECT_COLUMNS = (
    "bucket, key, path, size, etag, crc64, content_type, last_modified, storage_class, "
    "object_type, meta, restore_started, restore_ready, restore_days, version_id, "
    "delete_marker, seq"
)
_N_COLUMNS = 17
_INSERT_VALUES = "VALUES (" + ",".join("?" * (_N_COLUMNS + 1)) + ")"
# columns added after the first data dirs were written: (table, column, definition)
_ADDED_COLUMNS = (
    ("objects", "data", "BLOB"),
    ("objects", "version_id", "TEXT NOT NULL DEFAULT ''"),
    ("objects", "delete_marker", "INTEGER NOT NULL DEFAULT 0"),
    ("objects", "seq", "INTEGER NOT NULL DEFAULT 0"),
    ("buckets", "versioning", "TEXT NOT NULL DEFAULT ''"),
)


@dataclass(slots=True)
class ObjectRecord:
    """Metadata of one object version; `path` is its data file relative to the data root."""

    bucket: str
    key: str
    path: str
    size: int
    etag: str  # without quotes, as OSS computes it (upper-case MD5 hex, or "<hex>-N")
    crc64: int
    content_type: str
    last_modified: float
    storage_class: str = "Standard"
    object_type: str = "Normal"
    meta: dict = field(default_factory=dict)  # user meta (x-oss-meta-*) and stored HTTP headers
    restore_started: float | None = None
    restore_ready: float | None = None
    restore_days: int | None = None
    inline: bytes | None = None  # filled by get_object(with_data=True) for inline objects
    version_id: str = ""  # "" = written while the bucket was never versioned; "null" if suspended
    delete_marker: bool = False
    seq: int = 0  # orders the versions of one key (larger = newer)

    @classmethod
    def from_row(cls, row) -> ObjectRecord:
        (bucket, key, path, size, etag, crc, ctype, lm, sc, ot, meta, rs, rr, rd) = row[:14]
        rec = cls(
            bucket, key, path, size, etag, int(crc), ctype, lm, sc, ot, json.loads(meta), rs, rr, rd
        )
        rec.version_id, rec.delete_marker, rec.seq = row[14], bool(row[15]), row[16]
        return rec

    def as_row(self) -> tuple:
        return (
            self.bucket,
            self.key,
            self.path,
            self.size,
            self.etag,
            str(self.crc64),
            self.content_type,
            self.last_modified,
            self.storage_class,
            self.object_type,
            json.dumps(self.meta, separators=(",", ":")),
            self.restore_started,
            self.restore_ready,
            self.restore_days,
            self.version_id,
            int(self.delete_marker),
            self.seq,
        )


@dataclass(slots=True)
class BucketRecord:
    name: str
    created: float
    storage_class: str
    acl: str
    location: str
    versioning: str = ""  # "" never enabled, "Enabled" or "Suspended"


@dataclass(slots=True)
class UploadRecord:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    content_type: str
    storage_class: str
    meta: dict


@dataclass(slots=True)
class PartRecord:
    upload_id: str
    part_number: int
    path: str
    size: int
    etag: str
    crc64: int
    last_modified: float


class Storage:
    """The OSS state of one data dir: `root/data/xx/<id>` files and `root/meta.sqlite`."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.data_dir = self.root / "data"
        self.tmp_dir = self.root / "tmp"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp_dir.iterdir():  # uploads cut short by a crash
            leftover.unlink(missing_ok=True)
        self._lock = threading.RLock()
        self.lock = self._lock  # held by semantics that read and write several rows at once
        self._boot = f"{uuid.uuid4().hex[:12]}-"
        self._seq = itertools.count(1)
        self.db = sqlite3.connect(
            self.root / "meta.sqlite", check_same_thread=False, isolation_level=None
        )
        self.db.execute("PRAGMA journal_mode=WAL")
        # no fsync (not even at checkpoints): a killed process loses nothing, only an OS crash could
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        for table, column, definition in _ADDED_COLUMNS:  # data dirs from older versions
            columns = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # --- files -------------------------------------------------------------------------
    def _unique_name(self) -> str:
        # boot prefix + counter: unique across restarts, cheaper than uuid4 on the hot path
        return f"{self._boot}{next(self._seq):010x}"

    def new_temp_path(self) -> Path:
        return self.tmp_dir / self._unique_name()

    def adopt(self, temp_path: Path) -> str:
        """Move a finished temp file into the data area; returns its relative data path."""
        name = self._unique_name()
        rel = f"{name[-2:]}/{name}"
        target = self.data_dir / rel
        try:
            os.rename(temp_path, target)
        except FileNotFoundError:
            target.parent.mkdir(exist_ok=True)
            os.rename(temp_path, target)
        return rel

    def link_copy(self, rel: str) -> str:
        """A new name for an existing immutable data file (used by copy: no bytes move)."""
        name = self._unique_name()
        new_rel = f"{name[-2:]}/{name}"
        target = self.data_dir / new_rel
        try:
            os.link(self.data_dir / rel, target)
        except FileNotFoundError:
            target.parent.mkdir(exist_ok=True)
            os.link(self.data_dir / rel, target)
        return new_rel

    def file_path(self, rel: str) -> Path:
        return self.data_dir / rel

    def discard(self, rel: str | None) -> None:
        if rel:
            try:
                os.unlink(self.data_dir / rel)
            except FileNotFoundError:
                pass

    # --- buckets -----------------------------------------------------------------------
    def get_bucket(self, name: str) -> BucketRecord | None:
        with self._lock:
            row = self.db.execute(
                "SELECT name, created, storage_class, acl, location, versioning FROM buckets WHERE name=?",
                (name,),
            ).fetchone()
        return BucketRecord(*row) if row else None

    def insert_bucket(self, rec: BucketRecord) -> bool:
        with self._lock:
            cur = self.db.execute(
                "INSERT OR IGNORE INTO buckets (name, created, storage_class, acl, location, "
                "versioning) VALUES (?,?,?,?,?,?)",
                (rec.name, rec.created, rec.storage_class, rec.acl, rec.location, rec.versioning),
            )
        return cur.rowcount == 1

    def set_bucket_acl(self, name: str, acl: str) -> None:
        with self._lock:
            self.db.execute("UPDATE buckets SET acl=? WHERE name=?", (acl, name))

    def set_bucket_versioning(self, name: str, status: str) -> None:
        with self._lock:
            self.db.execute("UPDATE buckets SET versioning=? WHERE name=?", (status, name))

    def delete_bucket(self, name: str) -> None:
        with self._lock:
            self.db.execute("DELETE FROM buckets WHERE name=?", (name,))
            self.db.execute("DELETE FROM inventories WHERE bucket=?", (name,))

    # --- inventory configurations ------------------------------------------------------
    def insert_inventory(self, bucket: str, inventory_id: str, doc: str, limit: int) -> str:
        """'ok', 'exists' or 'full' (the bucket already has `limit` configurations)."""
        with self._lock:
            if self.get_inventory(bucket, inventory_id) is not None:
                return "exists"
            (count,) = self.db.execute(
                "SELECT count(*) FROM inventories WHERE bucket=?", (bucket,)
            ).fetchone()
            if count >= limit:
                return "full"
            self.db.execute(
                "INSERT INTO inventories (bucket, id, doc) VALUES (?,?,?)",
                (bucket, inventory_id, doc),
            )
        return "ok"

    def get_inventory(self, bucket: str, inventory_id: str) -> str | None:
        with self._lock:
            row = self.db.execute(
                "SELECT doc FROM inventories WHERE bucket=? AND id=?", (bucket, inventory_id)
            ).fetchone()
        return row[0] if row else None

    def list_inventories(self, bucket: str, after: str, limit: int) -> list[tuple[str, str]]:
        with self._lock:
            return self.db.execute(
                "SELECT id, doc FROM inventories WHERE bucket=? AND id > ? ORDER BY id LIMIT ?",
                (bucket, after, limit),
            ).fetchall()

    def delete_inventory(self, bucket: str, inventory_id: str) -> bool:
        with self._lock:
            cur = self.db.execute(
                "DELETE FROM inventories WHERE bucket=? AND id=?", (bucket, inventory_id)
            )
        return cur.rowcount == 1

    def list_buckets(self, prefix: str, marker: str, limit: int) -> list[BucketRecord]:
        with self._lock:
            rows = self.db.execute(
                "SELECT name, created, storage_class, acl, location, versioning FROM buckets "
                "WHERE name > ? AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
                (marker, len(prefix), prefix, limit),
            ).fetchall()
        return [BucketRecord(*r) for r in rows]

    def bucket_has_objects(self, name: str) -> bool:
        with self._lock:
            row = self.db.execute(
                "SELECT 1 FROM objects WHERE bucket=? LIMIT 1", (name,)
            ).fetchone()
            for table in ("versions", "uploads"):  # noncurrent versions keep a bucket non-empty
                if row is None:
                    row = self.db.execute(
                        f"SELECT 1 FROM {table} WHERE bucket=? LIMIT 1", (name,)
                    ).fetchone()
        return row is not None

    def bucket_stat(self, name: str) -> tuple[int, int]:
        with self._lock:
            count, size = self.db.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM objects "
                "WHERE bucket=? AND delete_marker=0",
                (name,),
            ).fetchone()
        return count, size

    # --- objects -----------------------------------------------------------------------
    def get_object(self, bucket: str, key: str, with_data: bool = False) -> ObjectRecord | None:
        """The current version; with_data also loads an inline object's bytes in the same query."""
        with self._lock:
            if with_data:
                row = self.db.execute(
                    f"SELECT {OBJECT_COLUMNS}, data FROM objects WHERE bucket=? AND key=?",
                    (bucket, key),
                ).fetchone()
            else:
                row = self.db.execute(
                    f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? AND key=?", (bucket, key)
                ).fetchone()
        if not row:
            return None
        rec = ObjectRecord.from_row(row)
        if with_data and not rec.path:
            rec.inline = bytes(row[_N_COLUMNS] or b"")
        return rec

    def get_version(
        self, bucket: str, key: str, version_id: str, with_data: bool = False
    ) -> ObjectRecord | None:
        """One version, current or noncurrent; "null" also names a never-versioned write."""
        ids = ("", "null") if version_id == "null" else (version_id, version_id)
        cols = f"{OBJECT_COLUMNS}, data" if with_data else OBJECT_COLUMNS
        with self._lock:
            for table in ("objects", "versions"):
                row = self.db.execute(
                    f"SELECT {cols} FROM {table} WHERE bucket=? AND key=? AND version_id IN (?,?)",
                    (bucket, key, *ids),
                ).fetchone()
                if row:
                    break
        if not row:
            return None
        rec = ObjectRecord.from_row(row)
        if with_data and not rec.path:
            rec.inline = bytes(row[_N_COLUMNS] or b"")
        return rec

    def archive_current(self, bucket: str, key: str) -> None:
        """Keep the current version as a noncurrent one (a versioned write or delete follows)."""
        with self._lock:
            self.db.execute(
                f"INSERT OR REPLACE INTO versions ({OBJECT_COLUMNS}, data) "
                f"SELECT {OBJECT_COLUMNS}, data FROM objects WHERE bucket=? AND key=?",
                (bucket, key),
            )
            self.db.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))

    def delete_noncurrent(self, bucket: str, key: str, version_id: str) -> str | None:
        """Drop one noncurrent version; returns its data path (None when there was none)."""
        ids = ("", "null") if version_id == "null" else (version_id, version_id)
        with self._lock:
            row = self.db.execute(
                "DELETE FROM versions WHERE bucket=? AND key=? AND version_id IN (?,?) "
                "RETURNING path",
                (bucket, key, *ids),
            ).fetchone()
        return row[0] if row else None

    def promote_newest(self, bucket: str, key: str) -> None:
        """After the current version was deleted: the newest noncurrent one becomes current."""
        with self._lock:
            row = self.db.execute(
                "SELECT version_id FROM versions WHERE bucket=? AND key=? ORDER BY seq DESC LIMIT 1",
                (bucket, key),
            ).fetchone()
            if row is None:
                return
            self.db.execute(
                f"INSERT INTO objects ({OBJECT_COLUMNS}, data) SELECT {OBJECT_COLUMNS}, data "
                "FROM versions WHERE bucket=? AND key=? AND version_id=?",
                (bucket, key, row[0]),
            )
            self.db.execute(
                "DELETE FROM versions WHERE bucket=? AND key=? AND version_id=?",
                (bucket, key, row[0]),
            )

    def scan_versions(
        self, bucket: str, prefix: str, after_key: str, after_seq: int | None, limit: int
    ) -> list[tuple[ObjectRecord, bool]]:
        """All versions (current and noncurrent, delete markers too) by key, newest first, each
        with whether it is the current one; after (after_key, after_seq), or after every
        version of after_key when after_seq is None."""
        seq = -1 if after_seq is None else after_seq
        found = []
        with self._lock:
            for table in ("objects", "versions"):
                rows = self.db.execute(
                    f"SELECT {OBJECT_COLUMNS} FROM {table} WHERE bucket=? "
                    "AND substr(key, 1, ?) = ? AND (key > ? OR (key = ? AND seq < ?)) "
                    "ORDER BY key, seq DESC LIMIT ?",
                    (bucket, len(prefix), prefix, after_key, after_key, seq, limit),
                ).fetchall()
                found += [(ObjectRecord.from_row(r), table == "objects") for r in rows]
        found.sort(key=lambda pair: (pair[0].key.encode("utf-8", "surrogatepass"), -pair[0].seq))
        return found[:limit]

    def put_object(self, rec: ObjectRecord, data: bytes | None = None) -> str | None:
        """Insert or replace (data: inline bytes when rec.path is ''); returns the data path of the
        replaced version for the caller to discard."""
        with self._lock:
            old = self.db.execute(
                "SELECT path FROM objects WHERE bucket=? AND key=?", (rec.bucket, rec.key)
            ).fetchone()
            self.db.execute(
                f"INSERT OR REPLACE INTO objects ({OBJECT_COLUMNS}, data) {_INSERT_VALUES}",
                (*rec.as_row(), data),
            )
        return old[0] if old else None

    def update_meta(self, rec: ObjectRecord) -> None:
        """Rewrite the metadata of an existing version (bytes untouched)."""
        meta = json.dumps(rec.meta, separators=(",", ":"))
        with self._lock:
            for table in ("objects", "versions"):
                cur = self.db.execute(
                    f"UPDATE {table} SET meta=? WHERE bucket=? AND key=? AND version_id=?",
                    (meta, rec.bucket, rec.key, rec.version_id),
                )
                if cur.rowcount:
                    return

    def get_data(self, rec: ObjectRecord) -> bytes:
        """The inline bytes of a small object (rec.path == '')."""
        if rec.inline is not None:
            return rec.inline
        with self._lock:
            row = self.db.execute(
                "SELECT data FROM objects WHERE bucket=? AND key=? AND version_id=? AND path=''",
                (rec.bucket, rec.key, rec.version_id),
            ).fetchone()
            if row is None:
                row = self.db.execute(
                    "SELECT data FROM versions WHERE bucket=? AND key=? AND version_id=? "
                    "AND path=''",
                    (rec.bucket, rec.key, rec.version_id),
                ).fetchone()
        if row is None or row[0] is None:
            return b""
        return bytes(row[0])

    def read_all(self, rec: ObjectRecord) -> bytes:
        """Whole content (small objects, appends of small objects)."""
        if not rec.path:
            return self.get_data(rec)
        with open(self.data_dir / rec.path, "rb") as f:
            return f.read()

    def delete_object(self, bucket: str, key: str) -> str | None:
        """Delete the row; returns the data path to discard (None when there was no object)."""
        with self._lock:
            row = self.db.execute(
                "DELETE FROM objects WHERE bucket=? AND key=? RETURNING path", (bucket, key)
            ).fetchone()
        return row[0] if row else None

    def update_restore(
        self, bucket: str, key: str, started: float, ready: float, days: int, version_id: str = ""
    ) -> None:
        with self._lock:
            for table in ("objects", "versions"):
                cur = self.db.execute(
                    f"UPDATE {table} SET restore_started=?, restore_ready=?, restore_days=? "
                    "WHERE bucket=? AND key=? AND version_id=?",
                    (started, ready, days, bucket, key, version_id),
                )
                if cur.rowcount:
                    return

    def scan_objects(self, bucket: str, after: str, prefix: str, limit: int) -> list[ObjectRecord]:
        """Objects with key > after and key starting with prefix, in byte order of UTF-8 keys."""
        # a range on the primary key (key >= prefix) keeps this an index seek, not a table scan
        lower = max(after, prefix) if prefix else after
        op = ">" if after >= prefix else ">="
        with self._lock:
            rows = self.db.execute(
                f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? AND key {op} ? "
                "AND substr(key, 1, ?) = ? AND delete_marker=0 ORDER BY key LIMIT ?",
                (bucket, lower, len(prefix), prefix, limit),
            ).fetchall()
        return [ObjectRecord.from_row(r) for r in rows]

    # --- multipart ---------------------------------------------------------------------
    def insert_upload(self, rec: UploadRecord) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO uploads VALUES (?,?,?,?,?,?,?)",
                (
                    rec.upload_id,
                    rec.bucket,
                    rec.key,
                    rec.initiated,
                    rec.content_type,
                    rec.storage_class,
                    json.dumps(rec.meta),
                ),
            )

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        with self._lock:
            row = self.db.execute(
                "SELECT upload_id, bucket, key, initiated, content_type, storage_class, meta "
                "FROM uploads WHERE upload_id=?",
                (upload_id,),
            ).fetchone()
        if not row:
            return None
        return UploadRecord(*row[:6], json.loads(row[6]))

    def list_uploads(
        self, bucket: str, prefix: str, key_marker: str, upload_marker: str, limit: int
    ) -> list[UploadRecord]:
        with self._lock:
            rows = self.db.execute(
                "SELECT upload_id, bucket, key, initiated, content_type, storage_class, meta "
                "FROM uploads WHERE bucket=? AND substr(key, 1, ?) = ? "
                "AND (key > ? OR (key = ? AND upload_id > ?)) ORDER BY key, upload_id LIMIT ?",
                (bucket, len(prefix), prefix, key_marker, key_marker, upload_marker, limit),
            ).fetchall()
        return [UploadRecord(*r[:6], json.loads(r[6])) for r in rows]

    def put_part(self, rec: PartRecord) -> str | None:
        with self._lock:
            old = self.db.execute(
                "SELECT path FROM parts WHERE upload_id=? AND part_number=?",
                (rec.upload_id, rec.part_number),
            ).fetchone()
            self.db.execute(
                "INSERT OR REPLACE INTO parts VALUES (?,?,?,?,?,?,?)",
                (
                    rec.upload_id,
                    rec.part_number,
                    rec.path,
                    rec.size,
                    rec.etag,
                    str(rec.crc64),
                    rec.last_modified,
                ),
            )
        return old[0] if old else None

    def list_parts(self, upload_id: str, after: int = 0, limit: int = 10001) -> list[PartRecord]:
        with self._lock:
            rows = self.db.execute(
                "SELECT upload_id, part_number, path, size, etag, crc64, last_modified FROM parts "
                "WHERE upload_id=? AND part_number > ? ORDER BY part_number LIMIT ?",
                (upload_id, after, limit),
            ).fetchall()
        return [PartRecord(r[0], r[1], r[2], r[3], r[4], int(r[5]), r[6]) for r in rows]

    def delete_upload(self, upload_id: str) -> list[str]:
        """Drop an upload and its parts; returns the part data paths to discard."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                paths = [
                    r[0]
                    for r in self.db.execute(
                        "DELETE FROM parts WHERE upload_id=? RETURNING path", (upload_id,)
                    ).fetchall()
                ]
                self.db.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return paths
