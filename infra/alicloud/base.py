"""The shared machinery of the thin typed bindings: Python values -> Terraform JSON and HCL.

Each resource class declares typed constructor arguments and stores them as
`(terraform_name, value)` pairs; nested blocks are frozen dataclasses
(subclasses of `Block`). `_synthesize_attributes` renders Terraform JSON,
`_synthesize_hcl_attributes` renders the descriptors cdktf's HCL writer expects.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union

import cdktf
from constructs import Construct

PROVIDER_NAME = "alicloud"
PROVIDER_SOURCE = "aliyun/alicloud"
PROVIDER_VERSION_CONSTRAINT = ">= 1.252.0, < 2.0.0"
SCHEMA_VERSION = "1.289.0"  # provider docs version the schema subset was taken from

GENERATOR_METADATA = cdktf.TerraformProviderGeneratorMetadata(
    provider_name=PROVIDER_NAME, provider_version_constraint=PROVIDER_VERSION_CONSTRAINT
)


@dataclasses.dataclass(frozen=True)
class Block:
    """A nested configuration block (e.g. `versioning { status = "Enabled" }`)."""

    def terraform_values(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }


def _is_block_list(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(isinstance(v, Block) for v in value)
    )


def to_json_value(value: Any) -> Any:
    if isinstance(value, Block):
        return {k: to_json_value(v) for k, v in value.terraform_values().items()}
    if isinstance(value, Mapping):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [to_json_value(v) for v in value]
    return value


def _scalar_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


def to_hcl_descriptor(value: Any) -> dict[str, Any]:
    """The `{value, is_block, type, storage_class_type}` record cdktf's HCL renderer reads."""
    if isinstance(value, Block):
        value = [value]
    if _is_block_list(value):
        rendered = [
            {k: to_hcl_descriptor(v) for k, v in block.terraform_values().items()}
            for block in value
        ]
        name = type(value[0]).__name__
        return {
            "value": rendered,
            "is_block": True,
            "type": "list",
            "storage_class_type": f"{name}List",
        }
    if isinstance(value, Mapping):
        kind = _scalar_kind(next(iter(value.values()), ""))
        return {
            "value": dict(value),
            "is_block": False,
            "type": "map",
            "storage_class_type": f"{kind}Map",
        }
    if isinstance(value, Sequence) and not isinstance(value, str):
        kind = _scalar_kind(value[0] if value else "")
        return {
            "value": list(value),
            "is_block": False,
            "type": "list",
            "storage_class_type": f"{kind}List",
        }
    if isinstance(value, str):
        value = _hcl_string(value)
    return {
        "value": value,
        "is_block": False,
        "type": "simple",
        "storage_class_type": _scalar_kind(value),
    }


class HclRenderError(ValueError):
    """A string value that cdktf's HCL writer would render with a different value."""


def _hcl_string(value: str) -> str:
    # cdktf writes multi-line strings as `<<EOF\n{value}\nEOF`, which appends a newline:
    # values end with one newline (see `multiline`) and lose it here, so HCL == JSON.
    if "\n" not in value:
        if "\\" in value:
            raise HclRenderError(
                f"single-line value with a backslash cannot be rendered: {value!r}"
            )
        return value
    if not value.endswith("\n"):
        raise HclRenderError("multi-line values must end with a newline (use multiline())")
    if "\n" not in value[:-1]:
        raise HclRenderError(f"one-line value ending in a newline cannot be rendered: {value!r}")
    if "\nEOF\n" in "\n" + value:
        raise HclRenderError("a multi-line value contains a line 'EOF' (heredoc terminator)")
    return value[:-1]


def multiline(text: str) -> str:
    """A multi-line string value normalized to end with exactly one newline."""
    return text.rstrip("\n") + "\n"


class ArgumentTypeError(TypeError):
    """A binding was given a value its typed argument does not accept."""


def _matches(value: Any, hint: Any) -> bool:
    """A small runtime check of the hints the bindings use (no third-party checker needed)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if origin is Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (Mapping, dict):
        key_hint, value_hint = args or (Any, Any)
        return isinstance(value, Mapping) and all(
            _matches(k, key_hint) and _matches(v, value_hint) for k, v in value.items()
        )
    if origin in (Sequence, list, tuple):
        (item_hint,) = args[:1] or (Any,)
        return (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and all(_matches(v, item_hint) for v in value)
        )
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # hints this module does not use are not checked


@functools.cache
def _argument_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls.__init__)
    parameters = inspect.signature(cls.__init__).parameters
    return {name: hints[name] for name in parameters if name in hints and name != "return"}


def check_arguments(cls: type, arguments: Mapping[str, Any]) -> None:
    hints = _argument_hints(cls)
    for name, value in arguments.items():
        if name in hints and not _matches(value, hints[name]):
            raise ArgumentTypeError(
                f"{cls.__name__}({name}=...): {value!r:.80} is not {hints[name]}"
            )


class AlicloudResource(cdktf.TerraformResource):
    """Base of every binding: subclasses set TERRAFORM_TYPE and call `_set_arguments`."""

    TERRAFORM_TYPE = ""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        depends_on: Sequence[cdktf.ITerraformDependable] | None = None,
        lifecycle: cdktf.TerraformResourceLifecycle | None = None,
        provider: cdktf.TerraformProvider | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type=self.TERRAFORM_TYPE,
            terraform_generator_metadata=GENERATOR_METADATA,
            depends_on=depends_on,
            lifecycle=lifecycle,
            provider=provider,
        )
        # readable, stable addresses (`alicloud_oss_bucket.bucket_archive`): construct ids
        # are unique per stack here, and the HCL exit keeps these names
        self.override_logical_id(id_)
        self._arguments: dict[str, Any] = {}

    def _set_arguments(self, **arguments: Any) -> None:
        check_arguments(type(self), arguments)
        for name, value in arguments.items():
            if value is None or (isinstance(value, list | tuple) and not value):
                continue
            self._arguments[name] = value

    @property
    def arguments(self) -> dict[str, Any]:
        """The configured arguments as plain JSON values (for review and tests)."""
        return {k: to_json_value(v) for k, v in self._arguments.items()}

    def _synthesize_attributes(self) -> Mapping[str, Any]:
        return self.arguments

    def _synthesize_hcl_attributes(self) -> Mapping[str, Any]:
        return {k: to_hcl_descriptor(v) for k, v in self._arguments.items()}

    def attribute(self, name: str) -> str:
        """A reference to an exported attribute (`${type.name.attr}`) as a token string."""
        return self.get_string_attribute(name)

    @property
    def resource_id(self) -> str:
        return self.get_string_attribute("id")


class AlicloudDataSource(cdktf.TerraformDataSource):
    TERRAFORM_TYPE = ""

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type=self.TERRAFORM_TYPE,
            terraform_generator_metadata=GENERATOR_METADATA,
        )
        self._arguments: dict[str, Any] = {}

    def _synthesize_attributes(self) -> Mapping[str, Any]:
        return {k: to_json_value(v) for k, v in self._arguments.items()}

    def _synthesize_hcl_attributes(self) -> Mapping[str, Any]:
        return {k: to_hcl_descriptor(v) for k, v in self._arguments.items()}
