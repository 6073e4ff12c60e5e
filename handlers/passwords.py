"""The password of encrypted packages, read at run time and never put into an event.

`unzip.password` names its source (docs/decisions/unzip-passwords.md):
- env: the function's OSSBATCH_UNZIP_PASSWORD (settings.unzip_password);
- kms: the KMS secret OSSBATCH_UNZIP_PASSWORD_SECRET, read with GetSecretValue (its
  ACSCurrent version) at OSSBATCH_KMS_ENDPOINT, signed with the function role's STS
  credentials from the FC context. The value is cached per process (an FC instance reads
  it once); a rotated secret reaches instances started after the rotation.

`PackagePassword` reads it only when a page's plan holds an encrypted entry: a package
without one never causes a KMS request (docs/decisions/unzip-passwords.md).

The value is never logged; errors name the secret, never its value.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from urllib.parse import urlparse

from .clients import credentials_from_context
from .errors import PasswordUnavailable, SecretAccessDenied, SystemicError
from .settings import UnzipSettings

_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()
# KMS's answer for a role its policies do not allow (Forbidden.NoPermission), and RAM's
_DENIED = ("Forbidden.NoPermission", "Forbidden.RAM", "Forbidden")
_MISSING = ("Forbidden.ResourceNotFound",)


@dataclass(frozen=True)
class PackagePassword:
    """The configured password, read on demand: planning needs only whether one is
    configured; the value is read when an entry that needs it is to be extracted."""

    settings: UnzipSettings
    context: object = None

    @property
    def configured(self) -> bool:
        return self.settings.unzip_password is not None or bool(self.settings.unzip_password_secret)

    def read(self) -> bytes | None:
        return package_password(self.settings, self.context)


def package_password(settings: UnzipSettings, context) -> bytes | None:
    """The password from the configured source; None when none is configured."""
    if settings.unzip_password is not None:
        return settings.password
    name = settings.unzip_password_secret
    if not name:
        return None
    if not settings.kms_endpoint:
        raise SystemicError(
            f"OSSBATCH_UNZIP_PASSWORD_SECRET names the KMS secret {name!r} but "
            "OSSBATCH_KMS_ENDPOINT is unset: deploy again (the stack and local up set both)"
        )
    key = (settings.kms_endpoint, name)
    with _lock:
        cached = _cache.get(key)
    if cached is None:
        cached = read_secret(settings.kms_endpoint, name, context)
        with _lock:
            _cache[key] = cached
    return cached


def forget_cached() -> None:
    """Drop the per-process cache (tests that rotate a secret in one process)."""
    with _lock:
        _cache.clear()


def read_secret(endpoint: str, name: str, context) -> bytes:
    """GetSecretValue(name) with the role's credentials; the ACSCurrent value as bytes."""
    from alibabacloud_kms20160120 import models
    from alibabacloud_kms20160120.client import Client
    from alibabacloud_tea_openapi.models import Config
    from darabonba.runtime import RuntimeOptions

    credentials = credentials_from_context(context)
    region = getattr(context, "region", None) or ""
    parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
    client = Client(
        Config(
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token,
            endpoint=parsed.netloc,
            protocol=parsed.scheme,
            region_id=region or None,
            connect_timeout=5_000,
            read_timeout=10_000,
        )
    )
    runtime = RuntimeOptions(autoretry=True, max_attempts=3)
    try:
        body = client.get_secret_value_with_options(
            models.GetSecretValueRequest(secret_name=name), runtime
        ).body
    except Exception as exc:  # noqa: BLE001 - the SDK raises Tea exceptions with a code
        raise _failure(exc, name, region, getattr(context, "account_id", None)) from None
    value = body.secret_data or ""
    if body.secret_data_type == "binary":
        return base64.b64decode(value)
    return value.encode("utf-8")


def _failure(exc: Exception, name: str, region: str, account: str | None) -> Exception:
    code = str(getattr(exc, "code", "") or "")
    arn = f"acs:kms:{region or '<region>'}:{account or '<account>'}:secret/{name}"
    if code in _DENIED or code.startswith("Forbidden.RAM"):
        said = str(getattr(exc, "message", "") or "")[:300]  # names the action refused
        # a secret under a customer master key also needs the caller's kms:Decrypt on it
        return SecretAccessDenied(
            f"KMS refused GetSecretValue on the secret {name!r} ({code}: {said}): grant "
            f"kms:GetSecretValue on {arn} to the unzip function's role, and kms:Decrypt on "
            "the secret's key if it has one of yours (the deployment does both when "
            "unzip.password is {source: kms, secret_name: " + name + ", key_id: <key>})"
        )
    if code in _MISSING:
        return PasswordUnavailable(
            f"the KMS secret {name!r} does not exist ({code}): create it (CreateSecret) or "
            "fix unzip.password.secret_name"
        )
    what = code or type(exc).__name__
    return PasswordUnavailable(
        f"the password's KMS secret {name!r} could not be read ({what}): check that KMS "
        "is reachable from the function, then retry the package"
    )
