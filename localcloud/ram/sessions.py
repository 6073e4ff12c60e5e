"""STS credentials of a role: what a service (FC, CloudFlow, the OSS trigger) gets when it
assumes a role on a caller's behalf, and the lookup every listener does for `STS.` keys.

AssumeRole is internal (localcloud has no STS listener): the trust policy must name the
calling service as principal, as RAM requires for a service role.
"""

from __future__ import annotations

import collections
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .policy import Decision, trusts_service

if TYPE_CHECKING:
    from .service import RamService

DEFAULT_SESSION_SECONDS = 3600  # FC and CloudFlow hand out role credentials valid for 1 h
RENEW_BEFORE_SECONDS = 300  # reuse a session until 5 minutes before it expires
_ROLE_ARN = re.compile(r"acs:ram::(?P<account>\d+):role/(?P<name>[^/]+)")
SERVICES = ("fc.aliyuncs.com", "fnf.aliyuncs.com", "oss.aliyuncs.com")


class AssumeRoleError(Exception):
    """The role cannot be assumed by that service: missing, or not trusting it."""


@dataclass(frozen=True)
class RoleSession:
    access_key_id: str
    access_key_secret: str
    security_token: str
    role_key: str  # lower-cased role name
    role_arn: str
    service: str
    expiration: float  # Unix time

    def credentials(self) -> dict:
        return {
            "access_key_id": self.access_key_id,
            "access_key_secret": self.access_key_secret,
            "security_token": self.security_token,
        }

    @property
    def expiration_iso(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expiration))


@dataclass(frozen=True)
class Denial:
    """The first (action, resource) a session may not use, for the service's AccessDenied."""

    action: str
    resource: str
    explicit: bool

    def describe(self, session: RoleSession) -> str:
        why = "an explicit Deny" if self.explicit else "no Allow"
        return (
            f"You are not authorized to do action {self.action} on resource {self.resource}: "
            f"{why} in the policies of role {session.role_arn}"
        )


class SessionIssuer:
    def __init__(self, ram: RamService, clock=time.time):
        self.ram = ram
        self.clock = clock
        self.session_seconds = DEFAULT_SESSION_SECONDS
        self._by_key: dict[str, RoleSession] = {}
        self._cached: dict[tuple[str, str], RoleSession] = {}
        self._lock = threading.Lock()
        # (role, action) -> requests denied: admin /counters shows what a role was refused,
        # also where the caller swallows the AccessDenied (a lease that expires by itself)
        self.denied: collections.Counter = collections.Counter()

    def assume_role(self, role_arn: str, service: str) -> RoleSession:
        """Credentials of the role for `service`; the same ones until shortly before expiry."""
        match = _ROLE_ARN.fullmatch(role_arn or "")
        if match is None:
            raise AssumeRoleError(
                f"role {role_arn!r} is not a RAM role ARN (acs:ram::<account>:role/<name>)"
            )
        if match["account"] != self.ram.account_id:
            raise AssumeRoleError(
                f"role {role_arn!r} belongs to account {match['account']}, not to this "
                f"localcloud's {self.ram.account_id}"
            )
        role = self.ram.roles.get(match["name"].lower())
        if role is None:
            raise AssumeRoleError(f"role {role_arn!r} does not exist; create it with CreateRole")
        if not trusts_service(self.ram.trust_of(role), service):
            raise AssumeRoleError(
                f"role {role_arn!r} does not trust {service}: its AssumeRolePolicyDocument must "
                f'allow sts:AssumeRole for Principal {{"Service": ["{service}"]}}'
            )
        key = (role.name.lower(), service)
        now = self.clock()
        with self._lock:
            cached = self._cached.get(key)
            if cached is not None and cached.expiration - now > RENEW_BEFORE_SECONDS:
                return cached
            session = RoleSession(
                access_key_id="STS." + secrets.token_hex(12).upper(),
                access_key_secret=secrets.token_urlsafe(30),
                security_token="CAIS" + secrets.token_urlsafe(96),
                role_key=role.name.lower(),
                role_arn=self.ram.role_arn(role),
                service=service,
                expiration=now + self.session_seconds,
            )
            self._by_key[session.access_key_id] = session
            self._cached[key] = session
            self._forget_expired(now)
            return session

    def lookup(self, access_key_id: str) -> RoleSession | None:
        """The session of an `STS.` access key, None for any other key."""
        return self._by_key.get(access_key_id)

    def expired(self, session: RoleSession) -> bool:
        return self.clock() >= session.expiration

    def check(self, session: RoleSession, requests) -> Denial | None:
        """None when every (action, resource) is allowed, else the first denied one."""
        if not self.ram.enforce:
            return None
        for action, resource in requests:
            decision = self.ram.decision(session.role_key, action).decide(resource)
            if decision is not Decision.ALLOW:
                with self._lock:
                    self.denied[(session.role_key, action)] += 1
                return Denial(action, resource, decision is Decision.DENY)
        return None

    def reset_denied(self) -> None:
        with self._lock:
            self.denied.clear()

    def denied_snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            found: dict[str, dict[str, int]] = {}
            for (role, action), n in self.denied.items():
                found.setdefault(role, {})[action] = n
            return found

    def revoke_role(self, role_key: str) -> None:
        with self._lock:
            for key in [k for k, s in self._by_key.items() if s.role_key == role_key]:
                del self._by_key[key]
            for key in [k for k in self._cached if k[0] == role_key]:
                del self._cached[key]

    def _forget_expired(self, now: float) -> None:
        if len(self._by_key) < 1024:
            return
        for key in [k for k, s in self._by_key.items() if s.expiration <= now]:
            del self._by_key[key]
