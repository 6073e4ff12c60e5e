"""The context object handed to `handler(event, context)`, shaped like FC 3.0 Python's.

FC docs ("Context", Python runtimes): Python 3.10/3.9/3.6 pass request_id,
credentials (access_key_id, access_key_secret, security_token), function
(name, handler, memory, timeout), service (name, log_project, log_store,
qualifier, version_id), region, account_id, tracing; Python 3.12 drops
credentials and service, adds function.version_id/qualifier, logger,
log_project and log_store. Neither has get_remaining_time_in_millis, so
neither does this one: a handler budgets time from `context.function.timeout`.
"""

from __future__ import annotations

import logging


class Credentials:
    def __init__(self, access_key_id: str, access_key_secret: str, security_token: str):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.security_token = security_token

    def __repr__(self) -> str:  # never print the secret into logs
        return f"Credentials(access_key_id={self.access_key_id!r}, ...)"


class ServiceMeta:
    def __init__(self, name="", log_project="", log_store="", qualifier="LATEST", version_id=""):
        self.name = name
        self.log_project = log_project
        self.log_store = log_store
        self.qualifier = qualifier
        self.version_id = version_id


class FunctionMeta:
    def __init__(
        self, name, handler, memory, timeout, version_id=None, qualifier=None, with_version=False
    ):
        self.name = name
        self.handler = handler
        self.memory = memory
        self.timeout = timeout
        if with_version:
            self.version_id = version_id
            self.qualifier = qualifier


class Tracing:
    def __init__(self):
        self.span_context = None
        self.jaeger_endpoint = None
        self.span_baggages = {}
        self.parent_span_id = None


class FCContext:
    """Attributes as FC's runtime of the function's `runtime` sets them."""

    def __init__(
        self,
        *,
        request_id,
        function,
        region,
        account_id,
        credentials=None,
        service=None,
        tracing=None,
        logger=None,
        log_project=None,
        log_store=None,
        modern=False,
    ):
        self.request_id = request_id
        self.function = function
        self.region = region
        self.account_id = account_id
        if modern:  # python3.12 layout
            self.logger = logger
            self.log_project = log_project
            self.log_store = log_store
        else:
            self.credentials = credentials
            self.service = service
            self.tracing = tracing

    def getLogger(self):  # noqa: N802 - FC's name for it
        return logging.getLogger()


def build_context(info: dict, modern: bool) -> FCContext:
    """Build the context from the plain dict the runtime sends with each invocation."""
    fn = info["function"]
    if modern:
        return FCContext(
            request_id=info["request_id"],
            function=FunctionMeta(
                fn["name"],
                fn["handler"],
                fn["memory"],
                fn["timeout"],
                version_id="",
                qualifier="LATEST",
                with_version=True,
            ),
            region=info["region"],
            account_id=info["account_id"],
            logger=logging.getLogger(),
            log_project="",
            log_store="",
            modern=True,
        )
    cred = info["credentials"]
    return FCContext(
        request_id=info["request_id"],
        function=FunctionMeta(fn["name"], fn["handler"], fn["memory"], fn["timeout"]),
        region=info["region"],
        account_id=info["account_id"],
        credentials=Credentials(
            cred["access_key_id"], cred["access_key_secret"], cred["security_token"]
        ),
        service=ServiceMeta(),
        tracing=Tracing(),
    )
