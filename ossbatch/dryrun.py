"""--dry-run of copy and restore: what a job would touch and cost, read-only.

Objects and bytes per source storage class come from a full listing (or the whole index)
when the source is small, else from a sample: one page at each shard's start, scaled to
the split's estimate (the class shares' 95% error is stated). Requests, FC invocations,
GB-seconds, CloudFlow executions and events, and wall time follow from the shard count,
the QPS budget and the environment's settings; cost from the environment's price table
(``prices:``) over the documented defaults of ossbatch.listprices, each price with its origin. Nothing is written: only LIST, HEAD and GET requests are made.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from handlers.events import ObjectFilter
from handlers.filters import ObjectFacts, rejection
from handlers.index import IndexLineError, parse_line
from handlers.listing import iter_listing, oss_list_page
from ossbatch import listprices
from ossbatch.eventbudget import events_per_execution
from ossbatch.retrying import call

FULL_LISTING_LIMIT = 100_000  # keys listed in full (100 LISTs); beyond: sampled
INDEX_READ_BYTES = 8 * 1024**2  # index bytes read: all of a small index, a sample of a big one
HEAD_SAMPLE = 200  # index lines without size/class: HEAD this many to learn them
MULTIPART_BYTES = 1024**3  # CopyObject's limit: larger objects are copied in parts
PER_FUNCTION_QPS = 1_500  # one page's unthrottled OSS request rate (issue 15; bench_copy)
# minimum storage durations (days): deleting or re-classing earlier bills the rest
MIN_STORAGE_DAYS = {"IA": 30, "Archive": 60, "ColdArchive": 180, "DeepColdArchive": 180}


class _Retry:
    call = staticmethod(call)


@dataclass
class Survey:
    objects: Counter = field(default_factory=Counter)  # by storage class (sample counts)
    bytes: Counter = field(default_factory=Counter)
    filtered: Counter = field(default_factory=Counter)
    too_large: int = 0
    in_target_class: int = 0
    seen: int = 0
    scale: float = 1.0  # sample -> whole source
    method: str = "full listing"


def survey_listing(conn, listing: dict, estimated: int, shards: list[dict], spec, target) -> Survey:
    survey = Survey()
    bucket = conn.oss_bucket(listing["bucket"])
    list_page = oss_list_page(bucket, _Retry())
    if estimated <= FULL_LISTING_LIMIT:
        objects = iter_listing(list_page, listing["prefix"])
    else:  # one page at each shard's start
        survey.method = f"sample: first 1,000 keys of each of {len(shards)} shards"
        starts = [s["shard"]["listing"]["marker"] for s in shards]
        objects = (o for m in starts for o in list_page(listing["prefix"], m, 1000).objects)
    for obj in objects:
        relative = obj.key[len(listing["prefix"]) :]
        add(
            survey,
            ObjectFacts(relative, obj.size, obj.storage_class, obj.last_modified),
            spec,
            target,
        )
    if estimated > FULL_LISTING_LIMIT and survey.seen:
        survey.scale = estimated / survey.seen
    return survey


def survey_index(conn, index: dict, spec, target) -> Survey:
    bucket = conn.oss_bucket(index["bucket"])
    size = call(bucket.head_object, index["key"]).content_length
    read = min(size, INDEX_READ_BYTES)
    body = call(bucket.get_object, index["key"], byte_range=(0, read - 1)).read() if read else b""
    lines = body.split(b"\n")
    if read < size:
        lines = lines[:-1]  # the last line may be cut
    survey = Survey(method="whole index" if read == size else f"first {read:,} bytes of the index")
    heads = 0
    for raw in lines:
        try:
            ref = parse_line(raw.rstrip(b"\r"), default_bucket=index["bucket"])
        except IndexLineError:
            continue
        if ref is None:
            continue
        facts = ObjectFacts(ref.key, ref.size, None, None)
        if heads < HEAD_SAMPLE:
            head = call(conn.oss_bucket(ref.bucket).head_object, ref.key)
            heads += 1
            facts = ObjectFacts(
                ref.key,
                head.content_length,
                head.headers.get("x-oss-storage-class", "Standard"),
                float(head.last_modified),
            )
        add(survey, facts, spec, target)
    if read < size and body:
        survey.scale = size / len(b"\n".join(lines))
    return survey


def survey_inventory(conn, inventory: dict, spec, target) -> Survey:
    """Rows of the inventory's first data files (up to INDEX_READ_BYTES compressed), scaled
    by compressed size: the rows carry size, class and time, so no HEAD is needed."""
    from handlers.inventory import InventoryRowError, csv_lines, gunzip, parse_row
    from ossbatch.inventoryplan import read_manifest

    manifest, _ = read_manifest(conn, inventory["bucket"], inventory["manifest_key"])
    bucket, prefix = conn.oss_bucket(inventory["bucket"]), inventory.get("prefix", "")
    total = sum(f.size for f in manifest.files)
    survey, read = Survey(method="whole inventory"), 0
    for data_file in manifest.files:
        if read >= INDEX_READ_BYTES:
            survey.method = f"first {read:,} of {total:,} compressed inventory bytes"
            break
        blob = call(bucket.get_object, data_file.key).read()
        read += len(blob)
        for line in csv_lines(gunzip(iter([blob]), data_file.key, data_file.md5)):
            try:
                plus = inventory.get("plus_is_space", False)
                row = parse_row(line.raw, manifest.fields, manifest.source_bucket, plus)
            except InventoryRowError:
                continue  # the job reports it as a failed row
            if row.current and row.key.startswith(prefix):
                relative = row.key[len(prefix) :]
                facts = ObjectFacts(relative, row.size, row.storage_class, row.last_modified)
                add(survey, facts, spec, target)
    if read < total and read:
        survey.scale = total / read
    return survey


def add(survey: Survey, facts: ObjectFacts, spec: ObjectFilter | None, target: str | None) -> None:
    survey.seen += 1
    reason = rejection(spec, facts)
    if reason is not None:
        survey.filtered[reason] += 1
        return
    cls = facts.storage_class or "unknown"
    survey.objects[cls] += 1
    survey.bytes[cls] += facts.size or 0
    if (facts.size or 0) > MULTIPART_BYTES:
        survey.too_large += 1
    if target and cls == target:
        survey.in_target_class += 1


def class_error(survey: Survey) -> dict[str, float]:
    """95% half-width of each class's share of the sample (0 for a full listing)."""
    n = sum(survey.objects.values())
    if survey.scale == 1.0 or not n:
        return {c: 0.0 for c in survey.objects}
    return {
        c: round(1.96 * math.sqrt(k / n * (1 - k / n) / n), 4) for c, k in survey.objects.items()
    }


def estimate(kind: str, doc: dict, survey: Survey, settings: dict) -> dict:
    """Requests, invocations, GB-seconds, executions, events and hours for the whole job."""
    objects = round(sum(survey.objects.values()) * survey.scale)
    total_bytes = round(sum(survey.bytes.values()) * survey.scale)
    shards = len(doc["shards"])
    per_object = 1.002 if kind == "copy" else 2.0  # copy: bench_copy; restore: POST + a poll HEAD
    requests = math.ceil(objects * per_object) + math.ceil(survey.too_large * survey.scale * 16)
    qps = min(settings["max_qps"] or math.inf, shards * PER_FUNCTION_QPS)
    seconds = requests / qps if objects else 0.0
    page_s = doc["request"]["tuning"]["time_budget_seconds"]
    pages_per_shard = max(1, math.ceil(seconds / page_s))
    executions = math.ceil(pages_per_shard / doc["settings"]["pages_per_execution"])
    events = executions * events_per_execution(kind, shards, doc["settings"]["pages_per_execution"])
    gb_seconds = shards * seconds * settings["memory_mb"] / 1024
    cpu = settings.get("cpu")  # unset: FC picks the vCPUs, so their seconds are not known
    return {
        "objects": objects,
        "bytes": total_bytes,
        "oss_requests": requests,
        "fc_invocations": shards * pages_per_shard,
        "fc_gb_seconds": round(gb_seconds),
        "fc_vcpu_seconds": round(shards * seconds * cpu) if cpu else None,
        "flow_executions": executions,
        "flow_events": events,
        "shards": shards,
        "qps": None if qps == math.inf else qps,
        "hours": round(seconds / 3600, 2),
    }


def costs(figures: dict, survey: Survey, prices: dict[str, dict], restore_tier: str | None) -> dict:
    """Cost per item from the resolved price table (ossbatch.listprices); None where unpriced."""

    def priced(name, amount):
        price = prices[name]["value"]
        return None if price is None or amount is None else round(price * amount, 2)

    vcpu = figures.get("fc_vcpu_seconds")
    out = {
        "currency": next(iter(prices.values()))["currency"],
        "oss_requests": priced("oss_put_per_10k", figures["oss_requests"] / 10_000),
        "fc_memory": priced("fc_per_gb_second", figures["fc_gb_seconds"]),
        "fc_vcpu": priced("fc_per_vcpu_second", vcpu),
        "fc_invocations": priced("fc_per_million_invocations", figures["fc_invocations"] / 1e6),
        "flow_transitions": priced("flow_per_1k_transitions", figures["flow_events"] / 1000),
    }
    if restore_tier:
        for cls, nbytes in survey.bytes.items():
            gb = nbytes * survey.scale / 1024**3
            out[f"restore_{cls}"] = priced(f"restore_per_gb.{cls}.{restore_tier}", gb)
    known = [v for k, v in out.items() if k != "currency" and v is not None]
    out["total_known"] = round(sum(known), 2) if known else None
    out["unpriced"] = sorted(k for k, v in out.items() if v is None and k != "total_known")
    return out


def warnings(survey: Survey, target: str | None, kind: str) -> list[str]:
    out = []
    if target in MIN_STORAGE_DAYS:
        out.append(
            f"{target} has a minimum storage duration of {MIN_STORAGE_DAYS[target]} days: deleting "
            "the copies or changing their class again earlier bills the remaining days"
        )
    if survey.in_target_class:
        out.append(
            f"~{round(survey.in_target_class * survey.scale):,} objects are already {target}: "
            "an in-place conversion skips them, a copy writes them again"
        )
    if survey.too_large:
        out.append(
            f"~{round(survey.too_large * survey.scale):,} objects are over 1 GB: copied in parts "
            "(UploadPartCopy), more requests each"
        )
    if kind == "restore":
        for cls in ("ColdArchive", "DeepColdArchive"):
            if survey.objects.get(cls):
                out.append(f"{cls} restores are billed per GB and tier (retrieval fees)")
    return out


def dry_run(conn, env, kind: str, doc: dict, *, tier: str | None = None) -> dict:
    """The whole --dry-run answer for a job document that was built but not started."""
    request = doc["request"]
    spec = ObjectFilter.model_validate(request["filters"]) if request.get("filters") else None
    target = (request.get("dest") or {}).get("storage_class")
    # the source location lives once per job, in the request (ossbatch/jobdocs.py)
    if request.get("listing"):
        location = request["listing"]
        # the split that cut the shards also estimated the total: no second sample
        recorded = (doc.get("source_estimate") or {}).get("objects")
        estimated = (
            recorded
            if recorded is not None
            else _listing_estimate(conn, location, len(doc["shards"]))
        )
        survey = survey_listing(conn, location, estimated, doc["shards"], spec, target)
    elif request.get("inventory"):
        survey = survey_inventory(conn, request["inventory"], spec, target)
    else:
        survey = survey_index(conn, request["index"], spec, target)
    settings = env.copy_job if kind == "copy" else env.restore
    figures = estimate(
        kind,
        doc,
        survey,
        {
            "max_qps": request["tuning"].get("max_qps"),
            "memory_mb": settings.function.memory_mb,
            "cpu": settings.function.cpu,
        },
    )
    restoring = [(c, tier) for c in sorted(survey.bytes)] if kind == "restore" and tier else []
    prices = listprices.resolve(getattr(env, "prices", None), restoring)
    return {
        "kind": kind,
        "dry_run": True,
        "method": survey.method,
        "sampled_objects": survey.seen,
        "by_class": {
            c: {
                "objects": round(n * survey.scale),
                "bytes": round(survey.bytes[c] * survey.scale),
                "share_error_95": class_error(survey).get(c, 0.0),
            }
            for c, n in sorted(survey.objects.items())
        },
        "filtered": {k: round(v * survey.scale) for k, v in survey.filtered.items()},
        **figures,
        "cost": costs(figures, survey, prices, tier if kind == "restore" else None),
        "prices": prices,
        "warnings": warnings(survey, target, kind),
    }


def _listing_estimate(conn, listing: dict, shards: int) -> int:
    from ossbatch.jobdocs import OssUrl, listing_split

    url = OssUrl(listing["bucket"], listing["prefix"])
    return listing_split(conn, url, shards)[1].estimated_keys
