"""RAM semantics: roles (with trust policies), custom policies (at most 5 versions), their
attachments to roles, and the compiled statements each role is authorized by. No HTTP here."""

from __future__ import annotations

import re
import threading
import time
import uuid
from pathlib import Path

from . import errors
from .policy import ActionDecision, PolicyDocument, Statement, decision_for, parse_policy
from .sessions import SessionIssuer
from .store import Policy, PolicyVersion, RamStore, Role

MAX_POLICY_VERSIONS = 5  # RAM keeps at most 5 versions of a custom policy
ROTATE = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
_ROLE_NAME = re.compile(r"[A-Za-z0-9.\-]+")
_POLICY_NAME = re.compile(r"[A-Za-z0-9\-]+")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _check_name(value: str, field: str, pattern: re.Pattern, limit: int) -> str:
    if not value:
        raise errors.MissingParameter(field)
    if len(value) > limit:
        raise errors.InvalidName(
            field, "Length", f"The {field} {value[:40]!r}... is longer than {limit} characters."
        )
    if not pattern.fullmatch(value):
        raise errors.InvalidName(
            field, "InvalidChars", f"The {field} {value!r} contains invalid characters."
        )
    return value


class RamService:
    def __init__(
        self,
        data_dir: Path,
        account_id: str,
        enforce: bool = True,
        clock=time.time,
        fnf_start_execution_reading: str = "all",
    ):
        self.account_id = account_id
        self.enforce = enforce
        # how fnf:StartExecution's resource is read (localcloud/ram/fnf_access.py)
        self.fnf_start_execution_reading = fnf_start_execution_reading
        # FC 3.0: a function without a role gets no credentials; a trigger or flow without a
        # role may call nothing (True restores the owner's keys; nothing sets it any more)
        self.roleless_owner_credentials = False
        self.store = RamStore(Path(data_dir))
        self.roles, self.policies, self.attached = self.store.load()
        self._lock = threading.RLock()
        self._compiled: dict[str, tuple[Statement, ...]] = {}
        self._decisions: dict[str, dict[str, ActionDecision]] = {}
        self.sessions = SessionIssuer(self, clock=clock)

    def counters_snapshot(self) -> dict:
        """For the admin /counters endpoint: requests denied, by role (lower-cased) and action."""
        return {"denied": self.sessions.denied_snapshot()}

    def reset_counters(self) -> None:
        self.sessions.reset_denied()

    # ---- roles ---------------------------------------------------------------------------
    def role_arn(self, role: Role) -> str:
        return f"acs:ram::{self.account_id}:role/{role.name.lower()}"

    def get_role(self, name: str) -> Role:
        role = self.roles.get(name.lower())
        if role is None:
            raise errors.EntityNotExistRole(name)
        return role

    def create_role(self, name: str, trust_document: str, description: str = "") -> Role:
        _check_name(name, "RoleName", _ROLE_NAME, 64)
        if not trust_document:
            raise errors.MissingParameter("AssumeRolePolicyDocument")
        parse_policy(trust_document, trust=True)
        with self._lock:
            if name.lower() in self.roles:
                raise errors.EntityAlreadyExistsRole(name)
            now = _now()
            role = Role(name, str(uuid.uuid4().int)[:19], trust_document, description, now, now)
            self.roles[name.lower()] = role
            self.store.put_role(name.lower(), role)
            return role

    def update_role(
        self, name: str, trust_document: str | None = None, description: str | None = None
    ) -> Role:
        if trust_document is not None:
            parse_policy(trust_document, trust=True)
        with self._lock:
            role = self.get_role(name)
            if trust_document is not None:
                role.assume_role_policy_document = trust_document
            if description is not None:
                role.description = description
            role.update_date = _now()
            self.store.put_role(name.lower(), role)
            return role

    def delete_role(self, name: str) -> None:
        with self._lock:
            self.get_role(name)
            if self.attached.get(name.lower()):
                raise errors.DeleteConflictRolePolicy(name)
            del self.roles[name.lower()]
            self.store.delete_role(name.lower())
            self.sessions.revoke_role(name.lower())

    def trust_of(self, role: Role) -> PolicyDocument:
        return parse_policy(role.assume_role_policy_document, trust=True)

    # ---- policies ------------------------------------------------------------------------
    def get_policy(self, name: str) -> Policy:
        policy = self.policies.get(name)
        if policy is None:
            raise errors.EntityNotExistPolicy(name)
        return policy

    def create_policy(self, name: str, document: str, description: str = "") -> Policy:
        _check_name(name, "PolicyName", _POLICY_NAME, 128)
        if not document:
            raise errors.MissingParameter("PolicyDocument")
        parse_policy(document)
        with self._lock:
            if name in self.policies:
                raise errors.EntityAlreadyExistsPolicy(name)
            now = _now()
            policy = Policy(
                name, description, now, now, "v1", 2, [PolicyVersion("v1", document, now)]
            )
            self.policies[name] = policy
            self.store.put_policy(policy)
            return policy

    def create_policy_version(
        self, name: str, document: str, set_as_default: bool = False, rotate_strategy: str = ""
    ) -> PolicyVersion:
        if rotate_strategy not in ("", "None", ROTATE):
            raise errors.InvalidParameter(
                f"RotateStrategy must be None or {ROTATE}, got {rotate_strategy!r}"
            )
        if not document:
            raise errors.MissingParameter("PolicyDocument")
        parse_policy(document)
        with self._lock:
            policy = self.get_policy(name)
            if len(policy.versions) >= MAX_POLICY_VERSIONS:
                if rotate_strategy != ROTATE:
                    raise errors.LimitExceededPolicyVersion(name, MAX_POLICY_VERSIONS)
                oldest = next(v for v in policy.versions if v.version_id != policy.default_version)
                policy.versions.remove(oldest)
            version = PolicyVersion(f"v{policy.next_version}", document, _now())
            policy.next_version += 1
            policy.versions.append(version)
            if set_as_default:
                policy.default_version = version.version_id
            policy.update_date = version.create_date
            self.store.put_policy(policy)
            self._compiled.clear()
            self._decisions.clear()
            return version

    def delete_policy(self, name: str, cascading: bool = False) -> None:
        with self._lock:
            policy = self.get_policy(name)
            roles = [r for r, names in self.attached.items() if name in names]
            if roles and not cascading:
                raise errors.DeleteConflictPolicyRole(name)
            if len(policy.versions) > 1 and not cascading:
                raise errors.DeleteConflictPolicyVersion(name)
            for role_key in roles:
                del self.attached[role_key][name]
            del self.policies[name]
            self.store.delete_policy(name)
            self._compiled.clear()
            self._decisions.clear()

    def attachment_count(self, name: str) -> int:
        return sum(1 for names in self.attached.values() if name in names)

    # ---- attachments ---------------------------------------------------------------------
    @staticmethod
    def _custom(policy_type: str) -> None:
        if policy_type != "Custom":
            raise errors.InvalidParameter(
                f"PolicyType {policy_type!r}: localcloud has only Custom policies (no System "
                "policies exist locally)"
            )

    def attach_policy_to_role(self, policy_type: str, policy_name: str, role_name: str) -> None:
        self._custom(policy_type)
        with self._lock:
            self.get_policy(policy_name)
            role = self.get_role(role_name)
            names = self.attached.setdefault(role.name.lower(), {})
            if policy_name in names:
                raise errors.EntityAlreadyExistsRolePolicy(role.name, policy_name)
            names[policy_name] = _now()
            self.store.attach(role.name.lower(), policy_name, names[policy_name])
            self._compiled.pop(role.name.lower(), None)
            self._decisions.pop(role.name.lower(), None)

    def detach_policy_from_role(self, policy_type: str, policy_name: str, role_name: str) -> None:
        self._custom(policy_type)
        with self._lock:
            self.get_policy(policy_name)
            role = self.get_role(role_name)
            names = self.attached.get(role.name.lower(), {})
            if policy_name not in names:
                raise errors.EntityNotExistRolePolicy(role.name, policy_name)
            del names[policy_name]
            self.store.detach(role.name.lower(), policy_name)
            self._compiled.pop(role.name.lower(), None)
            self._decisions.pop(role.name.lower(), None)

    def policies_for_role(self, role_name: str) -> list[tuple[Policy, str]]:
        role = self.get_role(role_name)
        names = self.attached.get(role.name.lower(), {})
        return [(self.policies[n], date) for n, date in names.items() if n in self.policies]

    # ---- authorization -------------------------------------------------------------------
    def decision(self, role_key: str, action: str) -> ActionDecision:
        """The role's precompiled decision for one action (cached until RAM state changes)."""
        try:
            return self._decisions[role_key][action]
        except KeyError:
            by_action = self._decisions.setdefault(role_key, {})
            decision = by_action[action] = decision_for(self.statements_of(role_key), action)
            return decision

    def statements_of(self, role_key: str) -> tuple[Statement, ...]:
        """Every statement of every policy attached to the role (default versions), cached."""
        compiled = self._compiled.get(role_key)
        if compiled is None:
            with self._lock:
                names = self.attached.get(role_key, {})
                compiled = tuple(
                    s
                    for n in sorted(names)
                    if n in self.policies
                    for s in parse_policy(self.policies[n].default_document).statements
                )
                self._compiled[role_key] = compiled
        return compiled

    def admin_route(self, method: str, path: str, body: bytes):
        """The admin listener's /ram/... controls (localcloud/ram/admin.py)."""
        from .admin import route

        return route(self, method, path, body)

    def close(self) -> None:
        self.store.close()
