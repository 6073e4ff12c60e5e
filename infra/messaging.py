"""MNS queues (the unzip notification queue and its dead-letter queue), from the Deployment."""

from __future__ import annotations

from constructs import Construct

from infra.alicloud import DlqPolicy, MessageServiceQueue
from ossbatch.deployment import Deployment


class Messaging(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, deployment: Deployment, tags: dict[str, str]
    ) -> None:
        super().__init__(scope, id_)
        self.queues: dict[str, MessageServiceQueue] = {}
        by_name: dict[str, MessageServiceQueue] = {}
        # dead-letter targets first: the redrive policy references them
        for queue in sorted(deployment.queues, key=lambda q: q.dead_letter_queue is not None):
            target = by_name.get(queue.dead_letter_queue) if queue.dead_letter_queue else None
            self.queues[queue.role] = by_name[queue.name] = MessageServiceQueue(
                self,
                "dead_letter_queue" if queue.role == "dead_letters" else "notification_queue",
                queue_name=queue.name,
                message_retention_period=queue.message_retention_s,
                visibility_timeout=queue.visibility_timeout_s,
                polling_wait_seconds=queue.polling_wait_s,
                dlq_policy=DlqPolicy(
                    enabled=True,
                    dead_letter_target_queue=target.name,
                    max_receive_count=queue.max_receive_count,
                )
                if target is not None
                else None,
                tags=tags,
            )

    @property
    def notifications(self) -> MessageServiceQueue:
        return self.queues["notifications"]

    @property
    def dead_letter(self) -> MessageServiceQueue:
        return self.queues["dead_letters"]
