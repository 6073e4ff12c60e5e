"""SLS log project and store the functions write to."""

from __future__ import annotations

from constructs import Construct

from infra.alicloud import LogProject, LogStore
from ossbatch.config import Environment


class Observability(Construct):
    def __init__(self, scope: Construct, id_: str, *, env: Environment) -> None:
        super().__init__(scope, id_)
        self.project = LogProject(
            self,
            "log_project",
            project_name=env.log.project,
            description=f"ossbatch {env.name}: function logs",
            tags=env.tags,
        )
        self.store = LogStore(
            self,
            "log_store",
            project_name=self.project.name,
            logstore_name=env.log.store,
            retention_period=env.log.retention_days,
            shard_count=env.log.shard_count,
            auto_split=True,
            max_split_shard_count=64,
        )
