"""One unzip page: the planned reads from the marker on, each run by a short method, into a sink."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import inflate64
import stream_unzip

from .unzipsink import PageSink, PageStop
from .zipio import PackageReader
from .zipplan import DEFLATE64, PlannedEntry
from .zipreads import PlannedRead, ReadKind, ReadLayout, planned_reads
from .zipsafety import UnsafeEntry


class BlockReader:
    """``PackageReader``'s fetch/stream over bytes already read: one GET for many small entries."""

    def __init__(self, data: bytes, start: int):
        self.data, self.start = data, start

    def fetch(self, start: int, end: int) -> bytes:
        data = self.data[start - self.start : end - self.start]
        if len(data) != end - start:
            raise UnsafeEntry("TruncatedEntry", f"bytes {start}-{end - 1} lie outside the entry")
        return data

    def stream(self, start: int, end: int, chunk: int):
        yield self.fetch(start, end)


@dataclass
class PageExtraction:
    plan: list[PlannedEntry]
    reader: PackageReader
    layout: ReadLayout
    sink: PageSink
    stop: PageStop
    password: bytes | None = None

    def run(self) -> int:
        """Extract from the marker until the plan ends or the page is full; the next marker."""
        run_read = {
            ReadKind.SKIP: self.skip,
            ReadKind.DIRECTORY: self.directory_marker,
            ReadKind.BY_DIRECTORY: self.by_directory,
            ReadKind.STORED_BLOCK: self.stored_block,
            ReadKind.STREAM_RUN: self.stream_run,
        }
        i = self.stop.marker
        reads = planned_reads(
            self.plan, i, self.layout, lambda: self.stop.room(self.sink.tally.entries)
        )
        try:
            read = next(reads)
            while not self.stop.reached(i, self.sink.tally.entries):
                i = run_read[read.kind](read)
                read = reads.send(i)
        except StopIteration:
            pass
        return i

    def skip(self, read: PlannedRead) -> int:
        self.sink.record_skip(self.plan[read.first])
        return read.end

    def directory_marker(self, read: PlannedRead) -> int:
        self.sink.directory_marker(self.plan[read.first])
        return read.end

    def stored_block(self, read: PlannedRead) -> int:
        """Small stored-with-descriptor entries from one ranged GET."""
        self.sink.pool.reserve_wait(read.stop - read.start)
        block = BlockReader(self.reader.fetch(read.start, read.stop), read.start)
        for p in self.plan[read.first : read.end]:
            self.entry_by_directory(p, block)
        return read.end

    def by_directory(self, read: PlannedRead) -> int:
        self.entry_by_directory(self.plan[read.first], self.reader)
        return read.end

    def stream_run(self, read: PlannedRead) -> int:
        """Entries ``read.first`` up to ``read.end`` from one stream; the next index."""
        chunk = self.sink.sizes.read_chunk_bytes
        chunks = self.reader.stream(read.start, read.stop, chunk)
        files = stream_unzip.stream_unzip(chunks, password=self.password, chunk_size=chunk)
        for i in range(read.first, read.end):
            if i > read.first and self.stop.reached(i, self.sink.tally.entries):
                return i
            if not self.stream_entry(self.plan[i], files):
                return i + 1  # the stream is unusable after an error: restart at the next entry
        return read.end

    def stream_entry(self, p: PlannedEntry, files) -> bool:
        """One entry of a stream run; False when it failed (the stream cannot go on)."""
        writer = None
        try:
            raw_name, _size, entry_chunks = next(files)
            if raw_name != p.entry.raw_name:
                raise UnsafeEntry(
                    "HeaderMismatch",
                    f"local header name {raw_name!r} differs from the central directory",
                )
            writer = self.sink.writer(p)
            guard = self.sink.guard(p)
            for chunk in entry_chunks:
                guard.feed(len(chunk))
                writer.write(chunk)
            self.sink.finish(p, writer, remote_ok=True)
        except StopIteration:
            self.sink.record_fail(p, "TruncatedArchive", "entry data missing before the directory")
            return False
        except Exception as exc:
            self.sink.entry_failure(p, exc, writer)
            return False
        return True

    def entry_by_directory(self, p: PlannedEntry, reader) -> None:
        """One entry whose sizes and CRC come from the central directory (Deflate64, or stored
        with a data descriptor), read from its local header on."""
        writer = None
        try:
            start = _data_start(p, reader)
            writer = self.sink.writer(p)
            _copy_checked(p, reader, start, writer, self.sink.guard(p))
            self.sink.finish(p, writer)
        except Exception as exc:
            self.sink.entry_failure(p, exc, writer)


def _data_start(p: PlannedEntry, reader) -> int:
    """Where the entry's data starts, after checking its local header against the directory."""
    entry = p.entry
    at = entry.local_header_offset
    header = reader.fetch(at, at + 30 + len(entry.raw_name))
    if header[:4] != b"PK\x03\x04":
        raise UnsafeEntry("HeaderMismatch", f"no local header at {at}")
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    if header[30 : 30 + name_len] != entry.raw_name:
        raise UnsafeEntry(
            "HeaderMismatch", f"local header name at {at} differs from the central directory"
        )
    return at + 30 + name_len + extra_len


def _copy_checked(p: PlannedEntry, reader, start: int, writer, guard) -> None:
    """Inflate (Deflate64) or copy (stored) the entry's data, checking size and CRC."""
    entry = p.entry
    inflater = inflate64.Inflater() if entry.method == DEFLATE64 else None
    crc = 0
    if entry.compressed_size:
        # small reads bound what one inflate() call can produce (~1,000x its input)
        for chunk in reader.stream(start, start + entry.compressed_size, 16 * 1024):
            out = inflater.inflate(chunk) if inflater is not None else chunk
            guard.feed(len(out))
            crc = zlib.crc32(out, crc)
            writer.write(out)
    if inflater is not None and entry.uncompressed_size and not inflater.eof:
        raise UnsafeEntry("TruncatedEntry", f"entry {p.name!r}: Deflate64 stream ends early")
    if writer.written != entry.uncompressed_size:
        raise UnsafeEntry(
            "SizeMismatch",
            f"entry {p.name!r}: {writer.written} bytes, directory says {entry.uncompressed_size}",
        )
    if crc != entry.crc32:
        raise UnsafeEntry("CrcMismatch", f"entry {p.name!r}: CRC-32 mismatch")
