"""Reads of the market-based inputs (contractual instruments, residual-mix factors) in the shape the pure
method takes (greenesg/footprint/methodology/market.py).

One place for both readers: the ESRS report snapshot (`reports.esrs.selectors.report_inputs`) and the
dashboard totals (`reports.dashboards.selectors.totals`), so a change to an instrument reaches both in the same form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth

from greenesg.footprint.models import LedgerEntry
from reports.models import ContractualInstrument, ResidualMixFactor


def instrument_dicts(*, organisation_id: int) -> list[dict[str, Any]]:
    """The organisation's instruments, oldest first (their id orders the allocation notes)."""
    return [
        {
            "id": i.id,
            "type": i.instrument_type,
            "type_label": i.get_instrument_type_display(),
            "mwh": i.mwh,
            "market": i.market.upper(),
            "generation_start": i.generation_start.isoformat(),
            "generation_end": i.generation_end.isoformat(),
            "consumption_start": i.consumption_start.isoformat(),
            "consumption_end": i.consumption_end.isoformat(),
            "rate": i.emission_rate_g_per_kwh,
            "registry_ids": i.registry_ids,
            "supplier": i.supplier,
            "evidence_name": i.evidence_name,
            "evidence_sha256": i.evidence_sha256,
        }
        for i in ContractualInstrument.objects.filter(organisation_id=organisation_id).order_by("id")
    ]


def residual_mix_dicts(*, organisation_id: int) -> list[dict[str, Any]]:
    return [
        {
            "zone": r.zone.upper(),
            "year": r.year,
            "g_per_kwh": r.g_co2e_per_kwh,
            "nuclear_share": r.nuclear_share_percent,
            "source": r.source,
            "version": r.version,
        }
        for r in ResidualMixFactor.objects.filter(organisation_id=organisation_id)
    ]


def scope2_ledger(*, organisation_id: int, first: dt.date | None, last: dt.date | None) -> QuerySet[LedgerEntry]:
    """Inventory Scope 2 ledger rows of [first, last] (UTC days; None leaves that end open)."""
    rows = LedgerEntry.objects.filter(organisation_id=organisation_id, in_inventory=True, scope=2)
    rows = rows.filter(day__gte=first) if first is not None else rows
    return rows.filter(day__lte=last) if last is not None else rows


def scope2_sums(rows: QuerySet[LedgerEntry], dims: list[str], *, where: Q | None = None) -> list[dict[str, Any]]:
    """Scope 2 sums per (dims, month, country) in the row shape of the report snapshot (`month`, `country`,
    `energy_kwh`, `kg_location`, `kg_market`); a row without a market figure counts at its location figure,
    as in the report (reports.esrs.selectors._ledger_rows)."""
    grouped = (
        rows.filter(where or Q())
        .annotate(cell_month=TruncMonth("day"))
        .values(*dims, "cell_month", "country_iso")
        .annotate(
            energy=Sum("energy_facility_kwh"),
            kg_loc=Sum(Coalesce("kgco2e_location", 0.0)),
            kg_mkt=Sum(Coalesce("kgco2e_market", "kgco2e_location", 0.0)),
        )
        .order_by()
    )
    out = []
    for row in grouped:
        month = row["cell_month"]
        out.append(
            {
                **{d: row[d] for d in dims},
                "scope": 2,
                "month": month.date() if isinstance(month, dt.datetime) else month,
                "country": row["country_iso"] or "",
                "energy_kwh": float(row["energy"] or 0.0),
                "kg_location": float(row["kg_loc"] or 0.0),
                "kg_market": float(row["kg_mkt"] or 0.0),
            }
        )
    return out
