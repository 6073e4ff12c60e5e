"""What can go wrong when invoking or managing a function, one class per failure.

`FunctionError`/`FunctionTimeout` are failures of the invocation itself (FC answers
them with `x-fc-error-type: UnhandledInvocationError`); the rest are API errors
rendered as FC 3.0 JSON errors (`{"Code", "Message", "RequestId"}`) by the HTTP layer.
"""

from __future__ import annotations


class FcError(Exception):
    """Base of every FC failure; `status`/`code` are what the FC 3.0 API answers."""

    status = 400
    code = "InvalidArgument"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(FcError):
    status = 400
    code = "InvalidArgument"


class FunctionNotFound(FcError):
    status = 404
    code = "FunctionNotFound"

    def __init__(self, name: str):
        super().__init__(f"function '{name}' does not exist")
        self.function_name = name


class FunctionAlreadyExists(FcError):
    status = 409
    code = "FunctionAlreadyExists"

    def __init__(self, name: str):
        super().__init__(f"function '{name}' already exists; update it or delete it first")


class TriggerNotFound(FcError):
    status = 404
    code = "TriggerNotFound"

    def __init__(self, function: str, trigger: str):
        super().__init__(f"trigger '{trigger}' of function '{function}' does not exist")


class TriggerAlreadyExists(FcError):
    status = 409
    code = "TriggerAlreadyExists"

    def __init__(self, function: str, trigger: str):
        super().__init__(f"trigger '{trigger}' of function '{function}' already exists")


class FunctionThrottled(FcError):
    """Every instance slot of the function is busy (FC 3.0: 429 ResourceThrottled)."""

    status = 429
    code = "ResourceThrottled"

    def __init__(self, name: str, limit: int):
        super().__init__(
            f"function '{name}' is already running {limit} concurrent invocations "
            "(its concurrency limit); retry later or raise reservedConcurrency"
        )
        self.function_name = name
        self.limit = limit


class FunctionError(FcError):
    """The handler raised (or its instance died): FC's UnhandledInvocationError."""

    status = 200
    code = "UnhandledInvocationError"

    def __init__(self, error_type: str, message: str, stack_trace: list | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.stack_trace = stack_trace or []

    def __str__(self) -> str:
        return f"{self.error_type}: {self.message}"

    def to_body(self) -> dict:
        """The JSON body FC returns for a failed invocation."""
        body = {"errorMessage": self.message, "errorType": self.error_type}
        if self.stack_trace:
            body["stackTrace"] = self.stack_trace
        return body


class FunctionTimeout(FunctionError):
    """The invocation ran past the function's timeout; its instance was killed."""

    def __init__(self, name: str, timeout: float):
        super().__init__("FunctionTimeout", f"Function timed out after {_seconds(timeout)} seconds")
        self.function_name = name
        self.timeout = timeout

    def to_body(self) -> dict:
        # FC reports a timeout with only an errorMessage
        return {"errorMessage": self.message}


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
