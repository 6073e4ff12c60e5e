"""CloudFlow flows, one per flows/*.yaml, deployed verbatim (Terraform interpolation escaped)."""

from __future__ import annotations

from pathlib import Path

from constructs import Construct

from infra.alicloud import FnfFlow
from infra.alicloud.base import multiline
from ossbatch.config import Environment


def escape_interpolation(text: str) -> str:
    """Terraform would evaluate `${..}` and `%{..}` inside strings: keep them literal."""
    return text.replace("${", "$${").replace("%{", "%%{")


class Workflows(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        env: Environment,
        flow_files: list[Path],
        role_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self.flows: dict[str, FnfFlow] = {}
        for path in flow_files:
            stem = path.stem
            self.flows[stem] = FnfFlow(
                self,
                "flow_" + stem.replace("-", "_"),
                name=env.flow_name(stem),
                definition=multiline(escape_interpolation(path.read_text(encoding="utf-8"))),
                description=f"ossbatch {env.name}: {stem} (from flows/{path.name})",
                type="FDL",
                role_arn=role_arn,
            )
