"""Job documents: the execution input of the copy and restore flows.

A job document carries everything an execution needs, so a continuation or a
resume is just "the same document with new shard positions and seq + 1".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ossbatch.cloud import ConfigError, Connection
from ossbatch.eventbudget import pages_per_execution
from ossbatch.retrying import call

MAX_SHARDS = 40  # the flows' Map MaxConcurrency (CloudFlow inline Map: at most 40)


@dataclass(frozen=True)
class OssUrl:
    bucket: str
    key: str

    @classmethod
    def parse(cls, text: str, what: str) -> OssUrl:
        if not text.startswith("oss://"):
            raise ConfigError(f"{what} {text!r} must look like oss://bucket/key")
        bucket, _, key = text[len("oss://") :].partition("/")
        if not bucket:
            raise ConfigError(f"{what} {text!r} has no bucket name")
        return cls(bucket, key)


def function_arn(conn: Connection, role: str) -> str:
    return (
        f"acs:fc:{conn.region}:{conn.account_id}:functions/{conn.functions.get(role, role)}/LATEST"
    )


def flow_arn(conn: Connection, kind: str) -> str:
    return f"acs:fnf:{conn.region}:{conn.account_id}:flow/{conn.flow_name(kind)}"


def queue_arn(conn: Connection, queue: str) -> str:
    return f"acs:mns:{conn.region}:{conn.account_id}:/queues/{queue}/messages" if queue else ""


def index_shards(conn: Connection, index: OssUrl, count: int) -> list[dict]:
    """Split the index object into `count` byte ranges; a line belongs to the range of its first byte."""
    import oss2

    try:
        size = call(conn.oss_bucket(index.bucket).head_object, index.key).content_length
    except oss2.exceptions.NotFound as exc:
        raise ConfigError(f"index oss://{index.bucket}/{index.key} does not exist") from exc
    bounds = split_bounds(size, count)
    return [
        _shard(
            i,
            index={
                "bucket": index.bucket,
                "key": index.key,
                "offset": bounds[i],
                "end": bounds[i + 1],
            },
            start=bounds[i],
        )
        for i in range(len(bounds) - 1)
    ]


def split_bounds(size: int, count: int, min_shard_bytes: int = 1024) -> list[int]:
    """Byte offsets 0 = b0 < b1 < ... < bn = size cutting an index into n <= count ranges."""
    count = max(1, min(count, MAX_SHARDS, size // min_shard_bytes or 1))
    if size == 0:
        return [0, 0]
    return [size * i // count for i in range(count + 1)]


def listing_shards(conn: Connection, source: OssUrl, count: int) -> list[dict]:
    """Up to ``count`` key ranges of the prefix (ossbatch.keysplit), each listed by one shard."""
    return listing_split(conn, source, count)[0]


def listing_split(conn: Connection, source: OssUrl, count: int):
    """(shards, KeySplit): the split also says how many keys it saw or estimates."""
    import oss2

    from handlers.listing import oss_list_page
    from ossbatch.keysplit import split_key_space

    class _Retry:
        call = staticmethod(call)

    list_page = oss_list_page(conn.oss_bucket(source.bucket), _Retry())
    try:
        split = split_key_space(list_page, source.key, min(count, MAX_SHARDS))
    except oss2.exceptions.NoSuchBucket as exc:
        raise ConfigError(f"source bucket {source.bucket!r} does not exist") from exc
    shards = [
        _shard(
            i,
            listing={
                "bucket": source.bucket,
                "prefix": source.key,
                "marker": r.start_after,
                "end_marker": r.end,
            },
        )
        for i, r in enumerate(split.ranges)
    ]
    return shards, split


def _shard(i: int, index: dict | None = None, listing: dict | None = None, start=None) -> dict:
    shard = {"id": i, "index": index, "listing": listing, "done": False, "pages": 0, "totals": {}}
    if start is not None:
        shard["start"] = start
    return {"shard": shard}


def base_document(
    conn: Connection,
    kind: str,
    job_id: str,
    *,
    shards: list[dict],
    request: dict,
    notify_queue: str = "",
    tolerated_failures: int = 0,
    event_limit: int = 5000,
    extra: dict | None = None,
) -> dict:
    per_execution = pages_per_execution(kind, len(shards), event_limit)
    return {
        "job_id": job_id,
        "kind": kind,
        "seq": 0,
        "started_at": time.time(),
        "resources": {
            kind: function_arn(conn, kind),
            "flow": flow_arn(conn, kind),
            "queue": queue_arn(conn, notify_queue),
        },
        "pages_per_execution": per_execution,
        "event_limit": event_limit,
        "tolerated_failures": tolerated_failures,
        "request": request,
        "shards": shards,
        **(extra or {}),
    }


def page_tuning(page_budget_s: float, max_items: int | None, max_qps: int | None) -> dict:
    """The handlers' tuning every page of the job gets (max_qps: the job's whole budget)."""
    tuning: dict = {"time_budget_seconds": page_budget_s}
    if max_items:
        tuning["max_items"] = max_items
    if max_qps:
        tuning["max_qps"] = max_qps
    return tuning


def report_location(conn: Connection) -> tuple[str, str]:
    return conn.buckets.get("reports", ""), conn.settings.get("report_prefix", "reports/")


def copy_document(
    conn: Connection,
    job_id: str,
    *,
    index: str | None,
    source: str | None,
    dest: str,
    storage_class: str | None,
    concurrency: int,
    page_budget_s: float,
    tags: dict[str, str] | None = None,
    tags_directive: str = "Copy",
    notify_queue: str = "",
    tolerated_failures: int = 0,
    max_items_per_page: int | None = None,
    event_limit: int = 5000,
    max_qps: int | None = None,
    filters: dict | None = None,
) -> dict:
    if (index is None) == (source is None):
        raise ConfigError(
            "give exactly one of --index oss://bucket/key or --source oss://bucket/prefix/"
        )
    target = OssUrl.parse(dest, "--dest")
    if index:
        shards = index_shards(conn, OssUrl.parse(index, "--index"), concurrency)
    else:
        shards = listing_shards(conn, OssUrl.parse(source, "--source"), concurrency)
    report_bucket, report_prefix = report_location(conn)
    tuning = page_tuning(page_budget_s, max_items_per_page, max_qps)
    request = {
        "job_id": job_id,
        "dest": {
            "bucket": target.bucket,
            "prefix": target.key,
            "storage_class": storage_class,
            **({"tags": tags} if tags else {}),
            **({"tags_directive": tags_directive} if tags_directive != "Copy" else {}),
        },
        "report_bucket": report_bucket or None,
        "report_prefix": report_prefix,
        "tuning": tuning,
    }
    if filters:
        request["filters"] = filters
    return base_document(
        conn,
        "copy",
        job_id,
        shards=shards,
        request=request,
        notify_queue=notify_queue,
        tolerated_failures=tolerated_failures,
        event_limit=event_limit,
    )
