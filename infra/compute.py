"""FC 3.0 functions (copy, restore, unzip, trigger) and the OSS trigger on the packages bucket."""

from __future__ import annotations

import json

import cdktf
from constructs import Construct

from infra.alicloud import (
    Fcv3Function,
    Fcv3Trigger,
    FunctionCode,
    FunctionLogConfig,
    OssBucketObject,
)
from infra.identity import Identity
from infra.observability import Observability
from infra.policies import Arns
from infra.storage import Storage
from ossbatch.config import JOBS, UNZIP_PASSWORD_VARIABLE, Environment, FunctionSettings

# OSS events that mean "a new object is complete" (FC OSS trigger event names)
UPLOAD_EVENTS = (
    "oss:ObjectCreated:PutObject",
    "oss:ObjectCreated:PostObject",
    "oss:ObjectCreated:CompleteMultipartUpload",
)


def handler_string(job: str) -> str:
    return f"handlers.{job}.handler"


class Compute(Construct):
    def _environment(self, env: Environment, job: str) -> dict[str, str]:
        variables = env.handler_environment(job)
        if job == "unzip" and env.unzip.password is not None:
            # a sensitive variable: plan output and the state's diff show no password
            secret = cdktf.TerraformVariable(
                self,
                env.unzip.password.terraform_variable,
                type="string",
                sensitive=True,
                description="password of encrypted zip packages (TF_VAR_<this name>)",
            )
            # the name users pass as TF_VAR_<name>, not a construct-path hash
            secret.override_logical_id(env.unzip.password.terraform_variable)
            variables[UNZIP_PASSWORD_VARIABLE] = secret.string_value
        return variables

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        env: Environment,
        arns: Arns,
        storage: Storage,
        identity: Identity,
        logs: Observability,
        code: OssBucketObject,
        code_checksum: str | None,
    ) -> None:
        super().__init__(scope, id_)
        settings: dict[str, FunctionSettings] = {
            "copy": env.copy_job.function,
            "restore": env.restore.function,
            "unzip": env.unzip.function,
            "trigger": env.unzip.trigger_function,
        }
        self.functions: dict[str, Fcv3Function] = {}
        for job in JOBS:
            role = identity.roles["fc-trigger" if job == "trigger" else "fc-worker"]
            self.functions[job] = Fcv3Function(
                self,
                f"function_{job}",
                function_name=env.function_name(job),
                description=f"ossbatch {env.name}: {job}",
                handler=handler_string(job),
                runtime=env.runtime,
                code=FunctionCode(
                    oss_bucket_name=storage.bucket_name("artifacts"),
                    oss_object_name=code.attribute("key"),
                    checksum=code_checksum,
                ),
                memory_size=settings[job].memory_mb,
                timeout=settings[job].timeout_s,
                disk_size=settings[job].disk_mb,
                cpu=settings[job].cpu,
                role=role.arn,
                environment_variables=self._environment(env, job),
                log_config=FunctionLogConfig(
                    project=logs.project.name,
                    logstore=logs.store.name,
                    enable_request_metrics=True,
                    log_begin_rule="DefaultRegex",
                ),
                tags=env.tags,
            )
        self.trigger = Fcv3Trigger(
            self,
            "unzip_upload_trigger",
            function_name=self.functions["trigger"].name,
            qualifier="LATEST",
            trigger_type="oss",
            trigger_name=f"{env.name_prefix}-unzip-upload",
            description="starts the unzip flow for each uploaded package",
            trigger_config=json.dumps(
                {
                    "events": list(UPLOAD_EVENTS),
                    "filter": {
                        "key": {
                            "prefix": env.unzip.watch_prefix,
                            "suffix": env.unzip.watch_suffix,
                        }
                    },
                },
                sort_keys=True,
            ),
            # a reference to the managed bucket: the trigger is created after the bucket
            source_arn=arns.oss_trigger_source(storage.bucket_name("packages")),
            invocation_role=identity.roles["oss-trigger"].arn,
        )
