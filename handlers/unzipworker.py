"""What a page worker process needs to upload and record small entries, and nothing more.

A worker imports this module, not ``handlers.unzip``: no pydantic event model, no
stream-unzip, no planning. Each costs the worker's RSS (~10 MB) and, with two workers
beside the handler, the memory target counts it twice (docs/decisions/page-worker-processes.md).
The records the parent writes for its own entries go through the same functions.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import oss2

from .clients import error_code, error_message, raise_if_systemic
from .integrity import UploadDamaged
from .retrying import attempts_of
from .zipoutput import OutputExists, OutputOwner


@dataclass(frozen=True, slots=True)
class RemoteEntry:
    """A small entry's bytes on their way to a page worker: just what its PUT and report line need."""

    index: int
    name: str
    key: str
    data: bytes


def worker_payload(output_bucket: str, owner: OutputOwner) -> str:
    """The page worker's setup (WorkerSpec.event_json): where to write and as whose output."""
    return json.dumps(
        {
            "bucket": output_bucket,
            "package": owner.package,
            "etag": owner.etag,
            "on_existing": owner.on_existing,
        }
    )


def worker_uploader(payload_json: str, clients, report, tally):
    """The item processor of a page worker process (handlers.processes): one small entry's PUT."""
    setup = json.loads(payload_json)
    owner = OutputOwner(setup["package"], setup["etag"], setup["on_existing"])
    return functools.partial(
        worker_upload, report, tally, clients.bucket(setup["bucket"]), clients.retry, owner
    )


def worker_upload(report, tally, bucket, retry, owner: OutputOwner, item: RemoteEntry) -> None:
    """A page worker's PUT of one small entry, recorded in the worker's report and tally."""
    put = functools.partial(owner.put, bucket, retry, item.key, item.data)
    record_upload(report, tally, bucket.bucket_name, item, put, len(item.data))


# ``p`` below is anything with ``index``, ``name`` and ``key``: a PlannedEntry or a RemoteEntry


def record_upload(report, tally, bucket_name: str, p, upload, written: int) -> None:
    """Run (or wait for) an entry's upload and record it; systemic errors fail the page."""
    try:
        upload()
    except OutputExists as exc:
        record_exists(report, tally, p, exc)
        return
    except (oss2.exceptions.OssError, UploadDamaged) as exc:
        if isinstance(exc, oss2.exceptions.OssError):
            raise_if_systemic(exc, bucket_name, role="output")
        # the entry was counted when its bytes were read: only the failure is new
        tally.add(failed=1)
        _fail_line(report, p, error_code(exc), error_message(exc), attempts_of(exc))
        return
    record_ok(report, tally, p, written)


def record_exists(report, tally, p, exc: OutputExists) -> None:
    """An entry whose key holds another writer's object: skipped or failed, as configured."""
    if exc.mode == "skip":
        tally.add(skipped=1)
        report.add(entry=p.index, name=p.name, key=p.key, status="skipped", code=exc.code)
        return
    tally.add(failed=1)
    _fail_line(report, p, exc.code, str(exc), 1)


def record_ok(report, tally, p, written: int) -> None:
    tally.add(extracted=1, bytes_out=written)
    report.add(entry=p.index, name=p.name, key=p.key, status="extracted", size=written)


def record_fail(report, tally, p, code: str, message: str, attempts=1) -> None:
    tally.add(failed=1, entries=1)
    _fail_line(report, p, code, message, attempts)


def _fail_line(report, p, code: str, message: str, attempts: int) -> None:
    report.add(
        entry=p.index,
        name=p.name,
        key=p.key,
        status="failed",
        code=code,
        message=message,
        attempts=attempts,
    )
