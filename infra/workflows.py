"""CloudFlow flows, rendered from the Deployment (Terraform interpolation escaped)."""

from __future__ import annotations

from constructs import Construct

from infra.alicloud import FnfFlow
from infra.alicloud.base import multiline
from infra.identity import Identity
from ossbatch.deployment import Deployment


def escape_interpolation(text: str) -> str:
    """Terraform would evaluate `${..}` and `%{..}` inside strings: keep them literal."""
    return text.replace("${", "$${").replace("%{", "%%{")


class Workflows(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, deployment: Deployment, identity: Identity
    ) -> None:
        super().__init__(scope, id_)
        self.flows: dict[str, FnfFlow] = {}
        for flow in deployment.flows:
            self.flows[flow.kind] = FnfFlow(
                self,
                "flow_" + flow.kind.replace("-", "_"),
                name=flow.name,
                definition=multiline(escape_interpolation(flow.definition)),
                description=flow.description,
                type=flow.flow_type,
                role_arn=flow.role_arn,
                # executions act as the flow role from the first one on
                depends_on=identity.grants(flow.role),
            )
