"""One stack per environment: `ossbatch-<env>`, built from an `Environment`."""

from __future__ import annotations

from pathlib import Path

import cdktf
from constructs import Construct

from infra import validation
from infra.alicloud import AccountData, AlicloudProvider
from infra.compute import Compute
from infra.identity import Identity
from infra.messaging import Messaging
from infra.observability import Observability
from infra.package import CodePackage
from infra.policies import Arns
from infra.storage import Storage
from infra.workflows import Workflows
from ossbatch.config import BUCKET_ROLES, JOBS, Environment


def stack_name(env: Environment) -> str:
    return f"ossbatch-{env.name}"


class OssbatchStack(cdktf.TerraformStack):
    def __init__(
        self,
        scope: Construct,
        env: Environment,
        *,
        flow_files: list[Path],
        package: CodePackage | None,
    ) -> None:
        validation.validate(env, flow_files)
        super().__init__(scope, stack_name(env))
        self.env = env
        AlicloudProvider(self, "alicloud", region=env.region)
        self._backend(env)
        account = env.account_id or AccountData(self, "current").account_id
        arns = Arns(region=env.region, account=account)
        flow_names = [env.flow_name(path.stem) for path in flow_files]

        self.storage = Storage(self, "storage", env=env)
        self.logs = Observability(self, "observability", env=env)
        self.messaging = Messaging(self, "messaging", env=env)
        self.identity = Identity(self, "identity", env=env, arns=arns, flow_names=flow_names)
        code = self.storage.code_object(package)
        self.compute = Compute(
            self,
            "compute",
            env=env,
            arns=arns,
            storage=self.storage,
            identity=self.identity,
            logs=self.logs,
            code=code,
            code_checksum=package.crc64 if package else None,
        )
        self.workflows = Workflows(
            self,
            "workflows",
            env=env,
            flow_files=flow_files,
            role_arn=self.identity.roles["flow"].arn,
        )
        self._outputs()

    def _backend(self, env: Environment) -> None:
        if env.state is None:
            cdktf.LocalBackend(self, path="terraform.tfstate")
            return
        cdktf.OssBackend(
            self,
            bucket=env.state.bucket,
            prefix=env.state.prefix,
            key=env.state.key,
            region=env.state_region,
            tablestore_endpoint=env.state.tablestore_endpoint,
            tablestore_table=env.state.tablestore_table,
            encrypt=env.state.encrypt,
            acl="private",
        )

    def _outputs(self) -> None:
        for role in BUCKET_ROLES:
            cdktf.TerraformOutput(self, f"bucket_{role}", value=self.storage.bucket_name(role))
        for stem, flow in self.workflows.flows.items():
            cdktf.TerraformOutput(self, f"flow_{stem.replace('-', '_')}", value=flow.flow_name)
        cdktf.TerraformOutput(self, "queue_notifications", value=self.messaging.notifications.name)
        cdktf.TerraformOutput(self, "queue_dead_letter", value=self.messaging.dead_letter.name)
        for job in JOBS:
            cdktf.TerraformOutput(
                self, f"function_{job}_arn", value=self.compute.functions[job].function_arn
            )
        cdktf.TerraformOutput(self, "log_project", value=self.logs.project.name)
