"""KMS and RAM: the RAM actions and resources of each KMS request.

KMS's RAM page (help.aliyun.com/document_detail/28953: "Resource types in KMS") names actions
`kms:<api-name>`, a secret `acs:kms:${region}:${account}:secret/${secret-name}`, a key
`acs:kms:${region}:${account}:key/${key-id}` and the key container
`acs:kms:${region}:${account}:key` (CreateKey).

A secret protected by a customer master key needs the caller's own rights on that key as
well (docs/localcloud-kms.md):
- GetSecretValue: "If a user-specified key is used to protect the secret value, the caller
  must have the kms:Decrypt permission on the corresponding master key" (GetSecretValue API
  reference, 2016-01-20);
- CreateSecret: "Before you encrypt the secret value, you must have the kms:GenerateDataKey
  permission on the key" (CreateSecret API reference). PutSecretValue encrypts a new value
  with the same key; its page is silent, so localcloud asks the same (the stricter reading).
"""

from __future__ import annotations

SECRET_ACTIONS = ("CreateSecret", "DescribeSecret", "GetSecretValue", "PutSecretValue")
KEY_ACTIONS = (
    "CreateKey",
    "DescribeKey",
    "EnableKey",
    "DisableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
)
# what the secret action does with its customer master key, as a RAM action on the key
KEY_USE = {
    "CreateSecret": "kms:GenerateDataKey",
    "PutSecretValue": "kms:GenerateDataKey",
    "GetSecretValue": "kms:Decrypt",
}


def required(action: str, secret_arn: str, key_arn: str | None = None) -> list[tuple[str, str]]:
    """(action, resource) pairs a secret request needs, the secret's first; `key_arn`: the
    customer master key protecting the secret, None for the service's own key."""
    needs = [(f"kms:{action}", secret_arn)]
    if key_arn is not None and action in KEY_USE:  # DescribeSecret reads metadata only
        needs.append((KEY_USE[action], key_arn))
    return needs


def key_container(region: str, account_id: str) -> str:
    """CreateKey's resource: the key container (the key does not exist yet)."""
    return f"acs:kms:{region}:{account_id}:key"


def key_required(action: str, resource: str) -> list[tuple[str, str]]:
    """A key request's one (action, resource): the key's ARN, or the container (CreateKey)."""
    return [(f"kms:{action}", resource)]
