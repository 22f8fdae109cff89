"""The sign-off list: each open item from a hand-built snapshot, and none when everything is done."""

from __future__ import annotations

from reports.esrs.signoff import open_items

DONE = {
    "organisation": {"configured": True, "lei": "529900T8BM49AURSDO55"},
    "esg": [{"code": "S1-6.headcount", "status": "approved"}],
    "billing_coverage": {"cost_share_percent": {"unestimated": 2.0}},
    "flags": {"default_utilisation": 4},
}
COMPUTED = {"figures": {"N": {"market_basis_mwh": {"instrument": 1.0}}}}


def codes(inputs: dict, computed: dict = COMPUTED) -> list[str]:
    return [i.code for i in open_items(inputs, computed, unestimated_cost_limit_percent=5)]


def test_nothing_is_open_when_everything_is_done() -> None:
    assert codes(DONE) == []


def test_each_open_item_is_named() -> None:
    inputs = {
        "organisation": {"configured": False},
        "esg": [
            {"code": "S1-6.headcount", "status": "approved"},
            {"code": "G1-4.corruption_convictions", "status": "submitted"},
        ],
        "billing_coverage": {"cost_share_percent": {"unestimated": 12.5}},
        "flags": {"region_unmapped": 3, "proxy_vintage": 1, "default_utilisation": 9},
    }
    computed = {"figures": {"N": {"market_basis_mwh": {"grid_average_fallback": 0.018}}}}

    items = {i.code: i for i in open_items(inputs, computed, unestimated_cost_limit_percent=5)}

    assert list(items) == [
        "settings_missing",
        "esg_unapproved",
        "billing_unestimated",
        "fallback_factors",
        "residual_mix_missing",
    ]
    assert "G1-4.corruption_convictions" in items["esg_unapproved"].text
    assert "12.5 %" in items["billing_unestimated"].text
    assert (
        "region_unmapped (3)" in items["fallback_factors"].text
        and "default_utilisation" not in items["fallback_factors"].text
    )
    assert "0.018 MWh" in items["residual_mix_missing"].text


def test_a_missing_lei_is_named_once_settings_exist() -> None:
    assert codes({**DONE, "organisation": {"configured": True, "lei": ""}}) == ["lei_missing"]


def test_unestimated_cost_below_the_limit_is_not_an_open_item() -> None:
    assert codes({**DONE, "billing_coverage": {"cost_share_percent": {"unestimated": 5.0}}}) == []
