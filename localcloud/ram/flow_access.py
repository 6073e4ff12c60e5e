"""CloudFlow executions act with their flow's role: before a task calls FC, MNS or FnF, the
flow's RoleArn is assumed (it must trust fnf.aliyuncs.com) and the task's RAM action and
resource are authorized, as CloudFlow does with the execution role."""

from __future__ import annotations

from localcloud.flow.errors import FlowError
from localcloud.flow.spec import FC_ARN_RE, FNF_ARN_RE, MNS_ARN_RE

from .fc_access import function_arn
from .fnf_access import start_execution_resource
from .sessions import AssumeRoleError

FLOW_PRINCIPAL = "fnf.aliyuncs.com"
# task Action -> (error prefix, RAM action)
TASK_ACTIONS = {
    "FC:InvokeFunction": ("FC", "fc:InvokeFunction"),
    "MNS:SendMessage": ("MNS", "mns:SendMessage"),
    "FNF:StartExecution": ("FnF", "fnf:StartExecution"),
}


def task_resource(action: str, params: dict, region: str, uid: str, reading: str) -> str | None:
    """The resource the task acts on; None when the ARN is malformed (the integration says so)."""
    arn = params.get("resourceArn")
    arn = arn if isinstance(arn, str) else ""
    if action == "FC:InvokeFunction":
        match = FC_ARN_RE.match(arn)
        return function_arn(region, uid, match.group(3), match.group(4)) if match else None
    if action == "MNS:SendMessage":
        match = MNS_ARN_RE.match(arn)
        return f"acs:mns:{region}:{uid}:/queues/{match.group(3)}/messages" if match else None
    match = FNF_ARN_RE.match(arn)
    if match is None:
        return None
    name = params.get("executionName")
    fields = {"FlowName": match.group(3), "ExecutionName": name if isinstance(name, str) else ""}
    return start_execution_resource(reading, region, uid, fields)


def guard_integrations(integrations: dict, ram, region: str, uid: str) -> dict:
    """The same integrations, each first authorizing the execution's role for its call."""
    return {
        action: _guarded(action, call, ram, region, uid) if action in TASK_ACTIONS else call
        for action, call in integrations.items()
    }


def _guarded(action: str, call, ram, region: str, uid: str):
    prefix, ram_action = TASK_ACTIONS[action]
    denied = f"{prefix}.AccessDenied"

    def authorized(params: dict, task_mode: str, env):
        resource = task_resource(action, params, region, uid, ram.fnf_start_execution_reading)
        if resource is None:
            return call(params, task_mode, env)
        if not env.role_arn:
            if ram.roleless_owner_credentials:
                return call(params, task_mode, env)
            raise FlowError(
                denied,
                f"the flow has no RoleArn, so its execution may not call {ram_action} on "
                f"{resource}; set RoleArn (a role trusting {FLOW_PRINCIPAL})",
            )
        try:
            session = ram.sessions.assume_role(env.role_arn, FLOW_PRINCIPAL)
        except AssumeRoleError as exc:
            raise FlowError(denied, f"the flow's RoleArn cannot be assumed: {exc}") from None
        denial = ram.sessions.check(session, [(ram_action, resource)])
        if denial is not None:
            raise FlowError(denied, denial.describe(session))
        return call(params, task_mode, env)

    return authorized
