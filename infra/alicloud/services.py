"""CloudFlow, MNS, SLS bindings and the `alicloud_account` data source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from constructs import Construct

from infra.alicloud.base import AlicloudDataSource, AlicloudResource, Block


class FnfFlow(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_fnf_flow"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        definition: str,
        description: str,
        type: Literal["FDL", "DEFAULT"],  # noqa: A002 - the provider's argument name
        role_arn: str | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(
            name=name, definition=definition, description=description, type=type, role_arn=role_arn
        )

    @property
    def flow_name(self) -> str:
        return self.attribute("name")


@dataclass(frozen=True)
class DlqPolicy(Block):
    enabled: bool
    dead_letter_target_queue: str | None = None
    max_receive_count: int | None = None


class MessageServiceQueue(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_message_service_queue"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        queue_name: str,
        delay_seconds: int | None = None,
        maximum_message_size: int | None = None,
        message_retention_period: int | None = None,
        visibility_timeout: int | None = None,
        polling_wait_seconds: int | None = None,
        logging_enabled: bool | None = None,
        dlq_policy: DlqPolicy | None = None,
        tags: Mapping[str, str] | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(
            queue_name=queue_name,
            delay_seconds=delay_seconds,
            maximum_message_size=maximum_message_size,
            message_retention_period=message_retention_period,
            visibility_timeout=visibility_timeout,
            polling_wait_seconds=polling_wait_seconds,
            logging_enabled=logging_enabled,
            dlq_policy=dlq_policy,
            tags=dict(tags) if tags else None,
        )

    @property
    def name(self) -> str:
        return self.attribute("queue_name")


class LogProject(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_log_project"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project_name: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(
            project_name=project_name, description=description, tags=dict(tags) if tags else None
        )

    @property
    def name(self) -> str:
        return self.attribute("project_name")


class LogStore(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_log_store"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project_name: str,
        logstore_name: str,
        retention_period: int | None = None,
        shard_count: int | None = None,
        auto_split: bool | None = None,
        max_split_shard_count: int | None = None,
        append_meta: bool | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(
            project_name=project_name,
            logstore_name=logstore_name,
            retention_period=retention_period,
            shard_count=shard_count,
            auto_split=auto_split,
            max_split_shard_count=max_split_shard_count,
            append_meta=append_meta,
        )

    @property
    def name(self) -> str:
        return self.attribute("logstore_name")


class AccountData(AlicloudDataSource):
    """`data "alicloud_account"`: the caller's account id (attribute `id`)."""

    TERRAFORM_TYPE = "alicloud_account"

    @property
    def account_id(self) -> str:
        return self.get_string_attribute("id")
