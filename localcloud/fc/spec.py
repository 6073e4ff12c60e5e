"""Function and trigger specifications: validation and the FC 3.0 JSON shape.

No HTTP and no processes here: the runtime and the API both speak these types.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict, dataclass, field, fields, replace

from .errors import InvalidArgument

FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
TRIGGER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
# Python handlers are "<file>.<method>", the file at the code root (doc-detail/74756,
# "Handlers"): a dotted package path is not documented, so it is refused as FC may
HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
# Python runtimes only: the local runtime runs handlers with this interpreter
PYTHON_RUNTIMES = ("python3", "python3.9", "python3.10", "python3.12")
# Python 3.12 dropped context.credentials (FC docs, "Context", Python 3.12)
RUNTIMES_WITHOUT_CONTEXT_CREDENTIALS = ("python3.12",)

OSS_EVENTS = (
    "oss:ObjectCreated:*",
    "oss:ObjectCreated:PutObject",
    "oss:ObjectCreated:PostObject",
    "oss:ObjectCreated:CopyObject",
    "oss:ObjectCreated:CompleteMultipartUpload",
    "oss:ObjectCreated:AppendObject",
    "oss:ObjectCreated:PutSymlink",
    "oss:ObjectRemoved:DeleteObject",
    "oss:ObjectRemoved:DeleteObjects",
    "oss:ObjectRemoved:AbortMultipartUpload",
)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class FunctionSpec:
    """One FC 3.0 function as the local runtime stores and runs it."""

    name: str
    handler: str
    runtime: str = "python3.10"
    timeout: float = 3.0  # seconds; FC 3.0's default
    memory_size: int = 512
    cpu: float = 0.35
    disk_size: int = 512
    environment_variables: dict = field(default_factory=dict)
    instance_concurrency: int = 1
    description: str = ""
    role: str = ""
    # local code root: the extracted code zip, or None = the project's import path
    code_dir: str | None = None
    code_checksum: str = ""
    code_size: int = 0
    # PutConcurrencyConfig's reservedConcurrency; None = the runtime's default limit
    reserved_concurrency: int | None = None
    # PutAsyncInvokeConfig; FC retries a failed async invocation 3 times by default
    max_async_retry_attempts: int = 3
    max_async_event_age_seconds: int = 86400
    function_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_time: str = field(default_factory=_now_iso)
    last_modified_time: str = field(default_factory=_now_iso)

    def __post_init__(self) -> None:
        validate_function(self)

    # changes with every update: instances of an older revision are retired
    revision: str = field(default_factory=lambda: uuid.uuid4().hex)

    def with_changes(self, **changes) -> FunctionSpec:
        changes.setdefault("last_modified_time", _now_iso())
        changes["revision"] = uuid.uuid4().hex
        return replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FunctionSpec:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})

    def to_api(self, region: str, account_id: str) -> dict:
        """The FC 3.0 `Function` object."""
        return {
            "functionName": self.name,
            "functionId": self.function_id,
            "functionArn": f"acs:fc:{region}:{account_id}:functions/{self.name}",
            "handler": self.handler,
            "runtime": self.runtime,
            "timeout": _int_if_whole(self.timeout),
            "memorySize": self.memory_size,
            "cpu": self.cpu,
            "diskSize": self.disk_size,
            "environmentVariables": dict(self.environment_variables),
            "instanceConcurrency": self.instance_concurrency,
            "description": self.description,
            "role": self.role,
            "codeChecksum": self.code_checksum,
            "codeSize": self.code_size,
            "createdTime": self.created_time,
            "lastModifiedTime": self.last_modified_time,
            "state": "Active",
            "lastUpdateStatus": "Successful",
            "internetAccess": True,
        }


def _int_if_whole(value: float):
    return int(value) if float(value).is_integer() else value


def validate_function(spec: FunctionSpec) -> None:
    if not isinstance(spec.name, str) or not FUNCTION_NAME.match(spec.name):
        raise InvalidArgument(
            f"functionName {spec.name!r} is invalid: 1-128 letters, digits, '_' or '-', "
            "starting with a letter or '_'"
        )
    if not isinstance(spec.handler, str) or not HANDLER.match(spec.handler):
        raise InvalidArgument(
            f"handler {spec.handler!r} of function '{spec.name}' is invalid: "
            "expected '<file>.<method>' with the file at the code root, e.g. 'index.handler'"
        )
    if spec.runtime not in PYTHON_RUNTIMES:
        raise InvalidArgument(
            f"runtime {spec.runtime!r} of function '{spec.name}' is not supported locally; "
            f"use one of {', '.join(PYTHON_RUNTIMES)}"
        )
    if not isinstance(spec.timeout, int | float) or not 0 < spec.timeout <= 86400:
        raise InvalidArgument(f"timeout {spec.timeout!r} must be within (0, 86400] seconds")
    if not isinstance(spec.memory_size, int) or not 64 <= spec.memory_size <= 32768:
        raise InvalidArgument(f"memorySize {spec.memory_size!r} must be within 64..32768 MB")
    if not isinstance(spec.instance_concurrency, int) or not 1 <= spec.instance_concurrency <= 200:
        raise InvalidArgument(
            f"instanceConcurrency {spec.instance_concurrency!r} must be within 1..200"
        )
    if not isinstance(spec.environment_variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in spec.environment_variables.items()
    ):
        raise InvalidArgument("environmentVariables must map strings to strings")
    if spec.reserved_concurrency is not None and (
        not isinstance(spec.reserved_concurrency, int) or spec.reserved_concurrency < 0
    ):
        raise InvalidArgument("reservedConcurrency must be a non-negative integer")
    if (
        not isinstance(spec.max_async_retry_attempts, int)
        or not 0 <= spec.max_async_retry_attempts <= 8
    ):
        raise InvalidArgument("maxAsyncRetryAttempts must be within 0..8")
    age = spec.max_async_event_age_seconds
    if not isinstance(age, int) or not 1 <= age <= 86400:
        raise InvalidArgument("maxAsyncEventAgeInSeconds must be within 1..86400")


@dataclass(frozen=True)
class OssTriggerConfig:
    """`triggerConfig` of an OSS trigger: which events and keys invoke the function."""

    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    @classmethod
    def parse(cls, raw) -> OssTriggerConfig:
        """Accepts the JSON string the SDK sends (or an already decoded dict)."""
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise InvalidArgument(f"triggerConfig is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise InvalidArgument("triggerConfig must be a JSON object")
        events = raw.get("events")
        if not isinstance(events, list) or not events:
            raise InvalidArgument("triggerConfig.events must be a non-empty list")
        for event in events:
            if event not in OSS_EVENTS:
                raise InvalidArgument(
                    f"triggerConfig.events has unknown OSS event {event!r}; "
                    f"known: {', '.join(OSS_EVENTS)}"
                )
        key = (raw.get("filter") or {}).get("key") or {}
        if not isinstance(key, dict):
            raise InvalidArgument("triggerConfig.filter.key must be an object")
        prefix, suffix = key.get("prefix") or "", key.get("suffix") or ""
        if not isinstance(prefix, str) or not isinstance(suffix, str):
            raise InvalidArgument("triggerConfig.filter.key prefix/suffix must be strings")
        return cls(events=tuple(events), prefix=prefix, suffix=suffix)

    def to_json(self) -> str:
        return json.dumps(
            {
                "events": list(self.events),
                "filter": {"key": {"prefix": self.prefix, "suffix": self.suffix}},
            }
        )


def parse_oss_source_arn(arn: str) -> tuple[str, str, str]:
    """`acs:oss:<region>:<account>:<bucket>` -> (region, account, bucket)."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 5 or parts[:2] != ["acs", "oss"] or not parts[4]:
        raise InvalidArgument(
            f"sourceArn {arn!r} is invalid: expected 'acs:oss:<region>:<account>:<bucket>'"
        )
    return parts[2], parts[3], parts[4]


@dataclass(frozen=True)
class TriggerSpec:
    """One trigger of a function (only OSS triggers are emulated)."""

    function_name: str
    name: str
    trigger_type: str
    source_arn: str
    trigger_config: str  # JSON text, as FC stores it
    qualifier: str = "LATEST"
    invocation_role: str = ""
    description: str = ""
    trigger_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_time: str = field(default_factory=_now_iso)
    last_modified_time: str = field(default_factory=_now_iso)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not TRIGGER_NAME.match(self.name):
            raise InvalidArgument(
                f"triggerName {self.name!r} is invalid: 1-128 letters, digits, '_' or '-'"
            )
        if self.trigger_type != "oss":
            raise InvalidArgument(
                f"triggerType {self.trigger_type!r} is not supported locally (only 'oss')"
            )
        parse_oss_source_arn(self.source_arn)
        OssTriggerConfig.parse(self.trigger_config)

    @property
    def bucket(self) -> str:
        return parse_oss_source_arn(self.source_arn)[2]

    @property
    def config(self) -> OssTriggerConfig:
        return OssTriggerConfig.parse(self.trigger_config)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TriggerSpec:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})

    def to_api(self, region: str, account_id: str) -> dict:
        return {
            "triggerName": self.name,
            "triggerId": self.trigger_id,
            "triggerType": self.trigger_type,
            "sourceArn": self.source_arn,
            "triggerConfig": self.trigger_config,
            "qualifier": self.qualifier,
            "invocationRole": self.invocation_role,
            "description": self.description,
            "targetArn": f"acs:fc:{region}:{account_id}:functions/{self.function_name}",
            "status": "Ready",
            "createdTime": self.created_time,
            "lastModifiedTime": self.last_modified_time,
        }
