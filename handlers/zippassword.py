"""The password of encrypted packages: read from the function's environment at run time.

It never travels through the flow (input, history), the page result, logs, reports or
notifications: the environment's ``unzip.password`` sets ``OSSBATCH_UNZIP_PASSWORD`` on
the unzip function only (a sensitive Terraform variable in the cloud, the shell's variable
locally; docs/decisions/unzip-passwords.md).
"""

from __future__ import annotations

import os

PASSWORD_VARIABLE = "OSSBATCH_UNZIP_PASSWORD"


def package_password() -> bytes | None:
    value = os.environ.get(PASSWORD_VARIABLE)
    return value.encode("utf-8") if value else None
