"""`make hcl ENV=x`: the same stack as plain Terraform HCL (the exit from CDKTF).

cdktf renders HCL from each binding's `_synthesize_hcl_attributes`; this module
formats it like `terraform fmt` and writes `cdktf.out/hcl/ossbatch-<env>/main.tf`
with a copy of the stack's assets (the code zip): a directory plain
`terraform init/plan` can use without cdktf.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import cdktf

HEREDOC_START = re.compile(r"<<-?(\w+)\s*$")
ATTRIBUTE = re.compile(r"^(\s*)([A-Za-z0-9_\"-]+)\s*=\s*(.*)$")
INTERPOLATION_ONLY = re.compile(r'^"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}"$')
# cdktf writes depends_on entries as quoted addresses; Terraform wants bare references
QUOTED_ADDRESS = re.compile(r'^(\s*)"([a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)",?$')


def bare_depends_on(text: str) -> str:
    lines, inside = text.splitlines(), False
    for index, line in enumerate(lines):
        if re.match(r"^\s*depends_on\s*=\s*\[$", line):
            inside = True
        elif inside and line.strip() == "]":
            inside = False
        elif inside:
            lines[index] = QUOTED_ADDRESS.sub(r"\1\2,", line)
    return "\n".join(lines) + "\n"


def indent_hcl(text: str, width: int = 2) -> str:
    """Re-indent cdktf's flat HCL by block depth; heredoc bodies are left untouched."""
    lines_out: list[str] = []
    depth = 0
    heredoc_end: str | None = None
    blank_run = 0
    for raw in text.splitlines():
        if heredoc_end is not None:
            lines_out.append(raw)
            if raw.strip() == heredoc_end:
                heredoc_end = None
            continue
        line = raw.strip()
        if not line:
            blank_run += 1
            if blank_run == 1 and lines_out:
                lines_out.append("")
            continue
        blank_run = 0
        if line[0] in "}]":
            depth = max(depth - 1, 0)
        lines_out.append(" " * (width * depth) + line)
        match = HEREDOC_START.search(line)
        if match:
            heredoc_end = match.group(1)
        elif line.endswith(("{", "[")):
            depth += 1
    return "\n".join(lines_out).rstrip() + "\n"


def align_hcl(text: str) -> str:
    """What `terraform fmt` does on top: align `=` in runs of one-line attributes and write
    interpolation-only references (`"${a.b}"`) bare."""
    lines = text.splitlines()
    chain: list[tuple[int, str, str, str]] = []

    def flush() -> None:
        width = max((len(key) for _, _, key, _ in chain), default=0)
        for index, indent, key, value in chain:
            lines[index] = f"{indent}{key.ljust(width)} = {value}"
        chain.clear()

    heredoc_end: str | None = None
    for index, line in enumerate(lines):
        if heredoc_end is not None:
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        match = ATTRIBUTE.match(line)
        if not match or match.group(3).endswith(("{", "[")):
            flush()
            continue
        indent, key, value = match.groups()
        value = INTERPOLATION_ONLY.sub(r"\1", value)
        if chain and chain[-1][1] != indent:
            flush()
        chain.append((index, indent, key, value))
        heredoc = HEREDOC_START.search(value)
        if heredoc:
            heredoc_end = heredoc.group(1)
    flush()
    return "\n".join(lines) + "\n"


def render(stack: cdktf.TerraformStack) -> str:
    return bare_depends_on(align_hcl(indent_hcl(stack.to_hcl_terraform()["hcl"])))


def write(stack: cdktf.TerraformStack, outdir: Path) -> Path:
    """main.tf next to a copy of the synthesized stack's assets (the code zip), if any."""
    target = outdir / "hcl" / stack.node.id
    target.mkdir(parents=True, exist_ok=True)
    assets = outdir / "stacks" / stack.node.id / "assets"
    if assets.is_dir():
        shutil.copytree(assets, target / "assets", dirs_exist_ok=True)
    path = target / "main.tf"
    path.write_text(render(stack), encoding="utf-8")
    return path
