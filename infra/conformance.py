"""Offline stand-in for `terraform validate`: check a synthesized stack against the schema subset.

`terraform validate` needs the provider binary, which cannot be fetched here;
infra/schema/alicloud-1.289.0.json (the shape of `terraform providers schema
-json`) is checked in instead. Checked: resource/data types exist, every argument
is known and settable (not computed-only), required arguments and blocks are
present, block item limits, and value types (references `${...}` pass as any type).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.alicloud.base import PROVIDER_SOURCE, SCHEMA_VERSION

SCHEMA_FILE = Path(__file__).parent / "schema" / f"alicloud-{SCHEMA_VERSION}.json"
PROVIDER_KEY = f"registry.terraform.io/{PROVIDER_SOURCE}"
META_ARGUMENTS = {
    "//", "depends_on", "count", "for_each", "provider", "lifecycle", "provisioner", "connection",
}  # fmt: skip


def load_schema(path: Path = SCHEMA_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["provider_schemas"][PROVIDER_KEY]


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _type_ok(expected: Any, value: Any) -> bool:
    if _is_reference(value):
        return True
    if expected == "string":
        return isinstance(value, str)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected == "bool":
        return isinstance(value, bool)
    if isinstance(expected, list):
        kind, inner = expected[0], expected[1]
        if kind == "map":
            return isinstance(value, dict) and all(_type_ok(inner, v) for v in value.values())
        if kind in ("list", "set"):
            return isinstance(value, list) and all(_type_ok(inner, v) for v in value)
        if kind == "object":
            return isinstance(value, dict)
    return False


def check_block(block: dict, body: dict, where: str) -> list[str]:
    problems = []
    attributes = block.get("attributes", {})
    block_types = block.get("block_types", {})
    for name, value in body.items():
        if name in META_ARGUMENTS:
            continue
        if name in attributes:
            spec = attributes[name]
            if spec.get("computed") and not (spec.get("optional") or spec.get("required")):
                problems.append(f"{where}.{name}: computed-only attribute cannot be set")
            elif not _type_ok(spec["type"], value):
                problems.append(f"{where}.{name}: expected {spec['type']}, got {value!r:.80}")
        elif name in block_types:
            nested = block_types[name]
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(item, dict) for item in items):
                problems.append(f"{where}.{name}: a block must be an object or a list of objects")
                continue
            if "max_items" in nested and len(items) > nested["max_items"]:
                problems.append(f"{where}.{name}: at most {nested['max_items']} block(s) allowed")
            for i, item in enumerate(items):
                problems += check_block(nested["block"], item, f"{where}.{name}[{i}]")
        else:
            problems.append(f"{where}.{name}: unknown argument (not in the provider schema)")
    for name, spec in attributes.items():
        if spec.get("required") and name not in body:
            problems.append(f"{where}: required argument {name!r} is missing")
    for name, nested in block_types.items():
        if nested.get("min_items") and name not in body:
            problems.append(f"{where}: required block {name!r} is missing")
    return problems


def check_stack(stack: dict, schema: dict | None = None) -> list[str]:
    """All schema violations of a synthesized `cdk.tf.json` (empty list = conforms)."""
    schema = schema or load_schema()
    problems = []
    for section, schemas_key in (("resource", "resource_schemas"), ("data", "data_source_schemas")):
        for rtype, instances in stack.get(section, {}).items():
            if rtype not in schema[schemas_key]:
                problems.append(f"{section}.{rtype}: type not in the schema subset")
                continue
            for name, body in instances.items():
                where = f"{section}.{rtype}.{name}"
                problems += check_block(schema[schemas_key][rtype]["block"], body, where)
    for i, body in enumerate(stack.get("provider", {}).get("alicloud", [])):
        problems += check_block(schema["provider"]["block"], body, f"provider.alicloud[{i}]")
    return problems
