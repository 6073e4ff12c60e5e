"""JSON Schema of the job documents and page results, checked in at docs/schemas/.

`python -m ossbatch.jobschemas` rewrites them; tests/unit/test_job_schema.py fails when a
model changed and the checked-in schema did not (run that command, review the diff).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from handlers.jobinput import UnzipJob
from handlers.shards import CopyPageResult, RestoreStepResult, UnzipPageResult
from ossbatch.jobdocs import CopyJob, RestoreJob

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"
MODELS = {
    "copy-job": CopyJob,
    "restore-job": RestoreJob,
    "unzip-job": UnzipJob,
    "copy-page-result": CopyPageResult,
    "restore-step-result": RestoreStepResult,
    "unzip-page-result": UnzipPageResult,
}


def render(name: str) -> str:
    schema = MODELS[name].model_json_schema()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def path_of(name: str) -> Path:
    return SCHEMA_DIR / f"{name}.schema.json"


def write() -> list[Path]:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for name in MODELS:
        path_of(name).write_text(render(name), encoding="utf-8")
        written.append(path_of(name))
    return written


if __name__ == "__main__":
    for path in write():
        print(path.relative_to(SCHEMA_DIR.parent.parent))
    sys.exit(0)
