"""Environment files (environments/<name>.yaml): one validated schema for infra and the CLI.

`load_environment("dev")` or `load_environment("path/to/file.yaml")` returns an
`Environment`; any problem raises `EnvironmentFileError` naming the file and the
field path (e.g. `environments/dev.yaml: unzip.output_prefix: ...`).
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
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

BUCKET_ROLES = ("sources", "archive", "packages", "extraction", "reports", "artifacts")
STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")


# --- The registry of job kinds: the one list infra, `local up`, the CLI and the flows' ---
# --- event budget read. Adding a kind: docs/internals.md, "Adding a job kind". ---


@dataclass(frozen=True)
class EventCost:
    """CloudFlow history events of one execution (ossbatch.eventbudget has the arithmetic)."""

    fixed: int  # per execution: start, the two Maps, the final choice/continuation/notify
    per_shard: int  # per shard and execution: iteration start/end, budget pass, done flag
    per_page: int  # per page: the Task (scheduled/started/succeeded + enter/exit) and the Choice


@dataclass(frozen=True)
class FunctionKind:
    """One FC function of every stack: `<name_prefix>-<name>`, handler `index.<name>`."""

    name: str
    settings_field: str  # attribute path of its FunctionSettings in Environment
    role: str  # the RAM role it runs as (ossbatch.policies)
    variables: tuple[str, ...]  # variable groups the deployment sets (ossbatch.deployment)

    @property
    def handler(self) -> str:
        return f"index.{self.name}"  # FC's documented <file>.<method> at the code root

    def settings(self, env: Environment) -> FunctionSettings:
        value = env
        for part in self.settings_field.split("."):
            value = getattr(value, part)
        return value

    @property
    def settings_path(self) -> str:
        """The field as the environment file spells it (`copy.function`)."""
        return self.settings_field.replace("copy_job", "copy")


@dataclass(frozen=True)
class JobKind:
    """A job the CLI starts: ids `<name>-...`, flow `flows/<flow>.yaml`, pages in `function`."""

    name: str
    function: str
    flow: str
    page_steps: tuple[str, ...] = ()  # flow steps whose output carries a finished page's shard
    # measured on the local engine (tests/flows/test_flow_copy.py re-measures them)
    event_cost: EventCost | None = None


FUNCTION_KINDS: dict[str, FunctionKind] = {
    "copy": FunctionKind("copy", "copy_job.function", "fc-worker", ("objects", "workers")),
    "restore": FunctionKind("restore", "restore.function", "fc-worker", ("objects",)),
    # a role of its own: the package delete and the password are unzip's alone
    "unzip": FunctionKind("unzip", "unzip.function", "fc-unzip", ("objects", "workers", "unzip")),
    "trigger": FunctionKind("trigger", "unzip.trigger_function", "fc-trigger", ("trigger",)),
    "verify": FunctionKind("verify", "verify.function", "fc-worker", ("objects",)),
}
JOB_KINDS: dict[str, JobKind] = {
    # A state costs 4 events, a task attempt 4 more (the limits page's history has
    # TaskSubmitted). copy page: Choice 4 + Task (4 step + 4 task) = 12; shard: iteration 2,
    # budget Pass 4, last Choice 4, ShardDone Pass 4, flag iteration 2 + Pass 4 = 20; fixed:
    # execution 2, two Maps 8, Choice 4, then continuation Task 8 or notify Choice 4 + MNS
    # Task 8 + Pass 4
    "copy": JobKind(
        "copy", "copy", "copy", ("CopyPage",), EventCost(fixed=30, per_shard=20, per_page=12)
    ),
    # restore step: at most Choice 4 + WaitThenStep 4 + RestoreStep Task 8 = 16 (a 300 s
    # WaitLong step: Choice 4 + Wait 4); shard and fixed as copy (expiry: Choice + MNS + Fail)
    "restore": JobKind(
        "restore",
        "restore",
        "restore",
        ("RestoreStep",),
        EventCost(fixed=30, per_shard=20, per_page=16),
    ),
    # started by the trigger per uploaded package; pages loop inside one flow execution
    "unzip": JobKind("unzip", "unzip", "unzip"),
    # flows/verify.yaml has copy's shape (same states per page, shard and execution)
    "verify": JobKind(
        "verify",
        "verify",
        "verify",
        ("VerifyPage",),
        EventCost(fixed=30, per_shard=20, per_page=12),
    ),
}
JOBS = tuple(FUNCTION_KINDS)  # function kinds, in stack order


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
    """What one package may hold; the unzip function enforces them (OSSBATCH_UNZIP_MAX_*)."""

    max_entries: int = Field(default=1_000_000, ge=1)
    max_entry_bytes: int = Field(default=50 * 2**30, ge=1)
    max_total_bytes: int = Field(default=500 * 2**30, ge=1)
    max_ratio: float = Field(default=1000.0, gt=1)  # uncompressed / compressed (zip bombs)


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


# KMS CreateSecret's SecretName (help.aliyun.com/document_detail/154490): up to 192 letters,
# digits and _/+=.-@; a generic secret's name may not start with acs/ (the service's own)
KMS_SECRET_NAME = re.compile(r"(?!acs/)[A-Za-z0-9_/+=.@-]{1,192}")


def _kms_secret_name(value: str) -> str:
    if not KMS_SECRET_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a KMS secret name: 1-192 letters, digits and _/+=.-@, "
            "not starting with acs/"
        )
    return value


class KmsPassword(Strict):
    """``kms``: the unzip function reads the password at run time from the KMS secret
    ``secret_name`` (GetSecretValue, ACSCurrent) with its role, which is granted
    kms:GetSecretValue on that secret only. The secret must exist: infra references it,
    never creates it (docs/decisions/unzip-passwords.md). Locally, ``ossbatch local up``
    creates or updates the secret in localcloud's KMS from the shell's ``local_variable``.
    """

    source: Literal["kms"]
    secret_name: Annotated[str, AfterValidator(_kms_secret_name)]
    # the secret's own key, when it is one of the user's: GetSecretValue then also needs
    # kms:Decrypt on it (API reference: GetSecretValue), which the role is granted
    key_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,128}$")
    local_variable: str = Field(default="OSSBATCH_UNZIP_PASSWORD", pattern=r"^[A-Z_][A-Z0-9_]*$")


def _password_source(value) -> str | None:
    # `{}` keeps meaning `{source: env}`, as before the kms source existed
    if isinstance(value, dict):
        return value.get("source", "env")
    return getattr(value, "source", None)


PasswordSource = Annotated[
    Annotated[UnzipPassword, Tag("env")] | Annotated[KmsPassword, Tag("kms")],
    Discriminator(_password_source),
]

UNZIP_PASSWORD_VARIABLE = "OSSBATCH_UNZIP_PASSWORD"  # the unzip function's variable (handlers)
# the KMS source: the secret's name (not its value) and where KMS is, on the unzip function
UNZIP_PASSWORD_SECRET_VARIABLE = "OSSBATCH_UNZIP_PASSWORD_SECRET"
KMS_ENDPOINT_VARIABLE = "OSSBATCH_KMS_ENDPOINT"


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
    password: PasswordSource | None = None
    # an object another writer made at an entry's key (docs/decisions/unzip-output-ownership.md)
    on_existing: Literal["overwrite", "skip", "fail"] = "fail"
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


class VerifySettings(Strict):
    """`ossbatch jobs verify`: pages read two HEADs per object, so they are lighter than copy's.

    The shards are the verified job's own (its concurrency), so there is no concurrency here.
    """

    function: FunctionSettings = FunctionSettings(memory_mb=512, timeout_s=600)
    page_budget_s: int = Field(default=540, ge=10)

    @model_validator(mode="after")
    def _budget_fits(self) -> VerifySettings:
        if self.page_budget_s >= self.function.timeout_s:
            raise ValueError(
                f"page_budget_s {self.page_budget_s} must be below function.timeout_s "
                f"{self.function.timeout_s}"
            )
        return self


class RequestBudget(Strict):
    """OSS requests per second: the account's ceiling and what one job may take by default.

    OSS throttles an account at about 10,000 QPS (503 SlowDown past it); a job's default
    --max-qps leaves the rest to the account's other workloads.
    """

    account_qps: int = Field(default=10_000, ge=1)
    max_qps: int | None = Field(default=None, ge=1, description="None: jobs are not paced")

    @model_validator(mode="after")
    def _within_account(self) -> RequestBudget:
        if self.max_qps is not None and self.max_qps > self.account_qps:
            raise ValueError(
                f"requests.max_qps {self.max_qps} exceeds requests.account_qps "
                f"{self.account_qps}: a job would be throttled by OSS instead of paced"
            )
        return self


class PriceTable(Strict):
    """Unit prices for --dry-run's cost estimate; each one set here wins over its default.

    Unset prices take the documented defaults of ossbatch.listprices (USD, with their page
    and date) when ``currency`` is USD; in another currency only what is set here is used.
    """

    currency: str = Field(default="USD", pattern=r"[A-Z]{3}")
    oss_put_per_10k: float | None = Field(default=None, ge=0)  # CopyObject/PUT-type requests
    oss_get_per_10k: float | None = Field(default=None, ge=0)
    fc_per_gb_second: float | None = Field(default=None, ge=0)
    fc_per_vcpu_second: float | None = Field(default=None, ge=0)
    fc_per_million_invocations: float | None = Field(default=None, ge=0)
    flow_per_1k_transitions: float | None = Field(default=None, ge=0)
    # {"ColdArchive": {"Expedited": x, "Standard": y, "Bulk": z}, "Archive": {...}, ...}
    restore_per_gb: dict[str, dict[str, float]] = Field(default_factory=dict)


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
    kms: str | None = None  # None: the region's public KMS endpoint (FC reaches it without a VPC)


class LocalcloudPorts(Strict):
    oss: int = Field(default=0, ge=0, le=65535)
    mns: int = Field(default=0, ge=0, le=65535)
    fc: int = Field(default=0, ge=0, le=65535)
    fnf: int = Field(default=0, ge=0, le=65535)
    admin: int = Field(default=0, ge=0, le=65535)
    ram: int = Field(default=0, ge=0, le=65535)
    kms: int = Field(default=0, ge=0, le=65535)


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
    verify: VerifySettings = VerifySettings()
    requests: RequestBudget = RequestBudget()
    prices: PriceTable | None = None
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
        if job not in FUNCTION_KINDS:
            raise ValueError(f"unknown job {job!r}: expected one of {', '.join(FUNCTION_KINDS)}")
        return f"{self.name_prefix}-{job}"

    def flow_name(self, stem: str) -> str:
        return f"{self.name_prefix}-{stem}"

    @property
    def state_region(self) -> str:
        return (self.state.region if self.state else None) or self.region

    @property
    def oss_endpoint(self) -> str:
        return self.endpoints.oss or f"https://oss-{self.region}-internal.aliyuncs.com"

    @property
    def fnf_endpoint(self) -> str:
        return self.endpoints.fnf or f"https://{self.region}.fnf.aliyuncs.com"

    @property
    def kms_endpoint(self) -> str:
        # kms-vpc.<region> answers only inside a VPC; the functions are not in one
        return self.endpoints.kms or f"https://kms.{self.region}.aliyuncs.com"


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
