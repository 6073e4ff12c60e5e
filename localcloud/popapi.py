"""What localcloud's RPC-style (POP) APIs share: RAM, KMS and fnf answer every error as
`{"RequestId", "HostId", "Code", "Message"}` with its HTTP status, the JSON the SDKs read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse


class PopError(Exception):
    """One wire error: subclasses set ``status`` and ``code``."""

    status = 400
    code = "InvalidParameter"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def error_response(exc: PopError, request: Request, request_id: str) -> JSONResponse:
    body = {
        "RequestId": request_id,
        "HostId": request.url.hostname or "",
        "Code": exc.code,
        "Message": exc.message,
    }
    return JSONResponse(body, status_code=exc.status)
