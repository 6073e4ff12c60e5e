"""RAM policy documents: parse (Version "1", Statement[Effect, Action, Resource]) and decide.

Decision (RAM's evaluation logic): an explicit Deny that matches wins; otherwise a matching
Allow grants; otherwise the request is denied by default. `Condition`, `NotAction` and
`NotResource` are refused as unsupported rather than ignored: ignoring a Condition would
grant more than the cloud does (docs/localcloud-ram.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum

from .errors import MalformedPolicyDocument, UnsupportedPolicyElement
from .wildcard import compile_any

MAX_DOCUMENT_CHARS = 6144  # CreatePolicy/CreatePolicyVersion: 1..6,144 characters
_UNSUPPORTED = ("Condition", "NotAction", "NotResource")
_KNOWN = {"Effect", "Action", "Resource", "Principal", "Sid"}


class Decision(Enum):
    ALLOW = "Allow"
    DENY = "Deny"  # an explicit Deny statement matched
    IMPLICIT_DENY = "ImplicitDeny"  # nothing matched


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    principal_services: tuple[str, ...] = ()
    _action_re: re.Pattern | None = None
    _resource_re: re.Pattern | None = None

    def matches(self, action: str, resource: str) -> bool:
        return (
            self._action_re.fullmatch(action) is not None
            and self._resource_re.fullmatch(resource) is not None
        )


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]

    def decide(self, action: str, resource: str) -> Decision:
        return decide(self.statements, action, resource)


def decide(statements, action: str, resource: str) -> Decision:
    allowed = False
    for statement in statements:
        if statement.matches(action, resource):
            if statement.effect == "Deny":
                return Decision.DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


@dataclass(frozen=True)
class ActionDecision:
    """`decide` for one action, precompiled: one regex over the resources of every matching
    Deny statement and one over every matching Allow (what a role session checks per request)."""

    deny: re.Pattern | None
    allow: re.Pattern | None

    def decide(self, resource: str) -> Decision:
        if self.deny is not None and self.deny.fullmatch(resource) is not None:
            return Decision.DENY
        if self.allow is not None and self.allow.fullmatch(resource) is not None:
            return Decision.ALLOW
        return Decision.IMPLICIT_DENY


def decision_for(statements, action: str) -> ActionDecision:
    matching = [s for s in statements if s._action_re.fullmatch(action) is not None]
    denied = tuple(r for s in matching if s.effect == "Deny" for r in s.resources)
    allowed = tuple(r for s in matching if s.effect == "Allow" for r in s.resources)
    return ActionDecision(
        compile_any(denied) if denied else None, compile_any(allowed) if allowed else None
    )


def _strings(value, where: str, field: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise MalformedPolicyDocument(
            f"{where}: {field} must be a non-empty string or a list of non-empty strings"
        )
    return tuple(items)


def _statement(raw, index: int, trust: bool) -> Statement:
    where = f"Statement[{index}]"
    if not isinstance(raw, dict):
        raise MalformedPolicyDocument(f"{where} must be an object")
    for name in _UNSUPPORTED:
        if name in raw:
            raise UnsupportedPolicyElement(
                f"{where} uses {name}, which localcloud does not evaluate; remove it or run "
                "this policy in the cloud only"
            )
    unknown = set(raw) - _KNOWN
    if unknown:
        raise MalformedPolicyDocument(f"{where} has unknown element(s) {sorted(unknown)}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicyDocument(f"{where}: Effect must be Allow or Deny, got {effect!r}")
    actions = _strings(raw.get("Action"), where, "Action")
    services: tuple[str, ...] = ()
    if trust:
        principal = raw.get("Principal")
        if not isinstance(principal, dict):
            raise MalformedPolicyDocument(f"{where}: a trust policy statement needs a Principal")
        if "Service" in principal:
            services = _strings(principal["Service"], where, "Principal.Service")
        resources: tuple[str, ...] = ("*",)
    else:
        if "Principal" in raw:
            raise MalformedPolicyDocument(f"{where}: Principal belongs in a trust policy only")
        resources = _strings(raw.get("Resource"), where, "Resource")
    return Statement(
        effect, actions, resources, services, compile_any(actions), compile_any(resources)
    )


def parse_policy(text: str, trust: bool = False) -> PolicyDocument:
    """The document as statements; raises MalformedPolicyDocument naming what is wrong."""
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_DOCUMENT_CHARS:
        raise MalformedPolicyDocument(
            f"the policy document must be 1..{MAX_DOCUMENT_CHARS} characters"
        )
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedPolicyDocument(f"the policy document is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise MalformedPolicyDocument("the policy document must be a JSON object")
    if raw.get("Version") != "1":
        raise MalformedPolicyDocument(
            f'the policy document Version must be "1", got {raw.get("Version")!r}'
        )
    unknown = set(raw) - {"Version", "Statement"}
    if unknown:
        raise MalformedPolicyDocument(
            f"the policy document has unknown element(s) {sorted(unknown)}"
        )
    statements = raw.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicyDocument("the policy document needs a non-empty Statement list")
    return PolicyDocument(tuple(_statement(s, i, trust) for i, s in enumerate(statements)))


def trusts_service(trust: PolicyDocument, service: str) -> bool:
    """True when the trust policy lets `service` (e.g. fc.aliyuncs.com) call sts:AssumeRole."""
    allowed = False
    for statement in trust.statements:
        if not statement.matches("sts:AssumeRole", "*"):
            continue
        if service in statement.principal_services:
            if statement.effect == "Deny":
                return False
            allowed = True
    return allowed
