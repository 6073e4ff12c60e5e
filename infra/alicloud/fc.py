"""Function Compute 3.0 bindings: function and trigger."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from constructs import Construct

from infra.alicloud.base import AlicloudResource, Block


@dataclass(frozen=True)
class FunctionCode(Block):
    oss_bucket_name: str | None = None
    oss_object_name: str | None = None
    checksum: str | None = None  # CRC-64/ECMA of the zip, decimal
    zip_file: str | None = None


@dataclass(frozen=True)
class FunctionLogConfig(Block):
    project: str
    logstore: str
    enable_request_metrics: bool | None = None
    enable_instance_metrics: bool | None = None
    log_begin_rule: Literal["DefaultRegex", "None"] | None = None


class Fcv3Function(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_fcv3_function"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        function_name: str,
        handler: str,
        runtime: Literal["python3.10", "python3.12"],
        code: FunctionCode,
        memory_size: int,
        timeout: int,
        disk_size: Literal[512, 10240] | None = None,
        cpu: float | None = None,
        role: str | None = None,
        description: str | None = None,
        environment_variables: Mapping[str, str] | None = None,
        log_config: FunctionLogConfig | None = None,
        instance_concurrency: int | None = None,
        internet_access: bool | None = None,
        tags: Mapping[str, str] | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(
            function_name=function_name,
            handler=handler,
            runtime=runtime,
            code=code,
            memory_size=memory_size,
            timeout=timeout,
            disk_size=disk_size,
            cpu=cpu,
            role=role,
            description=description,
            environment_variables=dict(environment_variables) if environment_variables else None,
            log_config=log_config,
            instance_concurrency=instance_concurrency,
            internet_access=internet_access,
            tags=dict(tags) if tags else None,
        )

    @property
    def function_arn(self) -> str:
        return self.attribute("function_arn")

    @property
    def name(self) -> str:
        return self.attribute("function_name")


class Fcv3Trigger(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_fcv3_trigger"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        function_name: str,
        qualifier: str,
        trigger_type: Literal["oss", "log", "http", "timer", "mns_topic", "eventbridge"],
        trigger_name: str | None = None,
        trigger_config: str | None = None,
        source_arn: str | None = None,
        invocation_role: str | None = None,
        description: str | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(
            function_name=function_name,
            qualifier=qualifier,
            trigger_type=trigger_type,
            trigger_name=trigger_name,
            trigger_config=trigger_config,
            source_arn=source_arn,
            invocation_role=invocation_role,
            description=description,
        )
