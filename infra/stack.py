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
from infra.storage import Storage
from infra.workflows import Workflows
from ossbatch.config import BUCKET_ROLES, PROJECT_ROOT, Environment
from ossbatch.deployment import Deployment, DeploymentError, cloud_target, deployment


def stack_name(env: Environment) -> str:
    return f"ossbatch-{env.name}"


class OssbatchStack(cdktf.TerraformStack):
    def __init__(
        self,
        scope: Construct,
        env: Environment,
        *,
        package: CodePackage | None,
        flows_dir: Path = PROJECT_ROOT / "flows",
    ) -> None:
        validation.validate(env, validation.flow_files(flows_dir))
        super().__init__(scope, stack_name(env))
        self.env = env
        AlicloudProvider(self, "alicloud", region=env.region)
        self._backend(env)
        account = env.account_id or AccountData(self, "current").account_id
        try:
            self.deployment: Deployment = deployment(env, cloud_target(env, account), flows_dir)
        except DeploymentError as exc:
            raise validation.StackValidationError(f"cannot synthesize:\n  {exc}") from None
        plan, tags = self.deployment, env.tags

        self.storage = Storage(self, "storage", env=env, deployment=plan)
        self.logs = Observability(self, "observability", env=env)
        self.messaging = Messaging(self, "messaging", deployment=plan, tags=tags)
        self.identity = Identity(self, "identity", deployment=plan, tags=tags)
        code = self.storage.code_object(package)
        self.compute = Compute(
            self,
            "compute",
            deployment=plan,
            storage=self.storage,
            identity=self.identity,
            logs=self.logs,
            code=code,
            code_checksum=package.crc64 if package else None,
            tags=tags,
        )
        self.workflows = Workflows(self, "workflows", deployment=plan, identity=self.identity)
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
        for kind, function in self.compute.functions.items():
            cdktf.TerraformOutput(self, f"function_{kind}_arn", value=function.function_arn)
        cdktf.TerraformOutput(self, "log_project", value=self.logs.project.name)
