"""MNS errors, one class per wire code (MNS docs, "Error codes"); rendered once as
`<Error xmlns=...><Code/><Message/><RequestId/><HostId/></Error>` by the HTTP layer."""

from __future__ import annotations


class MnsError(Exception):
    status = 400
    code = "InvalidArgument"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(MnsError):
    pass


class MalformedXML(MnsError):
    code = "MalformedXML"


class InvalidDigest(MnsError):
    code = "InvalidDegist"  # sic: MNS spells it this way


class QueueNotExist(MnsError):
    status = 404
    code = "QueueNotExist"

    def __init__(self, queue: str):
        super().__init__(f"The queue name you provided is not exist: '{queue}'")


class QueueAlreadyExist(MnsError):
    status = 409
    code = "QueueAlreadyExist"

    def __init__(self, queue: str):
        super().__init__(
            f"The queue you want to create is already exist with other attributes: '{queue}'; "
            "set its attributes or delete it first"
        )


class InvalidQueueName(MnsError):
    code = "InvalidQueueName"


class MessageNotExist(MnsError):
    status = 404
    code = "MessageNotExist"

    def __init__(self, message: str = "Message not exist."):
        super().__init__(message)


class ReceiptHandleError(MnsError):
    code = "ReceiptHandleError"

    def __init__(self, handle: str, why: str = "is not valid"):
        super().__init__(f"The receipt handle you provided {why}: '{handle}'")


class MissingReceiptHandle(MnsError):
    code = "MissingReceiptHandle"


class MissingVisibilityTimeout(MnsError):
    code = "MissingVisibilityTimeout"


class InvalidQueryString(MnsError):
    code = "InvalidQueryString"


class AuthError(MnsError):
    status = 403
    code = "AccessDenied"


class SignatureDoesNotMatch(AuthError):
    code = "SignatureDoesNotMatch"

    def __init__(self):
        super().__init__(
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method."
        )


class InvalidAccessKeyId(AuthError):
    code = "InvalidAccessKeyId"

    def __init__(self, key_id: str):
        super().__init__(f"The AccessKey Id you provided is not exist: '{key_id}'")


class MissingAuthorizationHeader(MnsError):
    code = "MissingAuthorizationHeader"


class InvalidAuthorizationHeader(MnsError):
    code = "InvalidAuthorizationHeader"


class MissingDateHeader(MnsError):
    code = "MissingDateHeader"


class InvalidDateHeader(MnsError):
    code = "InvalidDateHeader"


class TimeExpired(MnsError):
    status = 408
    code = "TimeExpired"


class InternalError(MnsError):
    status = 500
    code = "InternalError"
