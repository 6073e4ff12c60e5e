"""Least-privilege RAM policy documents for the five roles of a stack.

| role | trusted service | may |
|---|---|---|
| fc-worker | fc.aliyuncs.com | copy/restore/verify object work on the sources, archive and reports, write logs |
| fc-unzip | fc.aliyuncs.com | unzip: read and delete packages under the watched prefix, write entries under the output prefix, its report parts and package leases, write logs; with unzip.password source kms, read that one secret |
| fc-trigger | fc.aliyuncs.com | start executions of the unzip flow, write logs |
| flow | fnf.aliyuncs.com | invoke the worker functions, send to the notification queue, start its own flows |
| oss-trigger | oss.aliyuncs.com | invoke the trigger function, nothing else |

Every statement names exact resources; `Resource: "*"` is allowed only with a
`wildcard_reason`: fnf:StartExecution is the one action here whose API page lists its
resource as "All Resource" (any other form makes the policy ineffective).

infra renders these documents as Terraform and `ossbatch local up` creates them on
localcloud: both take them from `ossbatch.deployment`, so the JSON is the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ossbatch.config import FUNCTION_KINDS, JOB_KINDS, Environment, KmsPassword

# unzip's objects in the reports bucket: its job ids are the trigger's execution names
# (handlers/trigger.py execution_name), its leases handlers/packagelease.py lease_key's
UNZIP_JOB_PREFIX = "unzip-"
UNZIP_LEASE_PREFIX = "leases/unzip/"

OSS_READ = ("oss:GetObject",)  # also covers HeadObject / GetObjectMeta
OSS_WRITE = ("oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts")
# a named version (?versionId=) and object tags are separate RAM actions
OSS_READ_VERSIONS = ("oss:GetObjectVersion", "oss:GetObjectTagging", "oss:GetObjectVersionTagging")


# RAM CreateRole: RoleName 1-64 letters, digits, '.' and '-'; CreatePolicy: PolicyName 1-128
# letters, digits and '-' (API reference: CreateRole, CreatePolicy)
ROLE_NAME_RE = re.compile(r"[A-Za-z0-9.-]{1,64}")
POLICY_NAME_RE = re.compile(r"[A-Za-z0-9-]{1,128}")

# StartExecution's API page: resource "All Resource"; a scoped ARN makes the grant ineffective
START_EXECUTION_REASON = (
    "fnf:StartExecution authorizes only Resource '*' (API reference: StartExecution, "
    "help.aliyun.com/document_detail/122628)"
)


def multiline(text: str) -> str:
    """Terraform heredoc-friendly: exactly one trailing newline (as infra writes it)."""
    return text.rstrip("\n") + "\n"


class PolicyError(ValueError):
    """A policy statement that is not least privilege."""


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str  # one line: what the grant is for (shown in the review)
    wildcard_reason: str | None = None  # required when resources contain "*"

    def __post_init__(self) -> None:
        if not self.actions or not self.resources:
            raise PolicyError(f"{self.sid}: a statement needs actions and resources")
        wild = [a for a in self.actions if "*" in a]
        if wild:
            raise PolicyError(f"{self.sid}: wildcard actions {wild} are not least privilege")
        if "*" in self.resources and not self.wildcard_reason:
            raise PolicyError(
                f'{self.sid}: Resource "*" needs a wildcard_reason naming the service that '
                "cannot scope it"
            )

    def to_ram(self) -> dict:
        return {
            "Effect": "Allow",
            "Action": sorted(self.actions),
            "Resource": sorted(self.resources),
        }


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]

    def to_ram(self) -> dict:
        return {"Version": "1", "Statement": [s.to_ram() for s in self.statements]}

    def to_json(self) -> str:
        return multiline(json.dumps(self.to_ram(), indent=2, sort_keys=True))


def trust_policy(service: str) -> str:
    """Who may assume the role: one Alibaba Cloud service principal."""
    return multiline(
        json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": [service]},
                    }
                ],
            },
            indent=2,
            sort_keys=True,
        )
    )


@dataclass(frozen=True)
class Arns:
    """ARN builders for one region and account (the account may be a Terraform reference)."""

    region: str
    account: str

    def bucket(self, name: str) -> str:
        return f"acs:oss:*:{self.account}:{name}"

    def objects(self, bucket: str, prefix: str = "") -> str:
        return f"acs:oss:*:{self.account}:{bucket}/{prefix}*"

    def function(self, name: str) -> tuple[str, str]:
        # the function and its versions/aliases (qualifier LATEST is used)
        base = f"acs:fc:{self.region}:{self.account}:functions/{name}"
        return base, base + "/*"

    def flow(self, name: str) -> tuple[str, str]:
        base = f"acs:fnf:{self.region}:{self.account}:flow/{name}"
        return base, base + "/execution/*"

    def queue(self, name: str) -> str:
        return f"acs:mns:{self.region}:{self.account}:/queues/{name}/messages"

    def logstore(self, project: str, store: str) -> str:
        return f"acs:log:{self.region}:{self.account}:project/{project}/logstore/{store}"

    def oss_trigger_source(self, bucket: str) -> str:
        return f"acs:oss:{self.region}:{self.account}:{bucket}"

    def role(self, name: str) -> str:
        return f"acs:ram::{self.account}:role/{name.lower()}"

    def secret(self, name: str) -> str:
        # KMS's RAM page (doc-detail/28953): acs:kms:${region}:${account}:secret/${secret-name}
        return f"acs:kms:{self.region}:{self.account}:secret/{name}"

    def key(self, key_id: str) -> str:
        return f"acs:kms:{self.region}:{self.account}:key/{key_id}"


def _logs(env: Environment, arns: Arns) -> Statement:
    return Statement(
        "WriteFunctionLogs",
        ("log:PostLogStoreLogs",),
        (arns.logstore(env.log.project, env.log.store),),
        "function logs go to the environment's logstore",
    )


def fc_worker_policy(env: Environment, arns: Arns) -> PolicyDocument:
    """copy, restore and verify: nothing of the packages or the extraction (fc-unzip's)."""
    b = env.buckets
    return PolicyDocument(
        (
            Statement(
                "ListJobBuckets",
                ("oss:ListObjects",),
                tuple(
                    sorted({arns.bucket(spec.name) for spec in (b.sources, b.archive, b.reports)})
                ),
                "prefix listings for copy/restore, and the handlers' bucket-exists probe "
                "(a one-key listing) before they report a missing bucket",
            ),
            Statement(
                "ReadSources",
                OSS_READ + OSS_READ_VERSIONS + ("oss:RestoreObject", "oss:RestoreObjectVersion"),
                tuple(sorted({arns.objects(b.sources.name), arns.objects(b.archive.name)})),
                "copy reads sources (and index files kept there), the versions an index names "
                "and their tags; restore restores and polls (a named version too); verify HEADs "
                "both sides and reads their tags",
            ),
            Statement(
                "WriteArchive",
                OSS_WRITE + ("oss:PutObjectTagging",),
                (arns.objects(b.archive.name),),
                "copy writes (multipart for > 1 GB) into the archive destination, with tags",
            ),
            Statement(
                "Reports",
                OSS_WRITE + OSS_READ,
                (arns.objects(b.reports.name, env.report_prefix),),
                "per-item report parts and summaries; index files are read from here",
            ),
            Statement(
                "ReleasePaceLeases",
                ("oss:DeleteObject",),
                (arns.objects(b.reports.name, f"{env.report_prefix}*/pace/"),),
                "a finished shard drops its request-budget lease so the other shards get its share",
            ),
            _logs(env, arns),
        )
    )


def fc_unzip_policy(env: Environment, arns: Arns) -> PolicyDocument:
    """The unzip function alone: its packages, its output, its reports and leases, the password."""
    b, unzip = env.buckets, env.unzip
    statements = [
        Statement(
            "ListUnzipBuckets",
            ("oss:ListObjects",),
            tuple(sorted({arns.bucket(b.packages.name), arns.bucket(b.extraction.name)})),
            "before the package delete unzip lists the package's output to check every entry "
            "landed; a missing package's bucket gets the one-key bucket-exists probe",
        ),
        Statement(
            "ListPackageVersions",
            ("oss:ListObjectVersions",),
            (arns.bucket(b.packages.name),),
            "unzip finds the pinned upload among a versioned package key's versions",
        ),
        Statement(
            "ReadPackages",
            OSS_READ + ("oss:GetObjectVersion",),
            (arns.objects(b.packages.name, unzip.watch_prefix),),
            "unzip reads the uploaded package (its pinned version; a symlink's target, which "
            "must lie under the watched prefix too) with ranged GETs",
        ),
        Statement(
            "DeleteExtractedPackages",
            ("oss:DeleteObject", "oss:DeleteObjectVersion"),
            (arns.objects(b.packages.name, unzip.watch_prefix),),
            "unzip deletes a package after every entry succeeded (only under the watched "
            "prefix; on a versioned bucket exactly the extracted version)",
        ),
        Statement(
            "WriteExtraction",
            OSS_WRITE + OSS_READ,
            (arns.objects(b.extraction.name, unzip.output_prefix),),
            "unzip writes entries under the output prefix (and checks what exists on resume)",
        ),
        Statement(
            "UnzipReports",
            OSS_WRITE + OSS_READ,
            (arns.objects(b.reports.name, f"{env.report_prefix}{UNZIP_JOB_PREFIX}"),),
            "unzip's report parts, under its job ids (the trigger names them unzip-...)",
        ),
        Statement(
            "PackageLeases",
            ("oss:PutObject", "oss:DeleteObject") + OSS_READ,
            (arns.objects(b.reports.name, f"{env.report_prefix}{UNZIP_LEASE_PREFIX}"),),
            "one run per package at a time: unzip takes, reads and releases its package lease",
        ),
        _logs(env, arns),
    ]
    if isinstance(unzip.password, KmsPassword):
        statements.append(
            Statement(
                "ReadUnzipPassword",
                ("kms:GetSecretValue",),
                (arns.secret(unzip.password.secret_name),),
                "unzip reads the password of encrypted packages from this one KMS secret at "
                "run time (unzip.password source kms), when a package has an encrypted entry",
            )
        )
    if isinstance(unzip.password, KmsPassword) and unzip.password.key_id:
        statements.append(
            Statement(
                "DecryptUnzipPassword",
                ("kms:Decrypt",),
                (arns.key(unzip.password.key_id),),
                "the password's secret is protected by this key of the user's own, which "
                "GetSecretValue decrypts with the caller's kms:Decrypt",
            )
        )
    return PolicyDocument(tuple(statements))


def fc_trigger_policy(env: Environment, arns: Arns) -> PolicyDocument:
    return PolicyDocument(
        (
            Statement(
                "StartUnzipExecutions",
                ("fnf:StartExecution",),
                ("*",),
                "the trigger starts one unzip execution per uploaded package",
                wildcard_reason=START_EXECUTION_REASON,
            ),
            _logs(env, arns),
        )
    )


def flow_policy(env: Environment, arns: Arns) -> PolicyDocument:
    functions = [env.function_name(kind.function) for kind in JOB_KINDS.values()]
    flow_names = [env.flow_name(kind.flow) for kind in JOB_KINDS.values()]
    statements = [
        Statement(
            "InvokeWorkers",
            ("fc:InvokeFunction",),
            tuple(arn for fn in functions for arn in arns.function(fn)),
            "flow tasks call the job functions (not the trigger)",
        ),
        Statement(
            "NotifyUnzipResult",
            ("mns:SendMessage",),
            (arns.queue(env.unzip.notification_queue),),
            "the unzip flow reports its result to the notification queue",
        ),
    ]
    if flow_names:
        statements += [
            Statement(
                "ContinueOwnFlows",
                ("fnf:StartExecution",),
                ("*",),
                "long jobs continue in a fresh execution of their own flow before the event limit",
                wildcard_reason=START_EXECUTION_REASON,
            ),
        ]
    return PolicyDocument(tuple(statements))


def oss_trigger_policy(env: Environment, arns: Arns) -> PolicyDocument:
    return PolicyDocument(
        (
            Statement(
                "InvokeTriggerFunction",
                ("fc:InvokeFunction",),
                tuple(
                    arn
                    for kind in FUNCTION_KINDS.values()
                    if kind.role == "fc-trigger"
                    for arn in arns.function(env.function_name(kind.name))
                ),
                "OSS delivers upload events to the trigger function only",
            ),
        )
    )


# role key -> the one service principal it trusts (FC functions, CloudFlow, the OSS trigger)
TRUSTED_SERVICE = {
    "fc-worker": "fc.aliyuncs.com",
    "fc-unzip": "fc.aliyuncs.com",
    "fc-trigger": "fc.aliyuncs.com",
    "flow": "fnf.aliyuncs.com",
    "oss-trigger": "oss.aliyuncs.com",
}


def role_name(env: Environment, key: str) -> str:
    return f"{env.name_prefix}-{key}"


def role_documents(env: Environment, arns: Arns) -> dict[str, PolicyDocument]:
    """role key -> its one custom policy."""
    return {
        "fc-worker": fc_worker_policy(env, arns),
        "fc-unzip": fc_unzip_policy(env, arns),
        "fc-trigger": fc_trigger_policy(env, arns),
        "flow": flow_policy(env, arns),
        "oss-trigger": oss_trigger_policy(env, arns),
    }
