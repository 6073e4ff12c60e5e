"""Parse a CloudFlow definition (YAML or JSON, `Type: StateMachine`, `SpecVersion: v1`)
into the typed states of spec.py, reporting every problem with the state's path and field.

Exactly the documented spec is accepted (docs/localcloud-flow.md lists the pages): field
names, required fields, the two expression grammars, the built-in functions and their
arity. Anything else is rejected here, before an execution can start, so a flow that the
cloud would refuse or run differently fails fast, locally and in `ossbatch flows check`.
"""

from __future__ import annotations

import yaml

from .errors import FlowDefinitionError
from .expressions import (
    Constructor,
    Expression,
    ExpressionSyntaxError,
    compile_constructor,
    compile_expression,
)
from .spec import (
    FC_ARN_RE,
    FNF_ARN_RE,
    MAX_MAP_CONCURRENCY,
    MAX_PARALLEL_BRANCHES,
    MAX_WAIT_SECONDS,
    MNS_ARN_RE,
    NAME_RE,
    CatchRule,
    ChoiceBranch,
    ChoiceState,
    FailState,
    FlowDefinition,
    MapState,
    ParallelState,
    PassState,
    RetryRule,
    Scope,
    State,
    SucceedState,
    TaskState,
    WaitState,
)

COMMON = {"Name", "Type", "Description"}
FLOW_FIELDS = {"Type", "Name", "SpecVersion", "StartAt", "States", "Description"}
FIELDS = {
    "Pass": COMMON | {"InputConstructor", "OutputConstructor", "Next", "End"},
    # Task page: Timeout (seconds, 0..604800) is a documented Task field
    "Task": COMMON
    | {"InputConstructor", "OutputConstructor", "Next", "End", "Retry", "Catch"}
    | {"Action", "TaskMode", "Parameters", "Timeout"},
    "Choice": COMMON | {"InputConstructor", "Branches", "Default"},
    "Wait": COMMON
    | {"InputConstructor", "OutputConstructor", "Next", "End", "Seconds", "Seconds.$"},
    "Succeed": COMMON | {"InputConstructor", "OutputConstructor"},
    "Fail": COMMON | {"Code", "Detail"},
    "Parallel": COMMON
    | {"InputConstructor", "OutputConstructor", "Next", "End", "Retry", "Catch", "Branches"},
    "Map": COMMON
    | {"InputConstructor", "OutputConstructor", "Next", "End", "Retry", "Catch"}
    # inline Map (Map page): no ToleratedFailure* fields are documented
    | {"ItemsPath", "Processor", "MaxConcurrency", "MaxConcuccency"},
}
MAX_TASK_TIMEOUT = 604800
TERMINAL = {"Succeed", "Fail"}
ACTIONS = {
    "FC:InvokeFunction": {"resourceArn", "invocationType", "body"},
    "MNS:SendMessage": {"resourceArn", "message", "priority", "delaySeconds"},
    "FNF:StartExecution": {"resourceArn", "executionName", "input"},
}
TASK_MODES = {
    "FC:InvokeFunction": {"RequestComplete"},
    "MNS:SendMessage": {"RequestComplete"},
    "FNF:StartExecution": {"RequestComplete", "WaitForSystemCallback"},
}


class _Problems:
    def __init__(self):
        self.items: list[str] = []

    def add(self, where: str, field_name: str, message: str) -> None:
        self.items.append(f"state {where!r}, field {field_name}: {message}")


def load_definition(text: str | bytes | dict) -> dict:
    """YAML or JSON text (or an already-loaded mapping) -> dict; syntax errors are reported."""
    if isinstance(text, dict):
        return text
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FlowDefinitionError([f"definition is neither valid YAML nor JSON: {exc}"]) from None
    if not isinstance(data, dict):
        raise FlowDefinitionError(["definition must be a mapping with Type: StateMachine"])
    return data


def parse_flow(text: str | bytes | dict) -> FlowDefinition:
    """Parse and validate a whole definition; raises FlowDefinitionError listing all problems."""
    data = load_definition(text)
    problems = _Problems()
    for key in data:
        if key not in FLOW_FIELDS:
            problems.add(
                "<flow>", key, f"unsupported top-level field (allowed: {sorted(FLOW_FIELDS)})"
            )
    if data.get("Type") != "StateMachine":
        problems.add("<flow>", "Type", f"must be StateMachine, got {data.get('Type')!r}")
    if str(data.get("SpecVersion")) != "v1":
        problems.add("<flow>", "SpecVersion", f"must be v1, got {data.get('SpecVersion')!r}")
    name = data.get("Name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        problems.add(
            "<flow>", "Name", "must be 1..128 letters, digits, _ or -, starting with a letter or _"
        )
    scope = _parse_scope(data, "", problems)
    if problems.items:
        raise FlowDefinitionError(problems.items)
    return FlowDefinition(
        name=name, scope=scope, description=str(data.get("Description") or ""), source=data
    )


def _parse_scope(block: dict, prefix: str, problems: _Problems) -> Scope:
    where = prefix.rstrip("/") or "<flow>"
    states_raw = block.get("States")
    start_at = block.get("StartAt")
    states: dict[str, State] = {}
    if not isinstance(states_raw, list) or not states_raw:
        problems.add(
            where, "States", "must be a non-empty list of states (each with Name and Type)"
        )
        states_raw = []
    for index, raw in enumerate(states_raw):
        if not isinstance(raw, dict):
            problems.add(f"{prefix}#{index}", "<state>", "each state must be a mapping")
            continue
        state = _parse_state(raw, index, prefix, problems)
        if state is None:
            continue
        if state.name in states:
            problems.add(state.path, "Name", "duplicate state name in this scope")
        states[state.name] = state
    if not isinstance(start_at, str) or start_at not in states:
        problems.add(where, "StartAt", f"{start_at!r} is not a state of this scope")
    for state in states.values():
        _check_transitions(state, states, problems)
    return Scope(start_at=start_at if isinstance(start_at, str) else "", states=states)


def _check_transitions(state: State, states: dict[str, State], problems: _Problems) -> None:
    targets: list[tuple[str, str]] = []
    if isinstance(state, ChoiceState):
        targets += [(f"Branches[{i}].Next", b.next) for i, b in enumerate(state.branches)]
        targets.append(("Default", state.default))
    elif state.type not in TERMINAL:
        if state.next is not None:
            targets.append(("Next", state.next))
    targets += [(f"Catch[{i}].Next", rule.next) for i, rule in enumerate(state.catch)]
    for field_name, target in targets:
        if target and target not in states:
            problems.add(state.path, field_name, f"{target!r} is not a state of this scope")


def _parse_state(raw: dict, index: int, prefix: str, problems: _Problems) -> State | None:
    name = raw.get("Name")
    if not isinstance(name, str) or not name:
        problems.add(f"{prefix}#{index}", "Name", "every state needs a non-empty Name")
        return None
    path = f"{prefix}{name}"
    kind = raw.get("Type")
    if kind not in FIELDS:
        problems.add(path, "Type", f"unsupported state type {kind!r} (supported: {sorted(FIELDS)})")
        return None
    for key in raw:
        if key not in FIELDS[kind]:
            problems.add(
                path, key, f"not supported on a {kind} state (allowed: {sorted(FIELDS[kind])})"
            )
    common = dict(name=name, type=kind, path=path)
    common["input"] = _constructor(raw, "InputConstructor", path, problems, allow_output=False)
    if kind in ("Pass", "Task", "Wait", "Succeed", "Parallel", "Map"):
        common["output"] = _constructor(raw, "OutputConstructor", path, problems, allow_output=True)
    if kind not in TERMINAL and kind != "Choice":
        common["next"], common["end"] = _next_or_end(raw, path, problems)
    if kind in ("Task", "Parallel", "Map"):
        common["retry"] = _parse_retry(raw.get("Retry"), path, problems)
        common["catch"] = _parse_catch(raw.get("Catch"), path, problems)

    if kind == "Pass":
        return PassState(**common)
    if kind == "Succeed":
        return SucceedState(**common)
    if kind == "Fail":
        # Fail page: Detail is required, Code optional
        code, detail = raw.get("Code", ""), raw.get("Detail")
        if not isinstance(code, str):
            problems.add(path, "Code", "must be a string (the error name)")
        if not isinstance(detail, str) or not detail:
            problems.add(path, "Detail", "required on a Fail state: a non-empty string")
        return FailState(**common, code=str(code or ""), detail=str(detail or ""))
    if kind == "Wait":
        return _parse_wait(raw, common, path, problems)
    if kind == "Choice":
        return _parse_choice(raw, common, path, problems)
    if kind == "Task":
        return _parse_task(raw, common, path, problems)
    if kind == "Parallel":
        branches_raw = raw.get("Branches")
        branches: list[Scope] = []
        if not isinstance(branches_raw, list) or not branches_raw:
            problems.add(path, "Branches", "must be a non-empty list of {StartAt, States}")
        elif len(branches_raw) > MAX_PARALLEL_BRANCHES:
            problems.add(path, "Branches", f"at most {MAX_PARALLEL_BRANCHES} branches")
        else:
            for i, branch in enumerate(branches_raw):
                if not isinstance(branch, dict) or set(branch) - {"StartAt", "States"}:
                    problems.add(
                        path, f"Branches[{i}]", "must be a mapping with only StartAt and States"
                    )
                    continue
                branches.append(_parse_scope(branch, f"{path}/Branches[{i}]/", problems))
        return ParallelState(**common, branches=branches)
    return _parse_map(raw, common, path, problems)


def _next_or_end(raw: dict, path: str, problems: _Problems) -> tuple[str | None, bool]:
    nxt, end = raw.get("Next"), raw.get("End", False)
    if end not in (True, False):
        problems.add(path, "End", "must be true or false")
        end = False
    if nxt is not None and not isinstance(nxt, str):
        problems.add(path, "Next", "must be a state name")
        nxt = None
    if nxt and end:
        problems.add(path, "Next", "a state has either Next or End: true, not both")
    if not nxt and not end:
        problems.add(path, "Next", "missing: set Next to a state name or End: true")
    return nxt, bool(end)


def _constructor(raw, key, path, problems, allow_output, label=None) -> Constructor | None:
    if key not in raw:
        return None
    template = raw[key]
    key = label or key
    if not isinstance(template, dict):
        problems.add(path, key, "must be a mapping (use 'key.$: <expression>' for values)")
        return None
    try:
        constructor = compile_constructor(template, key)
    except ExpressionSyntaxError as exc:
        problems.add(path, key, str(exc))
        return None
    if "Output" in constructor.roots and not allow_output:
        hint = (
            "read the error from $Context.Current.Error (data-transfer page)"
            if key.startswith("Catch")
            else "$Output can only be used in an OutputConstructor"
        )
        problems.add(path, key, hint)
    return constructor


def _expression(
    text, path, field_name, problems, allow_output=False, grammar="constructor"
) -> Expression | None:
    try:
        expr = compile_expression(text, grammar)
    except ExpressionSyntaxError as exc:
        problems.add(path, field_name, f"{exc} in {text!r}")
        return None
    if "Output" in expr.roots and not allow_output:
        problems.add(path, field_name, "$Output can only be used in an OutputConstructor")
    return expr


def _number(raw, key, path, problems, *, minimum=0.0, maximum=None, integer=False, required=False):
    if key not in raw:
        if required:
            problems.add(path, key, "required")
        return None
    value = raw[key]
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and not float(value).is_integer():
        ok = False
    if not ok or value < minimum or (maximum is not None and value > maximum):
        bound = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        problems.add(
            path, key, f"must be {'an integer' if integer else 'a number'} {bound}, got {value!r}"
        )
        return None
    return int(value) if integer else float(value)


def _errors_list(rule: dict, path: str, field_name: str, problems: _Problems) -> tuple[str, ...]:
    errors = rule.get("Errors")
    if (
        not isinstance(errors, list)
        or not errors
        or not all(isinstance(e, str) and e for e in errors)
    ):
        problems.add(path, f"{field_name}.Errors", "must be a non-empty list of error names")
        return ()
    for name in errors:
        if name.startswith("States."):
            problems.add(
                path,
                f"{field_name}.Errors",
                f"{name!r} is Step Functions syntax; CloudFlow uses FnF.ALL / FnF.Timeout / FC.*",
            )
    return tuple(errors)


def _description(rule: dict, path: str, where: str, problems: _Problems) -> None:
    """Error-handling page (alibabacloud.com/help/en/serverless-workflow/latest/error-handling):
    Description is marked Required for Retry and Catch rules."""
    text = rule.get("Description")
    if not isinstance(text, str) or not text.strip():
        problems.add(path, f"{where}.Description", "required: say what this rule handles")


def _parse_retry(value, path, problems) -> list[RetryRule]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(path, "Retry", "must be a list of retry rules")
        return []
    rules = []
    allowed = {
        "Errors",
        "Description",
        "MaxAttempts",
        "IntervalSeconds",
        "BackoffRate",
        "MaxBackoffSeconds",
    }
    for i, rule in enumerate(value):
        where = f"Retry[{i}]"
        if not isinstance(rule, dict):
            problems.add(path, where, "must be a mapping")
            continue
        for key in set(rule) - allowed:
            problems.add(path, f"{where}.{key}", f"unsupported (allowed: {sorted(allowed)})")
        _description(rule, path, where, problems)
        errors = _errors_list(rule, path, where, problems)
        attempts = _number(rule, "MaxAttempts", path, problems, integer=True, required=True)
        # error-handling page: IntervalSeconds and MaxBackoffSeconds are int, at most 86400
        interval = _number(
            rule, "IntervalSeconds", path, problems, maximum=86400, integer=True, required=True
        )
        rate = _number(rule, "BackoffRate", path, problems, minimum=1.0)
        cap = _number(rule, "MaxBackoffSeconds", path, problems, maximum=86400, integer=True)
        rules.append(RetryRule(errors, attempts or 0, interval or 0.0, rate or 1.0, cap))
    return rules


def _parse_catch(value, path, problems) -> list[CatchRule]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(path, "Catch", "must be a list of catch rules")
        return []
    rules = []
    allowed = {"Errors", "Description", "Next", "OutputConstructor"}
    for i, rule in enumerate(value):
        where = f"Catch[{i}]"
        if not isinstance(rule, dict):
            problems.add(path, where, "must be a mapping")
            continue
        for key in set(rule) - allowed:
            problems.add(path, f"{where}.{key}", f"unsupported (allowed: {sorted(allowed)})")
        _description(rule, path, where, problems)
        errors = _errors_list(rule, path, where, problems)
        nxt = rule.get("Next")
        if not isinstance(nxt, str) or not nxt:
            problems.add(path, f"{where}.Next", "required: the state to go to when caught")
            nxt = ""
        output = _constructor(
            rule, "OutputConstructor", path, problems, False, f"{where}.OutputConstructor"
        )
        rules.append(CatchRule(errors, nxt, output))
    return rules


def _parse_wait(raw, common, path, problems) -> WaitState:
    if ("Seconds" in raw) == ("Seconds.$" in raw):
        problems.add(path, "Seconds", "set exactly one of Seconds or Seconds.$")
        return WaitState(**common)
    if "Seconds" in raw:
        seconds = _number(
            raw, "Seconds", path, problems, minimum=1, maximum=MAX_WAIT_SECONDS, integer=True
        )
        return WaitState(**common, seconds=seconds)
    expr = raw["Seconds.$"]
    if not isinstance(expr, str):
        problems.add(path, "Seconds.$", "must be an expression string such as $Input.delay")
        return WaitState(**common)
    return WaitState(**common, seconds_expr=_expression(expr, path, "Seconds.$", problems))


def _parse_choice(raw, common, path, problems) -> ChoiceState:
    branches = []
    raw_branches = raw.get("Branches")
    if not isinstance(raw_branches, list) or not raw_branches:
        problems.add(path, "Branches", "must be a non-empty list of {Condition, Next}")
        raw_branches = []
    for i, branch in enumerate(raw_branches):
        where = f"Branches[{i}]"
        if not isinstance(branch, dict) or set(branch) - {"Condition", "Next", "Description"}:
            problems.add(path, where, "must be a mapping with Condition and Next")
            continue
        condition, nxt = branch.get("Condition"), branch.get("Next")
        if not isinstance(condition, str):
            problems.add(path, f"{where}.Condition", "required: a boolean expression")
            continue
        if not isinstance(nxt, str) or not nxt:
            problems.add(path, f"{where}.Next", "required: the state to go to")
            continue
        expr = _expression(condition, path, f"{where}.Condition", problems, grammar="condition")
        if expr is not None:
            branches.append(ChoiceBranch(expr, nxt))
    default = raw.get("Default")
    if not isinstance(default, str) or not default:
        problems.add(
            path, "Default", "required on a Choice state: the state when no branch matches"
        )
        default = ""
    return ChoiceState(**common, branches=branches, default=default)


def _parse_task(raw, common, path, problems) -> TaskState:
    action = raw.get("Action")
    if action not in ACTIONS:
        problems.add(path, "Action", f"unsupported {action!r} (supported: {sorted(ACTIONS)})")
        return TaskState(**common, action=str(action))
    mode = raw.get("TaskMode", "RequestComplete")
    if mode not in TASK_MODES[action]:
        problems.add(
            path,
            "TaskMode",
            f"{mode!r} is not supported for {action} (supported: {sorted(TASK_MODES[action])})",
        )
    timeout = _number(raw, "Timeout", path, problems, maximum=MAX_TASK_TIMEOUT, integer=True)
    params = raw.get("Parameters")
    if not isinstance(params, dict):
        problems.add(path, "Parameters", f"required mapping for {action}")
        return TaskState(**common, action=action, task_mode=mode, timeout=timeout)
    names = {key[:-2] if key.endswith(".$") else key for key in params}
    for key in names - ACTIONS[action]:
        problems.add(
            path,
            f"Parameters.{key}",
            f"not a parameter of {action} (allowed: {sorted(ACTIONS[action])})",
        )
    if "resourceArn" not in names:
        problems.add(path, "Parameters.resourceArn", "required")
    arn = params.get("resourceArn")
    if isinstance(arn, str):
        pattern = {
            "FC:InvokeFunction": FC_ARN_RE,
            "MNS:SendMessage": MNS_ARN_RE,
            "FNF:StartExecution": FNF_ARN_RE,
        }[action]
        if not pattern.match(arn):
            problems.add(
                path, "Parameters.resourceArn", f"{arn!r} does not look like {_ARN_HELP[action]}"
            )
    if action == "FC:InvokeFunction":
        if "invocationType" not in names:
            problems.add(path, "Parameters.invocationType", "required: Sync or Async")
        elif params.get("invocationType", "Sync") not in ("Sync", "Async"):
            problems.add(path, "Parameters.invocationType", "must be Sync or Async")
    if action == "MNS:SendMessage":
        if "message" not in names:
            problems.add(path, "Parameters.message", "required")
        priority = params.get("priority")
        if priority is not None and (not isinstance(priority, int) or not 1 <= priority <= 16):
            problems.add(path, "Parameters.priority", "must be an integer 1..16")
        delay = params.get("delaySeconds")
        if delay is not None and (not isinstance(delay, int) or not 0 <= delay <= 604800):
            problems.add(path, "Parameters.delaySeconds", "must be an integer 0..604800")
    try:
        parameters = compile_constructor(params, "Parameters")
    except ExpressionSyntaxError as exc:
        problems.add(path, "Parameters", str(exc))
        parameters = None
    if parameters is not None and "Output" in parameters.roots:
        problems.add(path, "Parameters", "$Output can only be used in an OutputConstructor")
    return TaskState(
        **common, action=action, task_mode=mode, parameters=parameters, timeout=timeout
    )


_ARN_HELP = {
    "FC:InvokeFunction": "acs:fc:{region}:{uid}:functions/{name}/LATEST",
    "MNS:SendMessage": "acs:mns:{region}:{uid}:/queues/{queue}/messages",
    "FNF:StartExecution": "acs:fnf:{region}:{uid}:flow/{name}",
}


def _parse_map(raw, common, path, problems) -> MapState:
    items_path = raw.get("ItemsPath")
    expr = None
    if not isinstance(items_path, str):
        problems.add(
            path, "ItemsPath", "required: an expression returning an array, e.g. $Input.items"
        )
    else:
        expr = _expression(items_path, path, "ItemsPath", problems)
    processor_raw = raw.get("Processor")
    processor = None
    if not isinstance(processor_raw, dict) or set(processor_raw) - {"StartAt", "States"}:
        problems.add(
            path, "Processor", "required mapping with only StartAt and States (inline mode)"
        )
    else:
        processor = _parse_scope(processor_raw, f"{path}/Processor/", problems)
    if "MaxConcurrency" in raw and "MaxConcuccency" in raw:
        problems.add(path, "MaxConcurrency", "set MaxConcurrency once")
    key = "MaxConcuccency" if "MaxConcuccency" in raw else "MaxConcurrency"
    concurrency = _number(
        raw, key, path, problems, minimum=1, maximum=MAX_MAP_CONCURRENCY, integer=True
    )
    return MapState(
        **common,
        items_path=expr,
        processor=processor,
        max_concurrency=concurrency or MAX_MAP_CONCURRENCY,
    )
