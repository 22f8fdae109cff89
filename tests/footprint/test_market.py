"""The market-based method (greenesg/footprint/methodology/market.py), against hand-computed numbers.

One market, DEU, two months of 2026:
  January  project A 60 kWh (ledger 24 kg), project B 40 kWh (ledger 16 kg)  → cell 100 kWh, 40 kg
  February project A 50 kWh (ledger 20 kg)                                    → cell  50 kWh, 20 kg
A guarantee of origin of 0.09 MWh (0 g/kWh) for January–February is spread 100 : 50, i.e. 60 kWh in January
and 30 kWh in February.
"""

from __future__ import annotations

import datetime as dt

import pytest

from greenesg.footprint.methodology import market

JAN, FEB = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
LEDGER = [
    {"month": "2026-01-01", "scope": 2, "country": "deu", "energy_kwh": 60, "kg_location": 24, "kg_market": 24},
    {"month": "2026-01-01", "scope": 2, "country": "DEU", "energy_kwh": 40, "kg_location": 16, "kg_market": 16},
    {"month": "2026-02-01", "scope": 2, "country": "DEU", "energy_kwh": 50, "kg_location": 20, "kg_market": 20},
    # Scope 3 (cloud) never enters the cells.
    {"month": "2026-01-01", "scope": 3, "country": "DEU", "energy_kwh": 999, "kg_location": 99, "kg_market": 99},
]
GO = {
    "id": 1,
    "type": "GO",
    "mwh": 0.09,
    "market": "DEU",
    "consumption_start": "2026-01-01",
    "consumption_end": "2026-02-28",
    "rate": 0.0,
}
RESIDUAL = {"zone": "DEU", "year": 2025, "g_per_kwh": 500.0, "nuclear_share": 10.0, "version": "1"}


def _cells(instruments: list, residual: list) -> dict:
    return market.market_cells(market.scope2_cells(LEDGER), instruments, residual)


def test_instruments_follow_consumption_and_the_residual_mix_covers_the_rest() -> None:
    cells = _cells([GO], [RESIDUAL])  # the 2025 residual mix applies to 2026 (published late)
    jan, feb = cells[(JAN, "DEU")], cells[(FEB, "DEU")]
    assert jan["covered_kwh"] == pytest.approx(60.0) and feb["covered_kwh"] == pytest.approx(30.0)
    # January: 40 uncovered kWh × 500 g = 20 kg; February: 20 kWh × 500 g = 10 kg.
    assert jan["kg_market"] == pytest.approx(20.0) and feb["kg_market"] == pytest.approx(10.0)
    assert jan["basis"] == market.MB_BASIS_RESIDUAL
    assert jan["nuclear_kwh"] == pytest.approx(4.0) and jan["fossil_kwh"] == pytest.approx(36.0)


def test_without_residual_mix_the_grid_average_covers_the_rest() -> None:
    jan = _cells([GO], [])[(JAN, "DEU")]
    # 40 of 100 kWh uncovered: 40 % of the ledger's 40 kg = 16 kg.
    assert jan["kg_market"] == pytest.approx(16.0)
    assert jan["basis"] == market.MB_BASIS_GRID


def test_claims_beyond_consumption_are_cut_back() -> None:
    big = {**GO, "mwh": 1.0}
    jan = _cells([big], [RESIDUAL])[(JAN, "DEU")]
    assert jan["covered_kwh"] == pytest.approx(100.0) and jan["kg_market"] == pytest.approx(0.0)
    assert jan["basis"] == market.MB_BASIS_INSTRUMENT


@pytest.mark.parametrize("residual", [[RESIDUAL], []])
def test_parts_of_a_cell_add_up_to_the_cell(residual: list) -> None:
    jan = _cells([GO], residual)[(JAN, "DEU")]
    a = market.cell_part(jan, kwh=60.0, kg_market=24.0)
    b = market.cell_part(jan, kwh=40.0, kg_market=16.0)
    assert a + b == pytest.approx(jan["kg_market"])
    # Pro rata to kWh: project A has 60 % of the cell's consumption, so 60 % of its residual-mix kg.
    if residual:
        assert a == pytest.approx(12.0) and b == pytest.approx(8.0)


def test_the_grid_share_applies_to_a_parts_own_ledger_figure() -> None:
    # Same month and market, different grid factors (e.g. two US states): each part keeps its own factor.
    ledger = [
        {"month": "2026-01-01", "scope": 2, "country": "USA", "energy_kwh": 50, "kg_location": 10, "kg_market": 10},
        {"month": "2026-01-01", "scope": 2, "country": "USA", "energy_kwh": 50, "kg_location": 30, "kg_market": 30},
    ]
    rec = {**GO, "market": "USA", "mwh": 0.05, "consumption_end": "2026-01-31"}
    cell = market.market_cells(market.scope2_cells(ledger), [rec], [])[(JAN, "USA")]
    # Half the cell is covered at 0 g: the other half at the grid average, 50 % of each part's own kg.
    assert cell["kg_market"] == pytest.approx(20.0)
    assert market.cell_part(cell, kwh=50.0, kg_market=10.0) == pytest.approx(5.0)
    assert market.cell_part(cell, kwh=50.0, kg_market=30.0) == pytest.approx(15.0)


def test_an_instrument_without_consumption_is_noted_and_unused() -> None:
    stray = {**GO, "id": 7, "market": "FRA"}
    allocations, notes = market.allocate_instruments([stray], market.scope2_cells(LEDGER))
    assert not allocations and notes == ["Instrument #7 (GO, FRA) matched no consumption in its period."]
