"""MNS queues: the unzip notification queue and its dead-letter queue."""

from __future__ import annotations

from constructs import Construct

from infra.alicloud import DlqPolicy, MessageServiceQueue
from ossbatch.config import Environment

MAX_RETENTION_S = 604_800  # 7 days, the MNS maximum: keep failed notifications for inspection


class Messaging(Construct):
    def __init__(self, scope: Construct, id_: str, *, env: Environment) -> None:
        super().__init__(scope, id_)
        self.dead_letter = MessageServiceQueue(
            self,
            "dead_letter_queue",
            queue_name=env.unzip.dead_letter_queue,
            message_retention_period=MAX_RETENTION_S,
            tags=env.tags,
        )
        self.notifications = MessageServiceQueue(
            self,
            "notification_queue",
            queue_name=env.unzip.notification_queue,
            message_retention_period=MAX_RETENTION_S,
            visibility_timeout=60,
            polling_wait_seconds=30,
            dlq_policy=DlqPolicy(
                enabled=True,
                dead_letter_target_queue=self.dead_letter.name,
                max_receive_count=env.unzip.max_receive_count,
            ),
            tags=env.tags,
        )
