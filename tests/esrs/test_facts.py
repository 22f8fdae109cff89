"""Pure period and fact logic on hand-built inputs (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.esrs import facts, periods


def test_fiscal_periods_with_an_april_year_start() -> None:
    q1 = periods.period_parse("2026-Q1", fiscal_start_month=4)
    assert (q1.start, q1.end) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    year = periods.period_parse("2026", fiscal_start_month=4)
    assert (year.start, year.end) == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    ytd = periods.period_parse("2026-ytd", fiscal_start_month=4, today=dt.date(2026, 11, 1))
    assert (ytd.start, ytd.end, ytd.label) == (dt.date(2026, 4, 1), dt.date(2026, 9, 30), "2026-YTD")
    assert ytd.previous_year().end == dt.date(2025, 9, 30)
    quarters = [periods.period_parse(f"2026-Q{q}", fiscal_start_month=4) for q in range(1, 5)]
    assert quarters[0].start == year.start and quarters[-1].end == year.end
    assert all(a.end + dt.timedelta(days=1) == b.start for a, b in zip(quarters, quarters[1:], strict=False))
    assert periods.last_closed_quarter(dt.date(2026, 4, 2), 4) == (2025, 4)


@pytest.mark.parametrize("text", ["2026-Q5", "Q3-2026", "", "2026-H1", "1800"])
def test_it_rejects_bad_periods(text: str) -> None:
    with pytest.raises(periods.InvalidPeriod):
        periods.period_parse(text)


def _row(month: str, country: str, kwh: float, loc: float, mkt: float) -> dict:
    return {
        "month": month,
        "scope": 2,
        "category": "",
        "country": country,
        "energy_kwh": kwh,
        "kg_location": loc,
        "kg_market": mkt,
        "records": 1,
        "method": "measured",
    }


def _inputs(window_end: str = "2026-03-31") -> dict:
    return {
        "organisation": {"high_impact": False, "currency": "EUR"},
        "windows": {
            "N": {"start": "2026-01-01", "end": window_end, "title": "N", "quarters": [[2026, 1]]},
            "N-1": {"start": "2025-01-01", "end": "2025-03-31", "title": "N-1", "quarters": [[2025, 1]]},
        },
        "ledger": [
            _row("2026-01-01", "FRA", 1000, 50, 60),
            _row("2026-02-01", "FRA", 3000, 150, 180),
            _row("2026-01-01", "DEU", 1000, 380, 450),
        ],
        "instruments": [
            {
                "id": 1,
                "type": "GO",
                "mwh": 2.0,
                "market": "FRA",
                "consumption_start": "2026-01-01",
                "consumption_end": "2026-02-28",
                "rate": 0.0,
            }
        ],
        "residual_mix": [{"zone": "FRA", "year": 2025, "g_per_kwh": 100.0, "nuclear_share": 60.0, "version": "1"}],
    }


def test_market_based_scope2_uses_instruments_then_residual_mix_then_grid_average() -> None:
    result = facts.compute(_inputs())
    n = result["figures"]["N"]
    # FRA: 2 MWh of GOs spread 500/1500 kWh over Jan/Feb (pro rata to consumption) at 0 g; the rest at the
    # 2025 residual mix (100 g/kWh) = 50 + 150 kg. DEU: no instrument, no residual mix → ledger market 450 kg.
    assert n["scope2_market"] == pytest.approx(0.650)
    assert n["scope2_location"] == pytest.approx(0.580)
    assert n["energy"]["purchased_renewable"] == pytest.approx(2.0)
    assert n["energy"]["nuclear"] == pytest.approx(1.2)
    assert n["energy"]["fossil"] == pytest.approx(1.8)
    assert n["energy"]["total"] == pytest.approx(5.0)
    assert n["energy"]["renewable_share"] == pytest.approx(40.0)
    assert result["facts"]["other.instrument_share.N"]["value"] == pytest.approx(40.0)
    assert any("grid average" in note for note in result["notes"])


def test_months_add_up_to_the_quarter_with_instruments() -> None:
    quarter = facts.compute(_inputs())["figures"]["N"]
    inputs = _inputs()
    market = facts.scope2_market_cells(inputs)
    months = [facts.window_figures(inputs, dt.date(2026, m, 1), dt.date(2026, m, 28), market) for m in (1, 2, 3)]
    for key in ("scope2_market", "scope2_location", "total_market"):
        assert sum(m[key] for m in months) == pytest.approx(quarter[key])
    assert sum(m["energy"]["purchased_renewable"] for m in months) == pytest.approx(2.0)


def test_cloud_is_scope3_1_1_and_never_energy() -> None:
    inputs = _inputs()
    inputs["instruments"], inputs["residual_mix"] = [], []
    inputs["ledger"].append(
        {
            "month": "2026-01-01",
            "scope": 3,
            "category": "1.1",
            "country": "IRL",
            "energy_kwh": 99_000,
            "kg_location": 2000,
            "kg_market": 1000,
            "method": "modelled",
        }
    )
    n = facts.compute(inputs)["figures"]["N"]
    assert n["scope3_categories"]["1.1"] == pytest.approx(2.0) and n["scope3_categories"]["1"] == pytest.approx(2.0)
    assert n["scope3"] == pytest.approx(2.0)
    assert n["energy"]["total"] == pytest.approx(5.0)
    assert n["total_location"] == pytest.approx(0.58 + 2.0)


def test_the_grid_average_sentence_counts_only_electricity_without_instrument_or_residual_mix() -> None:
    """DEU 38 kWh in January, 20 kWh of it covered by a GO, no residual mix: 18 kWh = 0.018 MWh use the grid
    average (the sentence used to count all 38 kWh of the cell, instrument-covered volume included)."""
    inputs = _inputs()
    inputs["ledger"] = [_row("2026-01-01", "DEU", 38.0, 14.4, 14.4)]
    inputs["instruments"] = [
        {
            "id": 7,
            "type": "GO",
            "mwh": 0.020,
            "market": "DEU",
            "consumption_start": "2026-01-01",
            "consumption_end": "2026-01-31",
            "rate": 0.0,
        }
    ]
    inputs["residual_mix"] = []

    result = facts.compute(inputs)

    bases = result["figures"]["N"]["market_basis_mwh"]
    assert bases["grid_average_fallback"] == pytest.approx(0.018)
    assert bases["instrument"] == pytest.approx(0.020)
    sentence = next(note for note in result["notes"] if "grid average" in note)
    assert sentence.startswith("0.018 MWh")


def test_a_window_without_data_is_not_available_not_zero() -> None:
    """N-1 (2025-Q1) has no ledger row in these inputs: its figures are None, never 0, and a note says so."""
    result = facts.compute(_inputs())

    previous = {fid: f for fid, f in result["facts"].items() if f["window"] == "N-1"}
    assert previous and all(f["value"] is None for f in previous.values())
    assert result["facts"]["e1_6.total_location.N"]["value"] == pytest.approx(0.580)
    assert any(note.startswith("N-1: no data") for note in result["notes"])


def test_a_partial_comparative_carries_its_coverage() -> None:
    inputs = _inputs()
    inputs["ledger"].append(_row("2025-02-01", "FRA", 10, 1, 1))

    result = facts.compute(inputs)

    assert result["facts"]["e1_6.total_location.N-1"]["value"] == pytest.approx(0.001)
    assert "N-1: 1 of 3 months have data; comparisons with it are partial." in result["notes"]


def test_the_ixbrl_never_tags_a_window_without_data() -> None:
    from reports.esrs import exports

    inputs = _inputs()
    inputs["organisation"].update({"legal_name": "X", "slug": "x", "lei": ""})
    inputs["period"] = {"label": "2026-Q1", "title": "Q1 2026"}
    computed = facts.compute(inputs)

    document = exports.ixbrl_bytes(inputs, computed, {"status_label": "draft"}).decode("utf-8")

    assert "2025-01-01" not in document  # no context of the empty N-1 window, so no fact tagged 0 there
