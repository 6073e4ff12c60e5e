"""RAM roles, each with its one custom least-privilege policy, rendered from the Deployment."""

from __future__ import annotations

from constructs import Construct

from infra.alicloud import RamPolicy, RamRole, RamRolePolicyAttachment
from ossbatch.deployment import Deployment

# RAM keeps 5 versions of a policy: without rotation the 6th change fails at apply
ROTATE_STRATEGY = "DeleteOldestNonDefaultVersionWhenLimitExceeded"


class Identity(Construct):
    """One role per principal; each gets exactly one custom policy."""

    def __init__(
        self, scope: Construct, id_: str, *, deployment: Deployment, tags: dict[str, str]
    ) -> None:
        super().__init__(scope, id_)
        self.roles: dict[str, RamRole] = {}
        self.attachments: dict[str, RamRolePolicyAttachment] = {}
        for role in deployment.roles:
            rid = role.key.replace("-", "_")
            ram_role = RamRole(
                self,
                f"role_{rid}",
                role_name=role.name,
                assume_role_policy_document=role.trust_policy,
                description=role.description,
                force=True,
                tags=tags,
            )
            policy = RamPolicy(
                self,
                f"policy_{rid}",
                policy_name=role.policy_name,
                policy_document=role.policy_document,
                description=role.policy_description,
                force=True,
                rotate_strategy=ROTATE_STRATEGY,
                tags=tags,
            )
            self.attachments[role.key] = RamRolePolicyAttachment(
                self,
                f"attach_{rid}",
                policy_name=policy.name,
                policy_type="Custom",
                role_name=ram_role.name,
            )
            self.roles[role.key] = ram_role

    def grants(self, *keys: str) -> list[RamRolePolicyAttachment]:
        """What must exist before something acts as these roles: their policy attachments."""
        return [self.attachments[key] for key in keys]
