"""KMS and RAM: the RAM action and resource of each KMS request.

KMS's RAM page (help.aliyun.com/document_detail/28953: "Resource types in KMS") names actions
`kms:<api-name>` and a secret `acs:kms:${region}:${account}:secret/${secret-name}`; the
secret actions localcloud serves all act on one secret.
"""

from __future__ import annotations

SECRET_ACTIONS = ("CreateSecret", "GetSecretValue", "PutSecretValue")


def required(action: str, secret_arn: str) -> list[tuple[str, str]]:
    return [(f"kms:{action}", secret_arn)]
