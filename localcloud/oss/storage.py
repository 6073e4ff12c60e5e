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
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, initiated REAL NOT NULL,
  content_type TEXT NOT NULL, storage_class TEXT NOT NULL, meta TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, crc64 TEXT NOT NULL, last_modified REAL NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
"""

INLINE_MAX = 64 * 1024

OBJECT_COLUMNS = (
    "bucket, key, path, size, etag, crc64, content_type, last_modified, storage_class, "
    "object_type, meta, restore_started, restore_ready, restore_days"
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

    @classmethod
    def from_row(cls, row) -> ObjectRecord:
        (bucket, key, path, size, etag, crc, ctype, lm, sc, ot, meta, rs, rr, rd) = row[:14]
        return cls(
            bucket, key, path, size, etag, int(crc), ctype, lm, sc, ot, json.loads(meta), rs, rr, rd
        )

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
        )


@dataclass(slots=True)
class BucketRecord:
    name: str
    created: float
    storage_class: str
    acl: str
    location: str


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
        self._boot = f"{uuid.uuid4().hex[:12]}-"
        self._seq = itertools.count(1)
        self.db = sqlite3.connect(
            self.root / "meta.sqlite", check_same_thread=False, isolation_level=None
        )
        self.db.execute("PRAGMA journal_mode=WAL")
        # no fsync (not even at checkpoints): a killed process loses nothing, only an OS crash could
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(objects)")}
        if "data" not in columns:  # data dirs from before inline small objects
            self.db.execute("ALTER TABLE objects ADD COLUMN data BLOB")

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
                "SELECT name, created, storage_class, acl, location FROM buckets WHERE name=?",
                (name,),
            ).fetchone()
        return BucketRecord(*row) if row else None

    def insert_bucket(self, rec: BucketRecord) -> bool:
        with self._lock:
            cur = self.db.execute(
                "INSERT OR IGNORE INTO buckets VALUES (?,?,?,?,?)",
                (rec.name, rec.created, rec.storage_class, rec.acl, rec.location),
            )
        return cur.rowcount == 1

    def set_bucket_acl(self, name: str, acl: str) -> None:
        with self._lock:
            self.db.execute("UPDATE buckets SET acl=? WHERE name=?", (acl, name))

    def delete_bucket(self, name: str) -> None:
        with self._lock:
            self.db.execute("DELETE FROM buckets WHERE name=?", (name,))

    def list_buckets(self, prefix: str, marker: str, limit: int) -> list[BucketRecord]:
        with self._lock:
            rows = self.db.execute(
                "SELECT name, created, storage_class, acl, location FROM buckets "
                "WHERE name > ? AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
                (marker, len(prefix), prefix, limit),
            ).fetchall()
        return [BucketRecord(*r) for r in rows]

    def bucket_has_objects(self, name: str) -> bool:
        with self._lock:
            row = self.db.execute(
                "SELECT 1 FROM objects WHERE bucket=? LIMIT 1", (name,)
            ).fetchone()
            if row is None:
                row = self.db.execute(
                    "SELECT 1 FROM uploads WHERE bucket=? LIMIT 1", (name,)
                ).fetchone()
        return row is not None

    def bucket_stat(self, name: str) -> tuple[int, int]:
        with self._lock:
            count, size = self.db.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM objects WHERE bucket=?", (name,)
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
            rec.inline = bytes(row[14] or b"")
        return rec

    def put_object(self, rec: ObjectRecord, data: bytes | None = None) -> str | None:
        """Insert or replace (data: inline bytes when rec.path is ''); returns the data path of the
        replaced version for the caller to discard."""
        with self._lock:
            old = self.db.execute(
                "SELECT path FROM objects WHERE bucket=? AND key=?", (rec.bucket, rec.key)
            ).fetchone()
            self.db.execute(
                f"INSERT OR REPLACE INTO objects ({OBJECT_COLUMNS}, data) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*rec.as_row(), data),
            )
        return old[0] if old else None

    def update_meta(self, rec: ObjectRecord) -> None:
        """Rewrite the metadata of an existing version (bytes untouched)."""
        with self._lock:
            self.db.execute(
                "UPDATE objects SET meta=? WHERE bucket=? AND key=?",
                (json.dumps(rec.meta, separators=(",", ":")), rec.bucket, rec.key),
            )

    def get_data(self, rec: ObjectRecord) -> bytes:
        """The inline bytes of a small object (rec.path == '')."""
        if rec.inline is not None:
            return rec.inline
        with self._lock:
            row = self.db.execute(
                "SELECT data FROM objects WHERE bucket=? AND key=? AND path=''",
                (rec.bucket, rec.key),
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
        self, bucket: str, key: str, started: float, ready: float, days: int
    ) -> None:
        with self._lock:
            self.db.execute(
                "UPDATE objects SET restore_started=?, restore_ready=?, restore_days=? "
                "WHERE bucket=? AND key=?",
                (started, ready, days, bucket, key),
            )

    def scan_objects(self, bucket: str, after: str, prefix: str, limit: int) -> list[ObjectRecord]:
        """Objects with key > after and key starting with prefix, in byte order of UTF-8 keys."""
        # a range on the primary key (key >= prefix) keeps this an index seek, not a table scan
        lower = max(after, prefix) if prefix else after
        op = ">" if after >= prefix else ">="
        with self._lock:
            rows = self.db.execute(
                f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? AND key {op} ? "
                "AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
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
