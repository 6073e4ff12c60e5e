"""fnf 2019-03-15 API errors, one class per wire error, rendered once by api.py as
`{"RequestId", "HostId", "Code", "Message"}` with the HTTP status."""

from __future__ import annotations

from localcloud.popapi import PopError


class FnfApiError(PopError):
    status = 400
    code = "InvalidArgument"


class InvalidArgument(FnfApiError):
    status, code = 400, "InvalidArgument"


class MissingRequiredParams(FnfApiError):
    status, code = 400, "MissingRequiredParams"

    def __init__(self, name: str):
        super().__init__(f"the required parameter {name} is missing")


class InvalidAction(FnfApiError):
    status, code = 400, "InvalidAction.NotFound"


class FlowNotExists(FnfApiError):
    status, code = 404, "FlowNotExists"

    def __init__(self, name: str):
        super().__init__(f"flow {name!r} does not exist; create it with CreateFlow")


class FlowAlreadyExists(FnfApiError):
    status, code = 409, "FlowAlreadyExists"

    def __init__(self, name: str):
        super().__init__(f"flow {name!r} already exists; use UpdateFlow to change it")


class ExecutionNotExists(FnfApiError):
    status, code = 404, "ExecutionNotExists"

    def __init__(self, flow: str, name: str):
        super().__init__(f"execution {name!r} of flow {flow!r} does not exist")


class ExecutionAlreadyExists(FnfApiError):
    status, code = 409, "ExecutionAlreadyExists"

    def __init__(self, flow: str, name: str):
        super().__init__(
            f"execution {name!r} of flow {flow!r} already exists; execution names are unique "
            "per flow"
        )


class InvalidAccessKeyId(FnfApiError):
    status, code = 404, "InvalidAccessKeyId.NotFound"


class SignatureDoesNotMatch(FnfApiError):
    status, code = 400, "SignatureDoesNotMatch"
