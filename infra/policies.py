"""Least-privilege RAM policy documents for the four roles of a stack.

| role | trusted service | may |
|---|---|---|
| fc-worker | fc.aliyuncs.com | copy/restore/unzip object work inside the env's buckets/prefixes, write logs |
| fc-trigger | fc.aliyuncs.com | start executions of the unzip flow, write logs |
| flow | fnf.aliyuncs.com | invoke the worker functions, send to the notification queue, start its own flows |
| oss-trigger | oss.aliyuncs.com | invoke the trigger function, nothing else |

Every statement names exact resources; `Resource: "*"` is allowed only with a
`wildcard_reason` (a service that cannot scope the action) and none is needed today.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from infra.alicloud.base import multiline
from ossbatch.config import Environment

OSS_READ = ("oss:GetObject",)  # also covers HeadObject / GetObjectMeta
OSS_WRITE = ("oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts")


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


def _logs(env: Environment, arns: Arns) -> Statement:
    return Statement(
        "WriteFunctionLogs",
        ("log:PostLogStoreLogs",),
        (arns.logstore(env.log.project, env.log.store),),
        "function logs go to the environment's logstore",
    )


def fc_worker_policy(env: Environment, arns: Arns) -> PolicyDocument:
    b = env.buckets
    unzip = env.unzip
    statements = [
        Statement(
            "ListJobBuckets",
            ("oss:ListObjects",),
            tuple(
                sorted(
                    {
                        arns.bucket(spec.name)
                        for spec in (b.sources, b.archive, b.packages, b.extraction, b.reports)
                    }
                )
            ),
            "prefix listings for copy/restore, and the handlers' bucket-exists probe "
            "(a one-key listing) before they report a missing bucket",
        ),
        Statement(
            "ReadSources",
            OSS_READ + ("oss:RestoreObject",),
            tuple(sorted({arns.objects(b.sources.name), arns.objects(b.archive.name)})),
            "copy reads sources (and index files kept there); restore restores and polls",
        ),
        Statement(
            "WriteArchive",
            OSS_WRITE,
            (arns.objects(b.archive.name),),
            "copy writes (multipart for > 1 GB) into the archive destination",
        ),
        Statement(
            "ReadPackages",
            OSS_READ,
            (arns.objects(b.packages.name, unzip.watch_prefix),),
            "unzip reads the uploaded package with ranged GETs",
        ),
        Statement(
            "DeleteExtractedPackages",
            ("oss:DeleteObject",),
            (arns.objects(b.packages.name, unzip.watch_prefix),),
            "unzip deletes a package after every entry succeeded (only under the watched prefix)",
        ),
        Statement(
            "WriteExtraction",
            OSS_WRITE + OSS_READ,
            (arns.objects(b.extraction.name, unzip.output_prefix),),
            "unzip writes entries under the output prefix (and checks what exists on resume)",
        ),
        Statement(
            "Reports",
            OSS_WRITE + OSS_READ,
            (arns.objects(b.reports.name, env.report_prefix),),
            "per-item report parts and summaries; index files are read from here",
        ),
        _logs(env, arns),
    ]
    return PolicyDocument(tuple(statements))


def fc_trigger_policy(env: Environment, arns: Arns) -> PolicyDocument:
    return PolicyDocument(
        (
            Statement(
                "StartUnzipExecutions",
                ("fnf:StartExecution",),
                arns.flow(env.flow_name("unzip")),
                "the trigger starts one unzip execution per uploaded package",
            ),
            _logs(env, arns),
        )
    )


def flow_policy(env: Environment, arns: Arns, flow_names: list[str]) -> PolicyDocument:
    functions = [env.function_name(job) for job in ("copy", "restore", "unzip")]
    statements = [
        Statement(
            "InvokeWorkers",
            ("fc:InvokeFunction",),
            tuple(arn for fn in functions for arn in arns.function(fn)),
            "flow tasks call the copy/restore/unzip functions (not the trigger)",
        ),
        Statement(
            "NotifyUnzipResult",
            ("mns:SendMessage",),
            (arns.queue(env.unzip.notification_queue),),
            "the unzip flow reports its result to the notification queue",
        ),
    ]
    if flow_names:
        statements.append(
            Statement(
                "ContinueOwnFlows",
                ("fnf:StartExecution", "fnf:DescribeExecution", "fnf:StopExecution"),
                tuple(arn for name in flow_names for arn in arns.flow(name)),
                "long jobs continue in a fresh execution of their own flow before the event limit",
            )
        )
    return PolicyDocument(tuple(statements))


def oss_trigger_policy(env: Environment, arns: Arns) -> PolicyDocument:
    return PolicyDocument(
        (
            Statement(
                "InvokeTriggerFunction",
                ("fc:InvokeFunction",),
                arns.function(env.function_name("trigger")),
                "OSS delivers upload events to the trigger function only",
            ),
        )
    )
