"""OSS ObjectCreated -> StartExecution(unzip flow) with a deterministic execution name.

Duplicate deliveries (FC async retries, replays) derive the same name from
bucket + key + ETag, so CloudFlow starts one execution; ExecutionAlreadyExists is
success. Keys outside the watched prefix/suffix or under the output prefix (our
own extraction output: recursion guard) are ignored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from .errors import InvalidEvent, StartExecutionFailed
from .jobinput import JOB_ID_MAX, UnzipJobSettings
from .logs import JobLog, request_id_of
from .settings import TriggerSettings

NAME_MAX = JOB_ID_MAX  # the job id; continuations append `--<seq>` within 128 chars
_NOT_NAME_CHAR = re.compile(r"[^A-Za-z0-9_-]+")
CREATED_EVENTS = (
    "ObjectCreated:PutObject",
    "ObjectCreated:PostObject",
    "ObjectCreated:CompleteMultipartUpload",
    "ObjectCreated:PutSymlink",
    "ObjectCreated:CopyObject",
    "ObjectCreated:AppendObject",
)


@dataclass(frozen=True)
class ObjectCreated:
    event_name: str
    bucket: str
    key: str
    etag: str
    size: int | None


@dataclass(frozen=True)
class WatchRule:
    prefix: str = ""
    suffix: str = ".zip"
    output_prefix: str = ""

    @classmethod
    def from_settings(cls, settings: TriggerSettings) -> WatchRule:
        return cls(
            prefix=settings.watch_prefix,
            suffix=settings.watch_suffix,
            output_prefix=settings.output_prefix,
        )

    def reason_to_ignore(self, key: str) -> str | None:
        """None if the key should be extracted, else why not."""
        if self.output_prefix and key.startswith(self.output_prefix):
            return "under the output prefix (recursion guard)"
        if self.prefix and not key.startswith(self.prefix):
            return "outside the watched prefix"
        if self.suffix and not key.lower().endswith(self.suffix.lower()):
            return "does not end with the watched suffix"
        return None


def parse_oss_events(doc) -> list[ObjectCreated]:
    """FC OSS-trigger JSON ``{"events": [...]}`` -> ObjectCreated records (others dropped)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise InvalidEvent("events: an OSS trigger event must be {'events': [...]}")
    out = []
    for i, ev in enumerate(doc["events"]):
        try:
            name = ev["eventName"]
            bucket = ev["oss"]["bucket"]["name"]
            obj = ev["oss"]["object"]
            key = obj["key"]
        except (KeyError, TypeError):
            raise InvalidEvent(
                f"events.{i}: needs eventName, oss.bucket.name and oss.object.key"
            ) from None
        if not str(name).startswith("ObjectCreated:"):
            continue
        etag = str(obj.get("eTag") or obj.get("etag") or "").strip('"').upper()
        out.append(ObjectCreated(name, bucket, key, etag, obj.get("size")))
    return out


def execution_name(bucket: str, key: str, etag: str) -> str:
    """``unzip-<readable stem>-<hash>``: stable per package version, valid for CloudFlow.

    Letters, digits, ``_`` and ``-`` only, starts with a letter, at most JOB_ID_MAX (120)
    chars, so a continuation `--<seq>` stays within the 128 CloudFlow allows.
    The hash covers bucket, key and ETag, so a re-upload with new content is a new run.
    """
    digest = hashlib.sha256(f"{bucket}\0{key}\0{etag}".encode()).hexdigest()[:32]
    stem = key.rsplit("/", 1)[-1]
    stem = _NOT_NAME_CHAR.sub("_", stem).strip("_-")
    room = NAME_MAX - len("unzip--") - len(digest)
    stem = stem[:room].strip("_-")
    return f"unzip-{stem}-{digest}" if stem else f"unzip-{digest}"


def is_already_exists(exc: BaseException) -> bool:
    return getattr(exc, "code", None) == "ExecutionAlreadyExists"


@dataclass
class TriggerResult:
    started: list[str]
    duplicates: list[str]
    ignored: list[dict]

    def as_dict(self) -> dict:
        return {"started": self.started, "duplicates": self.duplicates, "ignored": self.ignored}


# start(flow_name, execution_name, input_json) -> None; raises on refusal
Starter = Callable[[str, str, str], None]


def dispatch(
    events: list[ObjectCreated],
    rule: WatchRule,
    flow_name: str,
    start: Starter,
    log: JobLog | None = None,
    extra_input: dict | None = None,
) -> TriggerResult:
    result = TriggerResult([], [], [])
    seen: set[str] = set()
    for ev in events:
        reason = rule.reason_to_ignore(ev.key)
        if reason:
            result.ignored.append({"bucket": ev.bucket, "key": ev.key, "reason": reason})
            continue
        name = execution_name(ev.bucket, ev.key, ev.etag)
        if name in seen:  # the same package twice in one delivery
            result.duplicates.append(name)
            continue
        seen.add(name)
        flow_input = json.dumps(
            {
                "job_id": name,
                "package": {"bucket": ev.bucket, "key": ev.key, "etag": ev.etag or None},
                **(extra_input or {}),
            }
        )
        try:
            start(flow_name, name, flow_input)
        except Exception as exc:
            if is_already_exists(exc):
                result.duplicates.append(name)
                if log:
                    log.info("execution_exists", execution=name, key=ev.key)
                continue
            raise StartExecutionFailed(
                f"StartExecution({flow_name}, {name}) for oss://{ev.bucket}/{ev.key} failed: {exc}"
            ) from exc
        result.started.append(name)
        if log:
            log.info("execution_started", execution=name, key=ev.key, etag=ev.etag)
    return result


def _fnf_transient(exc: BaseException) -> bool:
    """StartExecution is limited to 100/s per account: retry throttling and 5xx, never 4xx."""
    if is_already_exists(exc):
        return False
    status = getattr(exc, "status_code", None) or 0
    code = str(getattr(exc, "code", "") or "")
    return status >= 500 or status == 429 or "Throttl" in code or isinstance(exc, ConnectionError)


def fnf_starter(context, settings: TriggerSettings) -> Starter:
    """StartExecution through alibabacloud-fnf20190315 with the context's STS credentials."""
    from alibabacloud_fnf20190315.client import Client
    from alibabacloud_fnf20190315.models import StartExecutionRequest
    from alibabacloud_tea_openapi.models import Config

    from .clients import credentials_from_context

    creds = credentials_from_context(context)
    url = settings.fnf_endpoint
    if not url:
        raise StartExecutionFailed(
            "no CloudFlow endpoint: set OSSBATCH_FNF_ENDPOINT on the function"
        )
    parsed = urlparse(url if "://" in url else f"https://{url}")
    config = Config(
        access_key_id=creds.access_key_id,
        access_key_secret=creds.access_key_secret,
        security_token=creds.security_token,
        endpoint=parsed.netloc,
        protocol=parsed.scheme,
        region_id=getattr(context, "region", None) or settings.region,
    )
    client = Client(config)

    retrying = Retrying(
        retry=retry_if_exception(_fnf_transient),
        wait=wait_random_exponential(multiplier=0.5, max=10),
        stop=stop_after_attempt(5),
        reraise=True,
    )

    def start(flow_name: str, name: str, flow_input: str) -> None:
        request = StartExecutionRequest(flow_name=flow_name, execution_name=name, input=flow_input)
        retrying(client.start_execution, request)

    return start


def flow_resources(context, flow_name: str, settings: TriggerSettings) -> dict:
    """What the unzip flow needs in its input (docs/decisions/flow-resources-in-input.md).

    ARNs are built from the FC context (region, account) and the trigger's environment;
    without OSSBATCH_UNZIP_FUNCTION nothing is added and the flow fails with a named error.
    """
    function = settings.unzip_function
    if not function:
        return {}
    region = getattr(context, "region", None) or settings.region or ""
    account = getattr(context, "account_id", None) or ""
    resources = {
        "function": f"acs:fc:{region}:{account}:functions/{function}/LATEST",
        "flow": f"acs:fnf:{region}:{account}:flow/{flow_name}",
    }
    queue = settings.notification_queue
    if queue:
        resources["queue"] = f"acs:mns:{region}:{account}:/queues/{queue}/messages"
    job_settings = UnzipJobSettings(delete_after_success=settings.delete_after_success)
    return {"resources": resources, "settings": job_settings.model_dump(mode="json")}


def handler(event: bytes, context):
    settings = TriggerSettings.from_environ()
    log = JobLog("trigger", None, request_id_of(context), level=settings.log_level)
    try:
        doc = json.loads(event)
    except (ValueError, TypeError) as exc:
        raise InvalidEvent(f"event is not JSON: {exc}") from exc
    flow_name = settings.unzip_flow
    if not flow_name:
        raise StartExecutionFailed("OSSBATCH_UNZIP_FLOW is not set on the trigger function")
    events = parse_oss_events(doc)
    result = dispatch(
        events,
        WatchRule.from_settings(settings),
        flow_name,
        fnf_starter(context, settings),
        log,
        extra_input=flow_resources(context, flow_name, settings),
    )
    return json.dumps(result.as_dict())
