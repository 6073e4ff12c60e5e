"""The deployment model: every object one environment deploys, as a pure value.

`deployment(env, target)` describes buckets, queues, roles with their policy
documents, functions (handler string, settings, exact environment variables,
role), the OSS trigger and the flows (definition with its deployed `Name`).
infra renders it as Terraform (infra/stack.py); `ossbatch local up` creates the
same objects on localcloud through the real SDKs (ossbatch/provision.py). The
cloud and the local target differ only by endpoints, credentials and account.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from ossbatch import policies
from ossbatch.config import (
    FUNCTION_KINDS,
    JOB_KINDS,
    KMS_ENDPOINT_VARIABLE,
    PROJECT_ROOT,
    UNZIP_PASSWORD_SECRET_VARIABLE,
    UNZIP_PASSWORD_VARIABLE,
    Environment,
    FunctionKind,
    KmsPassword,
    LifecycleRule,
    UnzipPassword,
)

FLOWS_DIR = PROJECT_ROOT / "flows"
# OSS events that mean "a new object is complete" (FC OSS trigger event names)
UPLOAD_EVENTS = (
    "oss:ObjectCreated:PutObject",
    "oss:ObjectCreated:PostObject",
    "oss:ObjectCreated:CompleteMultipartUpload",
    "oss:ObjectCreated:PutSymlink",  # a symlink .zip is a package too (its target is extracted)
)
MAX_RETENTION_S = 604_800  # 7 days, the MNS maximum: keep failed notifications for inspection
_NAME_LINE = re.compile(r"^Name:.*$", re.MULTILINE)


class DeploymentError(ValueError):
    """The environment and the flow files cannot make a deployment; the message says why."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(Strict):
    """Where the deployment goes: what differs between the cloud and localcloud."""

    kind: Literal["cloud", "local"]
    account_id: str  # may be a Terraform reference in the cloud (the account data source)
    oss_endpoint: str  # the endpoint the handlers use
    fnf_endpoint: str
    kms_endpoint: str = ""  # where the unzip function reads a KMS password (unzip.password kms)


class Bucket(Strict):
    name: str
    roles: tuple[str, ...]  # the environment's bucket roles it serves (sources, archive, ...)
    managed: bool
    storage_class: str
    versioning: bool
    lifecycle: tuple[LifecycleRule, ...]


class Queue(Strict):
    name: str
    role: Literal["notifications", "dead_letters"]
    message_retention_s: int
    visibility_timeout_s: int | None = None
    polling_wait_s: int | None = None
    dead_letter_queue: str | None = None  # redrive target (the notification queue's DLQ)
    max_receive_count: int | None = None


class Role(Strict):
    key: str  # fc-worker | fc-unzip | fc-trigger | flow | oss-trigger (ossbatch.policies)
    name: str
    arn: str
    trusted_service: str
    trust_policy: str  # JSON, as infra synthesizes it
    description: str
    policy_name: str
    policy_document: str  # JSON, as infra synthesizes it
    policy_description: str


class Secret(Strict):
    """A variable whose value never enters the model: the cloud sets it from a sensitive
    Terraform variable, `local up` from the shell's variable."""

    variable: str  # on the function, e.g. OSSBATCH_UNZIP_PASSWORD
    terraform_variable: str
    local_variable: str


class Function(Strict):
    kind: str  # the FunctionKind (ossbatch.config.FUNCTION_KINDS)
    name: str
    description: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: int
    disk_mb: int
    cpu: float | None
    environment: dict[str, str]
    secrets: tuple[Secret, ...] = ()
    role: str
    role_arn: str


class Trigger(Strict):
    name: str
    function: str
    description: str
    trigger_type: Literal["oss"] = "oss"
    qualifier: str = "LATEST"
    events: tuple[str, ...]
    prefix: str
    suffix: str
    source_bucket: str
    source_arn: str
    invocation_role: str
    invocation_role_arn: str

    @property
    def config_json(self) -> str:
        """FC's OSS trigger config: events and the key filter."""
        return json.dumps(
            {
                "events": list(self.events),
                "filter": {"key": {"prefix": self.prefix, "suffix": self.suffix}},
            },
            sort_keys=True,
        )


class Flow(Strict):
    kind: str  # the JobKind whose executions run it
    name: str
    description: str
    definition: str  # flows/<file>.yaml with its top-level Name set to `name`
    source: str  # the flow file, relative to the project
    flow_type: Literal["FDL"] = "FDL"  # CreateFlow's Type for definitions in the current spec
    role: str
    role_arn: str


class Deployment(Strict):
    environment: str
    target: Target
    buckets: tuple[Bucket, ...]
    queues: tuple[Queue, ...]
    roles: tuple[Role, ...]
    functions: tuple[Function, ...]
    trigger: Trigger
    flows: tuple[Flow, ...]

    def role(self, key: str) -> Role:
        return next(r for r in self.roles if r.key == key)

    def function(self, kind: str) -> Function:
        return next(f for f in self.functions if f.kind == kind)

    def queue(self, role: str) -> Queue:
        return next(q for q in self.queues if q.role == role)

    def names(self) -> dict:
        """Logical -> real names, as the CLI keeps them (the local state file)."""
        return {
            "buckets": {role: b.name for b in self.buckets for role in b.roles},
            "queues": {q.role: q.name for q in self.queues},
            "flows": {f.kind: f.name for f in self.flows},
            "functions": {f.kind: f.name for f in self.functions},
        }

    def senders(self, queue: str) -> list[str]:
        """Role keys whose policy allows mns:SendMessage to this queue."""
        arn_tail = f":/queues/{queue}/messages"
        return [
            role.key
            for role in self.roles
            for statement in json.loads(role.policy_document)["Statement"]
            if "mns:SendMessage" in statement["Action"]
            and any(r == "*" or r.endswith(arn_tail) for r in statement["Resource"])
        ]


# the environment field whose queue the flow role may send to (ossbatch.policies.flow_policy)
NOTIFY_QUEUE_FIELD = "unzip.notification_queue"


def notify_queue_refusal(env: Environment, queue: str) -> str | None:
    """Why a job may not notify `queue` (no role of the deployment may send to it), or None."""
    plan = deployment(env, local_target("0" * 16, "", ""))
    if not queue or "flow" in plan.senders(queue):
        return None
    return (
        f"--notify-queue {queue!r}: no role of environment {env.name!r} may send to it, so the "
        f"job's final MNS message would be denied; the flow role may send only to "
        f"{NOTIFY_QUEUE_FIELD} ({env.unzip.notification_queue!r}): use that queue or change the "
        "field and redeploy"
    )


def cloud_target(env: Environment, account_id: str | None = None) -> Target:
    """Alibaba Cloud: the region's internal endpoints; the account from the file or Terraform."""
    account = account_id or env.account_id
    if not account:
        raise DeploymentError(f"environment {env.name!r}: no account_id to build ARNs with")
    return Target(
        kind="cloud",
        account_id=account,
        oss_endpoint=env.oss_endpoint,
        fnf_endpoint=env.fnf_endpoint,
        kms_endpoint=env.kms_endpoint,
    )


def local_target(
    account_id: str, oss_endpoint: str, fnf_endpoint: str, kms_endpoint: str = ""
) -> Target:
    """localcloud: its listeners and its account (from the LOCALCLOUD_READY line)."""
    return Target(
        kind="local",
        account_id=account_id,
        oss_endpoint=oss_endpoint,
        fnf_endpoint=fnf_endpoint,
        kms_endpoint=kms_endpoint,
    )


def deployment(env: Environment, target: Target, flows_dir: Path = FLOWS_DIR) -> Deployment:
    arns = policies.Arns(region=env.region, account=target.account_id)
    roles = _roles(env, arns)
    role_arn = {role.key: role.arn for role in roles}
    return Deployment(
        environment=env.name,
        target=target,
        buckets=_buckets(env),
        queues=_queues(env),
        roles=roles,
        functions=tuple(
            _function(env, target, kind, role_arn[kind.role]) for kind in FUNCTION_KINDS.values()
        ),
        trigger=_trigger(env, arns, role_arn["oss-trigger"]),
        flows=tuple(_flow(env, stem, flows_dir, role_arn["flow"]) for stem in _flow_stems()),
    )


def _flow_stems() -> list[str]:
    return list(dict.fromkeys(kind.flow for kind in JOB_KINDS.values()))


def _buckets(env: Environment) -> tuple[Bucket, ...]:
    return tuple(
        Bucket(
            name=name,
            roles=tuple(env.buckets.roles_of(name)),
            managed=spec.managed,
            storage_class=spec.storage_class,
            versioning=spec.versioning,
            lifecycle=spec.lifecycle,
        )
        for name, spec in env.buckets.distinct().items()
    )


def _queues(env: Environment) -> tuple[Queue, ...]:
    u = env.unzip
    return (
        Queue(name=u.dead_letter_queue, role="dead_letters", message_retention_s=MAX_RETENTION_S),
        Queue(
            name=u.notification_queue,
            role="notifications",
            message_retention_s=MAX_RETENTION_S,
            visibility_timeout_s=60,
            polling_wait_s=30,
            dead_letter_queue=u.dead_letter_queue,
            max_receive_count=u.max_receive_count,
        ),
    )


def _roles(env: Environment, arns: policies.Arns) -> tuple[Role, ...]:
    documents = policies.role_documents(env, arns)
    roles = []
    for key, service in policies.TRUSTED_SERVICE.items():
        name = policies.role_name(env, key)
        _check_role_names(name, f"{name}-policy")
        roles.append(
            Role(
                key=key,
                name=name,
                arn=arns.role(name),
                trusted_service=service,
                trust_policy=policies.trust_policy(service),
                description=f"ossbatch {env.name}: {key}",
                policy_name=f"{name}-policy",
                policy_document=documents[key].to_json(),
                policy_description=f"ossbatch {env.name}: least privilege for {key}",
            )
        )
    return tuple(roles)


def _check_role_names(role: str, policy: str) -> None:
    # name_prefix (<= 40) keeps both far inside RAM's limits; a new role key must too
    if not policies.ROLE_NAME_RE.fullmatch(role):
        raise DeploymentError(f"role name {role!r}: RAM allows 1-64 letters, digits, '.', '-'")
    if not policies.POLICY_NAME_RE.fullmatch(policy):
        raise DeploymentError(f"policy name {policy!r}: RAM allows 1-128 letters, digits, '-'")


def function_environment(env: Environment, target: Target, kind: FunctionKind) -> dict[str, str]:
    """Exactly the variables the function's settings read (handlers/settings.py)."""
    u = env.unzip
    groups = {
        "objects": {
            "OSSBATCH_OSS_ENDPOINT": target.oss_endpoint,
            "OSSBATCH_REPORT_BUCKET": env.buckets.reports.name,
            "OSSBATCH_REPORT_PREFIX": env.report_prefix,
        },
        # page workers per instance: the function's whole vCPUs (1 without a cpu setting)
        "workers": {"OSSBATCH_PROCESSES": str(kind.settings(env).processes)},
        "unzip": {
            "OSSBATCH_OUTPUT_BUCKET": env.buckets.extraction.name,
            "OSSBATCH_OUTPUT_PREFIX": u.output_prefix,
            "OSSBATCH_WATCH_PREFIX": u.watch_prefix,
            "OSSBATCH_NAME_ENCODING": u.name_encoding,
            "OSSBATCH_ON_EXISTING": u.on_existing,
            "OSSBATCH_UNZIP_MAX_ENTRIES": str(u.limits.max_entries),
            "OSSBATCH_UNZIP_MAX_ENTRY_BYTES": str(u.limits.max_entry_bytes),
            "OSSBATCH_UNZIP_MAX_TOTAL_BYTES": str(u.limits.max_total_bytes),
            "OSSBATCH_UNZIP_MAX_RATIO": f"{u.limits.max_ratio:g}",
        },
        # the trigger builds the unzip flow's input from these (see flows/unzip.yaml)
        "trigger": {
            "OSSBATCH_REGION": env.region,
            "OSSBATCH_FNF_ENDPOINT": target.fnf_endpoint,
            "OSSBATCH_UNZIP_FLOW": env.flow_name(JOB_KINDS["unzip"].flow),
            "OSSBATCH_UNZIP_FUNCTION": env.function_name(JOB_KINDS["unzip"].function),
            "OSSBATCH_NOTIFICATION_QUEUE": u.notification_queue,
            "OSSBATCH_DELETE_AFTER_SUCCESS": "true" if u.delete_after_success else "false",
            "OSSBATCH_WATCH_PREFIX": u.watch_prefix,
            "OSSBATCH_WATCH_SUFFIX": u.watch_suffix,
            "OSSBATCH_OUTPUT_PREFIX": u.output_prefix,
        },
    }
    variables = {"OSSBATCH_LOG_LEVEL": env.log.level}
    for group in kind.variables:
        variables |= groups[group]
    if "unzip" in kind.variables and isinstance(u.password, KmsPassword):
        # the secret's name and where KMS is; the value is read at run time, never set here
        variables |= {
            UNZIP_PASSWORD_SECRET_VARIABLE: u.password.secret_name,
            KMS_ENDPOINT_VARIABLE: target.kms_endpoint,
        }
    return dict(sorted(variables.items()))


def function_secrets(env: Environment, kind: FunctionKind) -> tuple[Secret, ...]:
    """Secrets of one function: the unzip password (source env) goes to the unzip function
    only; a KMS password is no variable at all (function_environment names its secret)."""
    password = env.unzip.password
    if "unzip" not in kind.variables or not isinstance(password, UnzipPassword):
        return ()
    return (
        Secret(
            variable=UNZIP_PASSWORD_VARIABLE,
            terraform_variable=password.terraform_variable,
            local_variable=password.local_variable,
        ),
    )


def _function(env: Environment, target: Target, kind: FunctionKind, role_arn: str) -> Function:
    settings = kind.settings(env)
    return Function(
        kind=kind.name,
        name=env.function_name(kind.name),
        description=f"ossbatch {env.name}: {kind.name}",
        handler=kind.handler,
        runtime=env.runtime,
        memory_mb=settings.memory_mb,
        timeout_s=settings.timeout_s,
        disk_mb=settings.disk_mb,
        cpu=settings.cpu,
        environment=function_environment(env, target, kind),
        secrets=function_secrets(env, kind),
        role=kind.role,
        role_arn=role_arn,
    )


def _trigger(env: Environment, arns: policies.Arns, role_arn: str) -> Trigger:
    (kind,) = [k for k in FUNCTION_KINDS.values() if k.role == "fc-trigger"]
    packages = env.buckets.packages.name
    return Trigger(
        name=f"{env.name_prefix}-unzip-upload",
        function=env.function_name(kind.name),
        description="starts the unzip flow for each uploaded package",
        events=UPLOAD_EVENTS,
        prefix=env.unzip.watch_prefix,
        suffix=env.unzip.watch_suffix,
        source_bucket=packages,
        source_arn=arns.oss_trigger_source(packages),
        invocation_role="oss-trigger",
        invocation_role_arn=role_arn,
    )


def named_definition(text: str, name: str, source: str) -> str:
    """The flow file with its top-level `Name:` line set to the deployed name (textually, so
    the file stays the one source and its comments and layout survive)."""
    line = f"Name: {name}"
    if yaml.safe_load(line)["Name"] != name:  # YAML 1.1 reads a bare NO or 1e3 as bool/number
        line = f"Name: {json.dumps(name)}"
    if _NAME_LINE.search(text):
        text = _NAME_LINE.sub(lambda _: line, text, count=1)
    else:
        type_line = re.search(r"^Type:.*$", text, re.MULTILINE)
        at = type_line.end() if type_line else 0
        text = text[:at] + ("\n" if at else "") + line + ("" if at else "\n") + text[at:]
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DeploymentError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(parsed, dict) or parsed.get("Name") != name:
        raise DeploymentError(
            f"{source}: setting the top-level Name to {name!r} did not take "
            "(is `Name:` indented or inside a block?); put `Name:` at column 0"
        )
    return text


def _flow(env: Environment, stem: str, flows_dir: Path, role_arn: str) -> Flow:
    path = flows_dir / f"{stem}.yaml"
    if not path.is_file():
        raise DeploymentError(f"{path}: no flow file for the {stem!r} job kind")
    try:
        source = path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        source = str(path)
    name = env.flow_name(stem)
    kind = next(k.name for k in JOB_KINDS.values() if k.flow == stem)
    return Flow(
        kind=kind,
        name=name,
        description=f"ossbatch {env.name}: {stem} (from {source})",
        definition=named_definition(path.read_text(encoding="utf-8"), name, source),
        source=source,
        role="flow",
        role_arn=role_arn,
    )
