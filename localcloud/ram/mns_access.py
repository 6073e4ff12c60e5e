"""MNS and RAM: the RAM action and resource of each MNS data-plane request, and role-session
credentials for MNS's signature check (the SDK sends the STS token as `security-token`).

Resources (MNS "RAM policy" docs): messages `acs:mns:<region>:<uid>:/queues/<q>/messages`,
a queue `acs:mns:<region>:<uid>:/queues/<q>`, the queue list `acs:mns:<region>:<uid>:/queues`.
"""

from __future__ import annotations

from localcloud.mns.errors import AuthError

from .sessions import RoleSession, SessionIssuer


def required(method: str, path: str, query: dict, body: bytes, region: str, uid: str):
    parts = [p for p in path.split("/") if p]
    base = f"acs:mns:{region}:{uid}:/queues"
    if len(parts) == 1:
        return [("mns:ListQueue", base)]
    queue = f"{base}/{parts[1]}"
    if len(parts) == 2:
        action = {
            "PUT": "mns:SetQueueAttributes"
            if query.get("metaoverride") == "true"
            else "mns:CreateQueue",
            "GET": "mns:GetQueueAttributes",
            "DELETE": "mns:DeleteQueue",
        }.get(method, f"mns:{method}Queue")
        return [(action, queue)]
    batch = body.lstrip().startswith(b"<?xml") and b"<Messages" in body[:200]
    if method == "POST":
        action = "mns:BatchSendMessage" if batch else "mns:SendMessage"
    elif method == "GET":
        if query.get("peekonly") == "true":
            action = "mns:BatchPeekMessage" if "numOfMessages" in query else "mns:PeekMessage"
        else:
            action = "mns:BatchReceiveMessage" if "numOfMessages" in query else "mns:ReceiveMessage"
    elif method == "DELETE":
        action = "mns:DeleteMessage" if query.get("ReceiptHandle") else "mns:BatchDeleteMessage"
    else:
        action = "mns:ChangeMessageVisibility"
    return [(action, f"{queue}/messages")]


def session_of(sessions: SessionIssuer, headers) -> RoleSession | None:
    """The role session of an `MNS STS.<id>:<sig>` request (token checked), else None."""
    scheme, _, rest = (headers.get("authorization") or "").partition(" ")
    key_id = rest.rpartition(":")[0]
    if scheme != "MNS" or not key_id.startswith("STS."):
        return None
    session = sessions.lookup(key_id)
    if session is None:
        return None
    if headers.get("security-token") != session.security_token or sessions.expired(session):
        raise AuthError(
            "The security token you provided is invalid or has expired: role credentials need "
            "the security-token they were issued with."
        )
    return session


def authorize(sessions: SessionIssuer, session: RoleSession, needs) -> None:
    denial = sessions.check(session, needs)
    if denial is not None:
        raise AuthError(f"AccessDenied: {denial.describe(session)}.")
