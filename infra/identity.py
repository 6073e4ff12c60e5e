"""RAM roles with custom least-privilege policies (documents in infra/policies.py)."""

from __future__ import annotations

from constructs import Construct

from infra import policies
from infra.alicloud import RamPolicy, RamRole, RamRolePolicyAttachment
from infra.validation import role_names
from ossbatch.config import Environment

TRUSTED_SERVICE = {
    "fc-worker": "fc.aliyuncs.com",
    "fc-trigger": "fc.aliyuncs.com",
    "flow": "fnf.aliyuncs.com",
    "oss-trigger": "oss.aliyuncs.com",
}


class Identity(Construct):
    """One role per principal; each gets exactly one custom policy."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        env: Environment,
        arns: policies.Arns,
        flow_names: list[str],
    ) -> None:
        super().__init__(scope, id_)
        self.documents: dict[str, policies.PolicyDocument] = {
            "fc-worker": policies.fc_worker_policy(env, arns),
            "fc-trigger": policies.fc_trigger_policy(env, arns),
            "flow": policies.flow_policy(env, arns, flow_names),
            "oss-trigger": policies.oss_trigger_policy(env, arns),
        }
        self.roles: dict[str, RamRole] = {}
        for kind, role_name in role_names(env).items():
            rid = kind.replace("-", "_")
            role = RamRole(
                self,
                f"role_{rid}",
                role_name=role_name,
                assume_role_policy_document=policies.trust_policy(TRUSTED_SERVICE[kind]),
                description=f"ossbatch {env.name}: {kind}",
                force=True,
                tags=env.tags,
            )
            policy = RamPolicy(
                self,
                f"policy_{rid}",
                policy_name=f"{role_name}-policy",
                policy_document=self.documents[kind].to_json(),
                description=f"ossbatch {env.name}: least privilege for {kind}",
                force=True,
                tags=env.tags,
            )
            RamRolePolicyAttachment(
                self,
                f"attach_{rid}",
                policy_name=policy.name,
                policy_type="Custom",
                role_name=role.name,
            )
            self.roles[kind] = role
