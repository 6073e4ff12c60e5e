"""Environment files (environments/<name>.yaml): one validated schema for infra and the CLI.

`load_environment("dev")` or `load_environment("path/to/file.yaml")` returns an
`Environment`; any problem raises `EnvironmentFileError` naming the file and the
field path (e.g. `environments/dev.yaml: unzip.output_prefix: ...`).
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS_DIR = PROJECT_ROOT / "environments"

# FC 3.0 limits (docs: "Limits" of Function Compute 3.0)
FC_MAX_TIMEOUT_S = 86_400
FC_MIN_MEMORY_MB = 128
FC_MAX_MEMORY_MB = 32_768
FC_DISK_SIZES_MB = (512, 10_240)

JOBS = ("copy", "restore", "unzip", "trigger")
BUCKET_ROLES = ("sources", "archive", "packages", "extraction", "reports", "artifacts")
STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")


class EnvironmentFileError(ValueError):
    """An environment file is missing, unreadable or does not match the schema."""


def _matches(pattern: str, what: str):
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid {what}")
        return value

    return check


# Naming rules from the product docs (OSS bucket, FC function, CloudFlow flow, MNS queue, SLS).
BUCKET_NAME_RE = r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"
FUNCTION_NAME_RE = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
FLOW_NAME_RE = r"[A-Za-z_][A-Za-z0-9_-]{0,127}"
QUEUE_NAME_RE = r"[A-Za-z][A-Za-z0-9-]{0,119}"
LOG_PROJECT_RE = r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"
LOG_STORE_RE = r"[a-z0-9][a-z0-9_-]{0,61}[a-z0-9]"
NAME_PREFIX_RE = r"[a-z][a-z0-9-]{0,38}[a-z0-9]"

BucketName = Annotated[
    str, AfterValidator(_matches(BUCKET_NAME_RE, "OSS bucket name (3-63 of a-z 0-9 -)"))
]
QueueName = Annotated[
    str, AfterValidator(_matches(QUEUE_NAME_RE, "MNS queue name (letter first, a-z A-Z 0-9 -)"))
]
LogProjectName = Annotated[
    str, AfterValidator(_matches(LOG_PROJECT_RE, "SLS project name (3-63 of a-z 0-9 -)"))
]
LogStoreName = Annotated[
    str, AfterValidator(_matches(LOG_STORE_RE, "SLS logstore name (2-63 of a-z 0-9 _ -)"))
]
NamePrefix = Annotated[
    str,
    AfterValidator(
        _matches(NAME_PREFIX_RE, "name prefix (2-40 of a-z 0-9 -, letter first, no trailing -)")
    ),
]


def _object_prefix(value: str) -> str:
    if value.startswith("/") or "\\" in value or "//" in value:
        raise ValueError(f"{value!r} is not a valid object key prefix (no leading '/', no '\\')")
    if value and not value.endswith("/"):
        raise ValueError(f"prefix {value!r} must end with '/' so it names a folder")
    return value


ObjectPrefix = Annotated[str, AfterValidator(_object_prefix)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LifecycleRule(Strict):
    """Expire objects under a prefix (reports, temporary data)."""

    prefix: ObjectPrefix
    expiration_days: int = Field(ge=1, le=36_500)


class BucketSpec(Strict):
    name: BucketName
    managed: bool = True  # False: an existing bucket the stack only grants access to
    storage_class: Literal["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"] = (
        "Standard"
    )
    versioning: bool = False
    lifecycle: tuple[LifecycleRule, ...] = ()


class Buckets(Strict):
    """One bucket per role; roles may share a bucket, then their specs must be identical."""

    sources: BucketSpec
    archive: BucketSpec
    packages: BucketSpec
    extraction: BucketSpec
    reports: BucketSpec
    artifacts: BucketSpec

    @model_validator(mode="after")
    def _shared_buckets_agree(self) -> Buckets:
        seen: dict[str, tuple[str, BucketSpec]] = {}
        for role in BUCKET_ROLES:
            spec: BucketSpec = getattr(self, role)
            if spec.name in seen and seen[spec.name][1] != spec:
                first = seen[spec.name][0]
                raise ValueError(
                    f"roles {first!r} and {role!r} share bucket {spec.name!r} "
                    "but configure it differently; make the two entries identical"
                )
            seen.setdefault(spec.name, (role, spec))
        return self

    def distinct(self) -> dict[str, BucketSpec]:
        """Bucket name -> spec, each bucket once, in role order."""
        names: dict[str, BucketSpec] = {}
        for role in BUCKET_ROLES:
            names.setdefault(getattr(self, role).name, getattr(self, role))
        return names

    def roles_of(self, name: str) -> list[str]:
        return [role for role in BUCKET_ROLES if getattr(self, role).name == name]


class FunctionSettings(Strict):
    memory_mb: int = Field(default=512, ge=FC_MIN_MEMORY_MB, le=FC_MAX_MEMORY_MB)
    timeout_s: int = Field(default=600, ge=1)
    disk_mb: Literal[512, 10240] = 512
    # vCPUs; unset = FC derives it from memory. FC 3.0: 0.05..16 in steps of 0.05, and
    # memory (GB) between 1x and 4x the vCPUs.
    cpu: float | None = Field(default=None, ge=0.05, le=16)

    @field_validator("cpu")
    @classmethod
    def _cpu_step(cls, value: float | None) -> float | None:
        if value is not None and abs(value * 20 - round(value * 20)) > 1e-9:
            raise ValueError(f"cpu {value} must be a multiple of 0.05 vCPU (FC 3.0)")
        return value

    @model_validator(mode="after")
    def _memory_per_cpu(self):
        if self.cpu is not None and not 1 <= self.memory_mb / 1024 / self.cpu <= 4:
            raise ValueError(
                f"memory_mb {self.memory_mb} with cpu {self.cpu}: FC 3.0 needs 1 to 4 GB "
                f"of memory per vCPU ({int(self.cpu * 1024)}..{int(self.cpu * 4096)} MB)"
            )
        return self

    @property
    def processes(self) -> int:
        """Page worker processes a copy instance can keep busy: its whole vCPUs, at least 1."""
        return max(1, int(self.cpu)) if self.cpu else 1

    @field_validator("memory_mb")
    @classmethod
    def _memory_step(cls, value: int) -> int:
        if value % 64:
            raise ValueError(f"memory_mb {value} must be a multiple of 64 (FC 3.0)")
        return value

    @field_validator("timeout_s")
    @classmethod
    def _timeout_limit(cls, value: int) -> int:
        if value > FC_MAX_TIMEOUT_S:
            raise ValueError(
                f"timeout_s {value} exceeds the FC 3.0 limit of {FC_MAX_TIMEOUT_S} s; "
                "split the work into pages instead"
            )
        return value


class UnzipLimits(Strict):
    max_entries: int = Field(default=1_000_000, ge=1)
    max_entry_bytes: int = Field(default=50 * 2**30, ge=1)
    max_total_bytes: int = Field(default=500 * 2**30, ge=1)


class UnzipPassword(Strict):
    """Where encrypted packages' password comes from; it never travels through the flow.

    ``env``: in the cloud, the unzip function's ``OSSBATCH_UNZIP_PASSWORD`` is set from the
    sensitive Terraform variable ``terraform_variable`` (pass it with TF_VAR_<name>);
    locally, ``ossbatch local up`` copies the shell's ``local_variable`` into the local
    function's environment. The handler reads it at run time.
    """

    source: Literal["env"] = "env"
    terraform_variable: str = Field(default="unzip_password", pattern=r"^[a-z][a-z0-9_]{0,63}$")
    local_variable: str = Field(default="OSSBATCH_UNZIP_PASSWORD", pattern=r"^[A-Z_][A-Z0-9_]*$")


UNZIP_PASSWORD_VARIABLE = "OSSBATCH_UNZIP_PASSWORD"  # the unzip function's variable (handlers)


class UnzipSettings(Strict):
    watch_prefix: ObjectPrefix = "incoming/"
    watch_suffix: str = Field(default=".zip", min_length=1)
    output_prefix: ObjectPrefix = "extracted/"
    delete_after_success: bool = False
    notification_queue: QueueName
    dead_letter_queue: QueueName
    max_receive_count: int = Field(default=5, ge=1, le=1000)
    # auto: UTF-8 names from any producer, then GB18030, then CP437 (zip-name-decoding.md)
    name_encoding: str = "auto"
    page_budget_s: int = Field(default=540, ge=10)
    limits: UnzipLimits = UnzipLimits()
    password: UnzipPassword | None = None
    function: FunctionSettings = FunctionSettings(memory_mb=2048, timeout_s=600, disk_mb=512)
    trigger_function: FunctionSettings = FunctionSettings(memory_mb=256, timeout_s=60)

    @field_validator("name_encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        if value.lower() == "auto":
            return "auto"
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"unknown text encoding {value!r} (try auto, gb18030, shift_jis, cp437)"
            ) from None
        return value

    @model_validator(mode="after")
    def _budget_fits(self) -> UnzipSettings:
        if self.page_budget_s >= self.function.timeout_s:
            raise ValueError(
                f"page_budget_s {self.page_budget_s} must be below function.timeout_s "
                f"{self.function.timeout_s} so a page can save its marker"
            )
        return self


class CopySettings(Strict):
    function: FunctionSettings = FunctionSettings(memory_mb=1024, timeout_s=600)
    concurrency: int = Field(default=40, ge=1, le=40)  # shards; CloudFlow's inline Map: 40
    page_budget_s: int = Field(default=540, ge=10)
    storage_class: Literal["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"] = (
        "Archive"
    )

    @model_validator(mode="after")
    def _budget_fits(self) -> CopySettings:
        if self.page_budget_s >= self.function.timeout_s:
            raise ValueError(
                f"page_budget_s {self.page_budget_s} must be below function.timeout_s "
                f"{self.function.timeout_s}"
            )
        return self


class RestoreSettings(Strict):
    function: FunctionSettings = FunctionSettings(memory_mb=512, timeout_s=600)
    concurrency: int = Field(default=40, ge=1, le=40)  # shards; CloudFlow's inline Map: 40
    page_budget_s: int = Field(default=540, ge=10)
    days: int = Field(default=3, ge=1, le=365)
    tier: Literal["Expedited", "Standard", "Bulk"] = "Standard"
    poll_interval_s: int = Field(default=300, ge=1)

    @model_validator(mode="after")
    def _budget_fits(self) -> RestoreSettings:
        if self.page_budget_s >= self.function.timeout_s:
            raise ValueError(
                f"page_budget_s {self.page_budget_s} must be below function.timeout_s "
                f"{self.function.timeout_s}"
            )
        return self


class LogSettings(Strict):
    project: LogProjectName
    store: LogStoreName
    retention_days: int = Field(default=30, ge=1, le=3650)
    shard_count: int = Field(default=2, ge=1, le=64)
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class StateBackend(Strict):
    """Terraform OSS backend with a Tablestore lock table (primary key `LockID`, string)."""

    bucket: BucketName
    prefix: str = "ossbatch"
    key: str = "terraform.tfstate"
    region: str | None = None  # defaults to the environment's region
    tablestore_endpoint: str = Field(pattern=r"https://[A-Za-z0-9.-]+")
    tablestore_table: str = Field(pattern=r"[A-Za-z_][A-Za-z0-9_]{0,254}")
    encrypt: bool = True


class Endpoints(Strict):
    """Endpoints the handlers use; None means the region's internal cloud endpoint."""

    oss: str | None = None
    fnf: str | None = None


class LocalcloudPorts(Strict):
    oss: int = Field(default=0, ge=0, le=65535)
    mns: int = Field(default=0, ge=0, le=65535)
    fc: int = Field(default=0, ge=0, le=65535)
    fnf: int = Field(default=0, ge=0, le=65535)
    admin: int = Field(default=0, ge=0, le=65535)


class LocalcloudSettings(Strict):
    """How `ossbatch local up` starts localcloud (local environment only)."""

    data_dir: str = ".localcloud"
    ports: LocalcloudPorts = LocalcloudPorts()
    restore_seconds: dict[Literal["Archive", "ColdArchive", "DeepColdArchive"], float] = Field(
        default_factory=lambda: {"Archive": 2.0, "ColdArchive": 5.0, "DeepColdArchive": 10.0}
    )


class Environment(Strict):
    name: str = Field(pattern=r"[a-z][a-z0-9-]{0,19}")
    region: str = Field(pattern=r"[a-z]{2}-[a-z0-9-]+")
    name_prefix: NamePrefix
    account_id: str | None = Field(default=None, pattern=r"[0-9]{16}")
    buckets: Buckets
    unzip: UnzipSettings
    copy_job: CopySettings = Field(default=CopySettings(), alias="copy")
    restore: RestoreSettings = RestoreSettings()
    log: LogSettings
    report_prefix: ObjectPrefix = "reports/"
    state: StateBackend | None = None  # None: local state (synth-only environments)
    endpoints: Endpoints = Endpoints()
    # python3.12's FC context has no credentials, which the handlers read (fc-python-runtime.md)
    runtime: Literal["python3.10"] = "python3.10"
    tags: dict[str, str] = Field(default_factory=dict)
    deletion_protection: bool = True
    localcloud: LocalcloudSettings | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _rules(self) -> Environment:
        packages, extraction = self.buckets.packages.name, self.buckets.extraction.name
        watch, out = self.unzip.watch_prefix, self.unzip.output_prefix
        if packages == extraction and (out.startswith(watch) or watch.startswith(out)):
            raise ValueError(
                f"unzip.output_prefix {out!r} overlaps unzip.watch_prefix {watch!r} in bucket "
                f"{packages!r}: extracted .zip files would trigger extraction again "
                "(recursion loop); use disjoint prefixes or another extraction bucket"
            )
        if self.name == "prod" and not self.deletion_protection:
            raise ValueError(
                "deletion_protection: prod buckets must be protected; set deletion_protection: true"
            )
        if self.localcloud is not None and self.name != "local":
            raise ValueError("localcloud: only the local environment may have a localcloud section")
        if self.unzip.notification_queue == self.unzip.dead_letter_queue:
            raise ValueError("unzip.dead_letter_queue must differ from unzip.notification_queue")
        return self

    # Derived names: one place, used by infra and the CLI alike.
    def function_name(self, job: str) -> str:
        if job not in JOBS:
            raise ValueError(f"unknown job {job!r}: expected one of {', '.join(JOBS)}")
        return f"{self.name_prefix}-{job}"

    def flow_name(self, stem: str) -> str:
        return f"{self.name_prefix}-{stem}"

    def handler_environment(
        self, job: str, oss_endpoint: str | None = None, fnf_endpoint: str | None = None
    ) -> dict[str, str]:
        """Environment variables of one FC function (names fixed in docs/internals.md).

        Infra passes the cloud endpoints; `ossbatch local up` passes localcloud's. The
        trigger also gets what it puts into the unzip flow's input (function, queue, delete).
        """
        variables = {
            "OSSBATCH_REGION": self.region,
            "OSSBATCH_OSS_ENDPOINT": oss_endpoint or self.oss_endpoint,
            "OSSBATCH_REPORT_BUCKET": self.buckets.reports.name,
            "OSSBATCH_REPORT_PREFIX": self.report_prefix,
            "OSSBATCH_LOG_LEVEL": self.log.level,
        }
        unzip = {
            "OSSBATCH_WATCH_PREFIX": self.unzip.watch_prefix,
            "OSSBATCH_WATCH_SUFFIX": self.unzip.watch_suffix,
            "OSSBATCH_OUTPUT_PREFIX": self.unzip.output_prefix,
        }
        if job in ("copy", "unzip"):
            function = self.copy_job.function if job == "copy" else self.unzip.function
            variables["OSSBATCH_PROCESSES"] = str(function.processes)
        if job == "unzip":
            variables |= unzip | {"OSSBATCH_NAME_ENCODING": self.unzip.name_encoding}
        elif job == "trigger":
            variables |= unzip | {
                "OSSBATCH_FNF_ENDPOINT": fnf_endpoint or self.fnf_endpoint,
                "OSSBATCH_UNZIP_FLOW": self.flow_name("unzip"),
                "OSSBATCH_UNZIP_FUNCTION": self.function_name("unzip"),
                "OSSBATCH_NOTIFICATION_QUEUE": self.unzip.notification_queue,
                "OSSBATCH_DELETE_AFTER_SUCCESS": "true"
                if self.unzip.delete_after_success
                else "false",
            }
        elif job not in ("copy", "restore"):
            raise ValueError(f"unknown job {job!r}: expected copy, restore, unzip or trigger")
        return variables

    @property
    def state_region(self) -> str:
        return (self.state.region if self.state else None) or self.region

    @property
    def oss_endpoint(self) -> str:
        return self.endpoints.oss or f"https://oss-{self.region}-internal.aliyuncs.com"

    @property
    def fnf_endpoint(self) -> str:
        return self.endpoints.fnf or f"https://{self.region}.fnf.aliyuncs.com"


def environment_path(name_or_path: str | os.PathLike, environments_dir: Path | None = None) -> Path:
    """A name (`dev`) maps to environments/dev.yaml; anything with a suffix or '/' is a path."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or os.sep in text or "/" in text:
        return Path(text)
    return (environments_dir or ENVIRONMENTS_DIR) / f"{text}.yaml"


def _field_path(loc: tuple) -> str:
    parts = [str(p) for p in loc if not str(p).startswith("function-after[")]
    return ".".join(parts) or "(top level)"


def load_environment(
    name_or_path: str | os.PathLike, environments_dir: Path | None = None
) -> Environment:
    path = environment_path(name_or_path, environments_dir)
    if not path.is_file():
        known = sorted(p.stem for p in (environments_dir or ENVIRONMENTS_DIR).glob("*.yaml"))
        raise EnvironmentFileError(
            f"{path}: no such environment file (known environments: {', '.join(known) or 'none'})"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise EnvironmentFileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise EnvironmentFileError(f"{path}: expected a mapping of settings at the top level")
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{path}: {_field_path(err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        ]
        raise EnvironmentFileError("\n".join(lines)) from None
    if path.parent == (environments_dir or ENVIRONMENTS_DIR) and env.name != path.stem:
        # prod rules follow the name: environments/prod.yaml must say it is prod
        raise EnvironmentFileError(
            f"{path}: name: {env.name!r} must match the file name {path.stem!r}"
        )
    return env
