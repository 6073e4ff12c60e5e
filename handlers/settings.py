"""What the deployment tells a function: its environment variables, read once per invocation.

Each field `x` is the variable `OSSBATCH_X`; each has one default, here. The deployment
model (ossbatch/deployment.py) sets exactly the variables of a function's settings class
(tests/unit/test_deployment.py checks both directions):

| function | settings |
|---|---|
| copy | `WorkerSettings` |
| restore | `ObjectSettings` |
| unzip | `UnzipSettings` |
| trigger | `TriggerSettings` |

Nothing else in handlers/ reads `os.environ`; a bad value fails the invocation with a
`SystemicError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .errors import SystemicError
from .events import ZipLimits

PREFIX = "OSSBATCH_"


class Settings(BaseModel):
    """Every function: how much it logs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @classmethod
    def variables(cls) -> set[str]:
        """The environment variables this settings class reads."""
        return {PREFIX + name.upper() for name in cls.model_fields}

    @classmethod
    def secret_variables(cls) -> set[str]:
        """Those set only when the environment file configures a secret (a password)."""
        return {
            PREFIX + name.upper()
            for name, field in cls.model_fields.items()
            if SecretStr in (field.annotation, *get_args(field.annotation))
        }

    @classmethod
    def conditional_variables(cls) -> set[str]:
        """Those set only when the environment file configures them: the secrets, and the
        fields marked `only_with_password` (a KMS password's secret name and endpoint)."""
        marked = {
            PREFIX + name.upper()
            for name, field in cls.model_fields.items()
            if (field.json_schema_extra or {}).get("only_with_password")
        }
        return cls.secret_variables() | marked

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        given = {
            name: environ[PREFIX + name.upper()]
            for name in cls.model_fields
            if environ.get(PREFIX + name.upper(), "") != ""
        }
        if "log_level" in given:
            given["log_level"] = given["log_level"].upper()
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            secret = cls.secret_variables()
            problems = "; ".join(
                f"{name}={'***' if name in secret else repr(given.get(str(err['loc'][0])))}: "
                f"{err['msg']}"
                for err in exc.errors()
                for name in [PREFIX + str(err["loc"][0]).upper()]
            )
            raise SystemicError(
                f"bad function environment ({problems}): fix the deployment (ossbatch local up "
                "or the stack sets these)"
            ) from None


class ObjectSettings(Settings):
    """Functions that work on objects: where OSS is and where report parts go."""

    oss_endpoint: str | None = None
    report_bucket: str | None = None  # None: the job's destination bucket
    report_prefix: str = "reports/"

    def fill(self, event):
        """The event with what it leaves unset taken from the deployment."""
        return event.model_copy(
            update={
                "oss_endpoint": event.oss_endpoint or self.oss_endpoint,
                "report_bucket": event.report_bucket or self.report_bucket,
                "report_prefix": self.report_prefix
                if event.report_prefix is None
                else event.report_prefix,
            }
        )


class WorkerSettings(ObjectSettings):
    """copy and unzip: long pages fan out to worker processes."""

    # infra sets it from the function's whole vCPUs; None: the CPUs this process may use
    processes: int | None = Field(None, ge=1, le=64)

    def fill(self, event):
        event = super().fill(event)
        if event.tuning.processes is None and self.processes is not None:
            tuning = event.tuning.model_copy(update={"processes": self.processes})
            event = event.model_copy(update={"tuning": tuning})
        return event


class UnzipSettings(WorkerSettings):
    """unzip: where entries go, how names decode, what a package may hold (env unzip.*)."""

    output_bucket: str | None = None  # None: the package's own bucket
    output_prefix: str = ""
    watch_prefix: str = ""  # stripped from the package's directory name under the output
    name_encoding: str | None = None  # None: auto (docs/decisions/zip-name-decoding.md)
    unzip_max_entries: int = Field(ZipLimits().max_entries, ge=1)
    unzip_max_entry_bytes: int = Field(ZipLimits().max_entry_bytes, ge=1)
    unzip_max_total_bytes: int = Field(ZipLimits().max_total_bytes, ge=1)
    unzip_max_ratio: float = Field(ZipLimits().max_ratio, gt=1)
    # an object another writer made at an entry's key (docs/decisions/unzip-output-ownership.md)
    on_existing: Literal["overwrite", "skip", "fail"] = "fail"
    # encrypted packages (env unzip.password): kept here, never put into the event
    unzip_password: SecretStr | None = None
    # or (unzip.password source kms) the KMS secret holding it, read at run time
    # (handlers/passwords.py): its name and where KMS is, never its value
    unzip_password_secret: str | None = Field(None, json_schema_extra={"only_with_password": True})
    kms_endpoint: str | None = Field(None, json_schema_extra={"only_with_password": True})

    @property
    def password(self) -> bytes | None:
        secret = self.unzip_password
        return secret.get_secret_value().encode("utf-8") if secret else None

    @property
    def limits(self) -> ZipLimits:
        return ZipLimits(
            max_entries=self.unzip_max_entries,
            max_entry_bytes=self.unzip_max_entry_bytes,
            max_total_bytes=self.unzip_max_total_bytes,
            max_ratio=self.unzip_max_ratio,
        )

    def fill(self, event):
        event = super().fill(event)
        # an event may tighten the environment's limits, never loosen them
        asked = event.limits or self.limits
        limits = ZipLimits(
            **{
                name: min(getattr(asked, name), getattr(self.limits, name))
                for name in ZipLimits.model_fields
            }
        )
        return event.model_copy(
            update={
                "output_bucket": event.output_bucket or self.output_bucket,
                "output_prefix": self.output_prefix
                if event.output_prefix is None
                else event.output_prefix,
                "watch_prefix": self.watch_prefix
                if event.watch_prefix is None
                else event.watch_prefix,
                "name_encoding": event.name_encoding or self.name_encoding,
                "on_existing": event.on_existing or self.on_existing,
                "limits": limits,
            }
        )


class TriggerSettings(Settings):
    """trigger: which uploads start which flow, and what goes into the flow's input."""

    region: str | None = None  # None: the FC context's region
    fnf_endpoint: str | None = None
    unzip_flow: str | None = None
    unzip_function: str | None = None
    notification_queue: str | None = None
    delete_after_success: bool = False
    watch_prefix: str = ""
    watch_suffix: str = ".zip"
    output_prefix: str = ""
