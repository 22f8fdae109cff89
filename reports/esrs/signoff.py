"""What is still open before a report is signed: listed on the confirmation page and kept in the audit trail.

Pure: it reads the report's inputs snapshot and computed facts, so the list is the one the signed documents were
computed from. Each item names where it is fixed (a page key the view turns into a link).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Fallback flags on ledger rows: the factor is not the one of the row's place and year (docs/methodology.md §5).
FALLBACK_FLAGS = ("region_unmapped", "proxy_vintage", "future_vintage", "no_factor")
GRID_FALLBACK_BASIS = "grid_average_fallback"


@dataclass(frozen=True)
class OpenItem:
    code: str
    text: str
    fix: str  # "settings", "esg", "billing", "factors", "instruments"


def open_items(
    inputs: dict[str, Any], computed: dict[str, Any], *, unestimated_cost_limit_percent: float
) -> list[OpenItem]:
    """Everything a signer should know is unfinished, in the order it is usually fixed."""
    items: list[OpenItem] = []
    org = inputs.get("organisation", {})
    if not org.get("configured"):
        items.append(
            OpenItem(
                "settings_missing",
                "Reporting settings (legal name, LEI, NACE, base year) have not been entered.",
                "settings",
            )
        )
    elif not org.get("lei"):
        items.append(OpenItem("lei_missing", "No LEI is entered: the iXBRL is marked not for filing.", "settings"))
    unapproved = [e["code"] for e in inputs.get("esg", []) if e.get("status") != "approved"]
    if unapproved:
        items.append(
            OpenItem(
                "esg_unapproved", f"{len(unapproved)} S1/G1 value(s) are not approved: {', '.join(unapproved)}.", "esg"
            )
        )
    coverage = inputs.get("billing_coverage") or {}
    share = (coverage.get("cost_share_percent") or {}).get("unestimated")
    limit = unestimated_cost_limit_percent
    if share is not None and share > limit:
        text = f"{share:.1f} % of the billed cloud cost could not be estimated (limit {limit:g} %)."
        items.append(OpenItem("billing_unestimated", text, "billing"))
    flags = inputs.get("flags", {})
    fallback = {flag: flags[flag] for flag in FALLBACK_FLAGS if flags.get(flag)}
    if fallback:
        listed = ", ".join(f"{flag} ({count})" for flag, count in fallback.items())
        items.append(OpenItem("fallback_factors", f"Ledger rows use fallback emission factors: {listed}.", "factors"))
    grid_mwh = computed.get("figures", {}).get("N", {}).get("market_basis_mwh", {}).get(GRID_FALLBACK_BASIS)
    if grid_mwh:
        items.append(
            OpenItem(
                "residual_mix_missing",
                f"{grid_mwh:,.3f} MWh of Scope 2 electricity has neither an instrument nor a residual-mix factor: "
                "its market-based figure uses the grid average.",
                "instruments",
            )
        )
    return items
