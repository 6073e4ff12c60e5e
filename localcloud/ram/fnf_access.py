"""CloudFlow (fnf 2019-03-15) and RAM: the RAM action and resource of each fnf API call, and
role-session credentials for the RPC signature (the SDK sends the token as `SecurityToken`).

fnf:StartExecution: the API page lists its resource type as "All Resource" and says any other
form makes the policy ineffective (alibabacloud.com/help/en/doc-detail/122628). By default
localcloud therefore evaluates it against the literal resource `*`: only a statement whose
Resource is "*" grants it. The execution-role guide shows
`acs:fnf:*:<uid>:flows/<flow>/executions/*`; `localcloud serve --fnf-start-execution-resource
execution` selects that reading (resource `acs:fnf:<region>:<uid>:flows/<flow>/executions/<name>`).
"""

from __future__ import annotations

from localcloud.flow.api_errors import FnfApiError

from .sessions import RoleSession, SessionIssuer

ALL_RESOURCES = "all"
EXECUTION_ARN = "execution"
START_EXECUTION_READINGS = (ALL_RESOURCES, EXECUTION_ARN)


class AccessDenied(FnfApiError):
    status, code = 403, "AccessDenied"


def start_execution_resource(reading: str, region: str, uid: str, params: dict) -> str:
    if reading == EXECUTION_ARN:
        name = params.get("ExecutionName") or "*"
        return f"acs:fnf:{region}:{uid}:flows/{params.get('FlowName', '')}/executions/{name}"
    return "*"


def required(action: str, params: dict, region: str, uid: str, reading: str):
    flow = f"acs:fnf:{region}:{uid}:flow/{params.get('FlowName') or params.get('Name') or '*'}"
    if action == "StartExecution":
        return [("fnf:StartExecution", start_execution_resource(reading, region, uid, params))]
    if action in ("DescribeExecution", "StopExecution", "GetExecutionHistory"):
        return [(f"fnf:{action}", f"{flow}/execution/{params.get('ExecutionName', '')}")]
    if action in ("ReportTaskSucceeded", "ReportTaskFailed"):
        return [(f"fnf:{action}", "*")]
    return [(f"fnf:{action}", flow)]


def session_of(sessions: SessionIssuer, params: dict) -> RoleSession | None:
    key_id = params.get("AccessKeyId") or ""
    session = sessions.lookup(key_id) if key_id.startswith("STS.") else None
    if session is None:
        return None
    if params.get("SecurityToken") != session.security_token or sessions.expired(session):
        raise AccessDenied(
            "the SecurityToken is invalid or has expired: role credentials need the token "
            "they were issued with"
        )
    return session


def authorize(sessions: SessionIssuer, session: RoleSession, needs) -> None:
    denial = sessions.check(session, needs)
    if denial is not None:
        raise AccessDenied(denial.describe(session))
