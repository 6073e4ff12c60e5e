"""The dry run's price table: documented defaults with page and date, the environment's
prices win one by one, and a price nobody documented stays null with the setting to fill."""

from __future__ import annotations

import pytest

from ossbatch import listprices
from ossbatch.config import PriceTable
from ossbatch.dryrun import Survey, costs

FIGURES = {
    "oss_requests": 20_000,
    "fc_gb_seconds": 1_000_000,
    "fc_vcpu_seconds": 500_000,
    "fc_invocations": 2_000_000,
    "flow_events": 40_000,
}


def test_without_a_price_table_the_documented_defaults_apply_with_their_page_and_date():
    prices = listprices.resolve(None)
    fc = prices["fc_per_gb_second"]
    assert fc["origin"] == "default" and fc["value"] == pytest.approx(0.000003)
    assert fc["source"].startswith("https://") and fc["dated"] == "2024-08-27"
    assert prices["flow_per_1k_transitions"]["value"] == pytest.approx(0.025)
    assert prices["fc_per_million_invocations"]["value"] == pytest.approx(0.15)
    assert {p["currency"] for p in prices.values()} == {"USD"}


def test_a_price_no_page_documents_is_null_and_names_the_setting():
    put = listprices.resolve(None)["oss_put_per_10k"]
    assert put["value"] is None and put["origin"] == "unset"
    assert "set prices.oss_put_per_10k" in put["note"]


def test_the_environment_wins_per_price_and_the_rest_stay_defaults():
    table = PriceTable(oss_put_per_10k=0.01, fc_per_gb_second=0.00001)
    prices = listprices.resolve(table)
    assert prices["oss_put_per_10k"] == {
        "value": 0.01,
        "unit": listprices.DEFAULTS["oss_put_per_10k"].unit,
        "origin": "environment",
        "currency": "USD",
    }
    assert prices["fc_per_gb_second"]["value"] == 0.00001
    assert prices["fc_per_gb_second"]["origin"] == "environment"
    assert prices["flow_per_1k_transitions"]["origin"] == "default"


def test_a_table_in_another_currency_gets_no_usd_default_mixed_in():
    prices = listprices.resolve(PriceTable(currency="CNY", flow_per_1k_transitions=0.17))
    assert prices["flow_per_1k_transitions"]["origin"] == "environment"
    assert prices["fc_per_gb_second"]["value"] is None
    assert {p["currency"] for p in prices.values()} == {"CNY"}


def test_restore_fees_per_class_and_tier_come_only_from_the_environment():
    keys = [("ColdArchive", "Bulk"), ("Archive", "Bulk")]
    table = PriceTable(restore_per_gb={"ColdArchive": {"Bulk": 0.004}})
    prices = listprices.resolve(table, keys)
    assert prices["restore_per_gb.ColdArchive.Bulk"]["value"] == 0.004
    assert prices["restore_per_gb.Archive.Bulk"]["value"] is None
    survey = Survey(bytes={"ColdArchive": 10 * 1024**3, "Archive": 1024**3})
    cost = costs(FIGURES, survey, prices, "Bulk")
    assert cost["restore_ColdArchive"] == 0.04 and cost["restore_Archive"] is None
    assert "restore_Archive" in cost["unpriced"]


def test_costs_multiply_each_figure_by_its_price_and_list_what_is_unpriced():
    cost = costs(FIGURES, Survey(), listprices.resolve(None), None)
    assert cost["fc_memory"] == 3.0  # 1 M GB-s x USD 0.000003
    assert cost["fc_vcpu"] == 10.0  # 500,000 vCPU-s x USD 0.00002
    assert cost["fc_invocations"] == 0.3  # 2 M x USD 0.15 per million
    assert cost["flow_transitions"] == 1.0  # 40,000 x USD 0.025 per 1,000
    assert cost["oss_requests"] is None and cost["unpriced"] == ["oss_requests"]
    assert cost["total_known"] == 14.3 and cost["currency"] == "USD"


def test_describe_prints_the_source_and_date_or_the_setting_to_fill():
    prices = listprices.resolve(PriceTable(oss_get_per_10k=0.01))
    lines = {name: listprices.describe(name, entry) for name, entry in prices.items()}
    assert listprices.FC_PAGE in lines["fc_per_gb_second"]
    assert "dated 2024-08-27" in lines["fc_per_gb_second"]
    assert "from the environment file" in lines["oss_get_per_10k"]
    assert "set prices.oss_put_per_10k" in lines["oss_put_per_10k"]
