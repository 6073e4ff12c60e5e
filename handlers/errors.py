"""Errors a flow can catch by name (FC reports the exception class name as the error type)."""

from __future__ import annotations


class SystemicError(Exception):
    """The whole page cannot proceed (credentials, missing bucket): the flow should stop or alert."""


class SourceBucketMissing(SystemicError):
    """The source bucket does not exist (NoSuchBucket)."""


class DestinationBucketMissing(SystemicError):
    """The destination / output / report bucket does not exist (NoSuchBucket)."""


class AccessDenied(SystemicError):
    """OSS refused the credentials or the role lacks a permission (403 AccessDenied etc.)."""


class SecretAccessDenied(AccessDenied):
    """KMS refused the function's role the password's secret (kms:GetSecretValue missing)."""


class PasswordUnavailable(SystemicError):
    """The password of encrypted packages cannot be read (its KMS secret is missing, or KMS
    does not answer); the message names the secret and what to do."""


class InvalidEvent(ValueError):
    """The handler input is malformed; the message names the bad field."""


class PackageRejected(Exception):
    """The zip package as a whole cannot be extracted (not a zip, truncated, changed, over a limit).

    ``reason`` is a short code (NotAZipArchive, TruncatedArchive, PackageChanged,
    TooManyEntries, TooLarge, PackageMissing) repeated at the start of the message.
    """

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class StartExecutionFailed(SystemicError):
    """CloudFlow refused StartExecution for a reason other than ExecutionAlreadyExists."""


class IndexMissing(SystemicError):
    """The index object named in the input does not exist."""
