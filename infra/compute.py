"""FC 3.0 functions and the OSS trigger on the packages bucket, rendered from the Deployment."""

from __future__ import annotations

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
from infra.storage import Storage
from ossbatch.deployment import Deployment, Function


class Compute(Construct):
    def _environment(self, fn: Function) -> dict[str, str]:
        variables = dict(fn.environment)
        for secret in fn.secrets:
            # a sensitive variable: plan output and the state's diff show no value
            value = cdktf.TerraformVariable(
                self,
                secret.terraform_variable,
                type="string",
                sensitive=True,
                description=f"{secret.variable} of {fn.name} (pass TF_VAR_{secret.terraform_variable})",
            )
            # the name users pass as TF_VAR_<name>, not a construct-path hash
            value.override_logical_id(secret.terraform_variable)
            variables[secret.variable] = value.string_value
        return variables

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        deployment: Deployment,
        storage: Storage,
        identity: Identity,
        logs: Observability,
        code: OssBucketObject,
        code_checksum: str | None,
        tags: dict[str, str],
    ) -> None:
        super().__init__(scope, id_)
        self.functions: dict[str, Fcv3Function] = {}
        for fn in deployment.functions:
            self.functions[fn.kind] = Fcv3Function(
                self,
                f"function_{fn.kind}",
                function_name=fn.name,
                description=fn.description,
                handler=fn.handler,
                runtime=fn.runtime,
                code=FunctionCode(
                    oss_bucket_name=storage.bucket_name("artifacts"),
                    oss_object_name=code.attribute("key"),
                    checksum=code_checksum,
                ),
                memory_size=fn.memory_mb,
                timeout=fn.timeout_s,
                disk_size=fn.disk_mb,
                cpu=fn.cpu,
                role=fn.role_arn,
                environment_variables=self._environment(fn),
                log_config=FunctionLogConfig(
                    project=logs.project.name,
                    logstore=logs.store.name,
                    enable_request_metrics=True,
                    log_begin_rule="DefaultRegex",
                ),
                tags=tags,
                # FC checks the role when it creates the function: its policy must be attached
                depends_on=identity.grants(fn.role),
            )
        trigger = deployment.trigger
        kind = next(f.kind for f in deployment.functions if f.name == trigger.function)
        self.trigger = Fcv3Trigger(
            self,
            "unzip_upload_trigger",
            function_name=self.functions[kind].name,
            qualifier=trigger.qualifier,
            trigger_type=trigger.trigger_type,
            trigger_name=trigger.name,
            description=trigger.description,
            trigger_config=trigger.config_json,
            source_arn=trigger.source_arn,
            invocation_role=trigger.invocation_role_arn,
            # after the bucket exists and OSS may act as the invocation role
            depends_on=[
                *storage.managed(trigger.source_bucket),
                *identity.grants(trigger.invocation_role),
            ],
        )
