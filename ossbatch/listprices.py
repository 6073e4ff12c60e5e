"""The default unit prices of --dry-run's cost estimate: each with its page and the date
the page gave, in one currency (USD, Alibaba Cloud's international site, pay-as-you-go).

A price the docs do not state stays None: its cost prints as null with the setting that
fills it, never a guess. The environment's ``prices:`` (ossbatch.config.PriceTable) wins
per price. Why these figures and not others: docs/decisions/dry-run-prices.md.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CURRENCY = "USD"

FC_PAGE = (
    "https://alibabacloud.com/help/en/functioncompute/fc-3-0/product-overview/"
    "pay-as-you-go-billing-method-1"
)
FLOW_PAGE = "https://www.alibabacloud.com/help/en/serverless-workflow/latest/billing-billing"
FC_CU_USD = 0.000020  # tier 1 (first 100 M CU a month); the 20% discount ended 2025-08-27


@dataclass(frozen=True)
class ListPrice:
    value: float | None
    unit: str
    source: str | None = None
    dated: str | None = None  # the page's "Last Updated" date
    basis: str = ""  # how the value follows from the page


DEFAULTS: dict[str, ListPrice] = {
    "oss_put_per_10k": ListPrice(None, "per 10,000 PUT-type requests (CopyObject, PUT, LIST)"),
    "oss_get_per_10k": ListPrice(None, "per 10,000 GET-type requests (HEAD, GET)"),
    "fc_per_gb_second": ListPrice(
        round(0.15 * FC_CU_USD, 10),
        "per GB-second of function memory",
        FC_PAGE,
        "2024-08-27",
        "0.15 CU per GB-second x USD 0.000020 per CU",
    ),
    "fc_per_vcpu_second": ListPrice(
        round(1 * FC_CU_USD, 10),
        "per active vCPU-second",
        FC_PAGE,
        "2024-08-27",
        "1 CU per vCPU-second x USD 0.000020 per CU",
    ),
    "fc_per_million_invocations": ListPrice(
        round(75 * 100 * FC_CU_USD, 10),
        "per million function invocations",
        FC_PAGE,
        "2024-08-27",
        "75 CU per 10,000 invocations x USD 0.000020 per CU",
    ),
    "flow_per_1k_transitions": ListPrice(
        0.025,
        "per 1,000 state transitions (Standard mode)",
        FLOW_PAGE,
        "2026-02-28",
        "USD 0.25 per 10,000 step transitions; the 5,000 free a month are not deducted",
    ),
}
RESTORE_UNIT = "per GB retrieved"


def resolve(table, restore_keys: list[tuple[str, str]] = ()) -> dict[str, dict]:
    """Each price the estimate uses: its value and where it came from.

    ``table`` is the environment's PriceTable (or None); ``restore_keys`` are the
    (storage class, tier) pairs the job would restore. Defaults apply only in their own
    currency: a table in another currency gets no USD figure mixed into its sums.
    """
    currency = getattr(table, "currency", None) or DEFAULT_CURRENCY
    same_currency = currency == DEFAULT_CURRENCY
    out: dict[str, dict] = {}
    for name, default in DEFAULTS.items():
        mine = getattr(table, name, None) if table is not None else None
        out[name] = _entry(name, mine, default if same_currency else ListPrice(None, default.unit))
    fees = getattr(table, "restore_per_gb", None) or {}
    for cls, tier in restore_keys:
        mine = (fees.get(cls) or {}).get(tier)
        name = f"restore_per_gb.{cls}.{tier}"
        out[name] = _entry(name, mine, ListPrice(None, RESTORE_UNIT))
    for entry in out.values():
        entry["currency"] = currency
    return out


def _entry(name: str, mine: float | None, default: ListPrice) -> dict:
    if mine is not None:
        return {"value": mine, "unit": default.unit, "origin": "environment"}
    if default.value is not None:
        return {
            "value": default.value,
            "unit": default.unit,
            "origin": "default",
            "source": default.source,
            "dated": default.dated,
            "basis": default.basis,
        }
    return {
        "value": None,
        "unit": default.unit,
        "origin": "unset",
        "note": f"no documented default; set prices.{name} in the environment file",
    }


def describe(name: str, entry: dict) -> str:
    """One line for people: the value, and its source and date or the setting that fills it."""
    if entry["value"] is None:
        return f"{name}: null ({entry['note']})"
    value = f"{entry['value']:g} {entry['currency']} {entry['unit']}"
    if entry["origin"] == "environment":
        return f"{name}: {value} (from the environment file)"
    return f"{name}: {value} (default: {entry['source']}, dated {entry['dated']}; {entry['basis']})"
