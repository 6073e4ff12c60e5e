"""Handlers for the FC runtime's tests. FC loads `<file>.<method>` from the code root, so
this directory is a code root: in-process runtimes take it as `code_root`, functions
created through the FC API upload it as their code zip (`code_location()`)."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parent


def code_zip() -> bytes:
    """The handler modules at the zip's root, as a code package has them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(CODE_ROOT.glob("*.py")):
            if path.name != "__init__.py":
                archive.write(path, path.name)
    return buffer.getvalue()


def code_location():
    """The FC 3.0 SDK's InputCodeLocation carrying `code_zip()`."""
    from alibabacloud_fc20230330 import models as fc_models

    return fc_models.InputCodeLocation(zip_file=base64.b64encode(code_zip()).decode())
