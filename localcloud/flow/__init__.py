"""Local CloudFlow (Serverless Workflow) engine: parser, evaluator, SQLite store, fnf API.

See docs/localcloud-flow.md for the supported subset of the CloudFlow spec.
"""

from .engine import FlowEngine
from .errors import FlowDefinitionError, FlowError
from .spec import parse_flow

__all__ = ["FlowEngine", "FlowDefinitionError", "FlowError", "parse_flow"]
