"""The report as HTML (Django template) and PDF (WeasyPrint with our fetcher).

`report_context` turns the inputs snapshot and computed facts into presentation values (rounded text,
charts as `data:` SVG images). User text (names, reasons, descriptions) stays plain strings that the
template autoescapes; nothing here marks anything safe. WeasyPrint gets `ReportURLFetcher` on every
HTML() and CSS() object, with the static folder as base URL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from greenesg.footprint.flags import flag_explain
from ingestion.billing.coverage import coverage_rows
from reports.esrs import svg
from reports.esrs.datapoints import DATAPOINTS
from reports.esrs.facts import SCOPE3_LABELS, Fact, base_year_values, months_between

COVER_STATUS = "Interim management information in ESRS E1 layout — not the statutory sustainability statement."
MAX_TABLE_ROWS = 40
MAX_SOURCE_ROWS = 200


# ------------------------------------------------------------------------------------------ formatting


def fmt(value: Any, unit: str) -> str:
    """Presentation rounding: t and MWh to 3 decimals (kg / kWh), % to 1, intensity per million to 3."""
    if value is None:
        return "–"
    number = float(value)
    if unit == "percent":
        return f"{number:,.1f}"
    if unit == "intensity":
        return f"{number * 1_000_000:,.3f}"
    if unit == "currency":
        return f"{number:,.0f}"
    if unit == "kwh":
        return f"{number:,.1f}"
    return f"{number:,.3f}"


_ROW_SCOPES = {"scope1": "scope1", "scope2_location": "scope2", "scope2_market": "scope2", "scope3": "scope3"}


def _records_href(records_url: str | None, row_id: str, window: dict[str, Any] | None) -> str | None:
    """The records list behind one E1-6 figure: the window's days and the row's scope (no scope for totals)."""
    if records_url is None or window is None:
        return None
    if row_id.startswith("scope3.cat"):
        scope = row_id if row_id != "scope3.catother" else None
        if scope is None:
            return None
    elif row_id in ("total_location", "total_market"):
        scope = ""
    else:
        scope = _ROW_SCOPES.get(row_id)
        if scope is None:
            return None
    query = f"?start={window['start']}&end={window['end']}" + (f"&scope={scope}" if scope else "")
    return records_url + query


def _table_view(
    table: dict[str, Any], records_url: str | None = None, windows: dict[str, Any] | None = None
) -> dict[str, Any]:
    rows = []
    for row in table["rows"]:
        cells = []
        for col in table["columns"]:
            cell = row["cells"].get(col["id"], {"value": None})
            unit = cell.get("unit") or row["unit"]
            text = fmt(cell.get("value"), unit)
            if row.get("excluded") and cell.get("value") is None and col["id"] in ("N", "N-1", "YTD", "previous"):
                text = "excl."
            window = (windows or {}).get(col["id"])
            href = _records_href(records_url, row["id"], window) if cell.get("value") is not None else None
            cells.append({"text": text, "col": col["id"], "href": href})
        rows.append({**row, "texts": cells})
    return {**table, "view_rows": rows}


# ---------------------------------------------------------------------------------------------- charts


def _scope_chart(figures: dict[str, Any], windows: dict[str, Any]) -> str:
    labels = ["Scope 1", "Scope 2 (location)", "Scope 2 (market)", "Scope 3", "Total (location)", "Total (market)"]
    keys = ["scope1", "scope2_location", "scope2_market", "scope3", "total_location", "total_market"]
    series = [(windows[w]["title"], [figures[w][k] for k in keys]) for w in ("N-1", "N")]
    return svg.data_uri(svg.hbar_chart(labels, series, unit="tCO2e"))


def _scope3_chart(figures: dict[str, Any]) -> str | None:
    categories = dict(figures["N"]["scope3_categories"])
    cloud = categories.get("1.1", 0.0)
    categories["1"] = categories.get("1", 0.0) - cloud  # the rest of category 1, next to its cloud sub-line
    labels = {k: f"Cat. {v}" for k, v in SCOPE3_LABELS.items()}
    labels.update({"1": "Cat. 1 Purchased goods (excl. cloud)", "1.1": "Cat. 1.1 Cloud and data centre services"})
    ordered = sorted(((k, v) for k, v in categories.items() if v > 1e-12), key=lambda kv: -kv[1])[:10]
    if not ordered:
        return None
    chart = svg.hbar_chart(
        [labels[k] for k, _ in ordered], [("N", [v for _, v in ordered])], unit="tCO2e", label_width=260
    )
    return svg.data_uri(chart)


def _monthly_chart(inputs: dict[str, Any], window: dict[str, Any]) -> str:
    months = months_between(dt.date.fromisoformat(window["start"]), dt.date.fromisoformat(window["end"]))
    keys = [m.isoformat() for m in months]
    sums: dict[int, dict[str, float]] = {1: defaultdict(float), 2: defaultdict(float), 3: defaultdict(float)}
    for row in inputs.get("ledger", []):
        if row["month"] in keys:
            sums[min(3, int(row["scope"]))][row["month"]] += float(row.get("kg_location") or 0.0) / 1000.0
    series = [(f"Scope {s}", [sums[s][k] for k in keys]) for s in (1, 2, 3)]
    return svg.data_uri(
        svg.stacked_columns([m.strftime("%b %Y") for m in months], series, unit="tCO2e (location-based)")
    )


# ------------------------------------------------------------------------------------------ sections


def _in_window(row: dict[str, Any], window: dict[str, Any]) -> bool:
    return window["start"] <= row["month"] <= window["end"]


def _cloud(inputs: dict[str, Any]) -> dict[str, Any]:
    window = inputs["windows"]["N"]
    projects = inputs.get("projects", {})
    by_region: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    by_project: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    methods: dict[str, float] = defaultdict(float)
    for row in inputs.get("ledger", []):
        if int(row["scope"]) != 3 or row.get("category") != "1.1" or not _in_window(row, window):
            continue
        for bucket in (
            by_region[(row.get("provider") or "—", row.get("region") or "—")],
            by_project[projects.get(str(row.get("project_id")), "Unallocated")],
        ):
            bucket["kwh"] += row["energy_kwh"]
            bucket["t"] += row["kg_location"] / 1000.0
            bucket["embodied_t"] += row.get("kg_embodied", 0.0) / 1000.0
            bucket["spend"] += row.get("cost", 0.0)
            bucket["records"] += row.get("records", 0)
        methods[row.get("method") or "unknown"] += row["kg_location"]

    def rows(source: dict, label: Any) -> list[dict[str, Any]]:
        ordered = sorted(source.items(), key=lambda kv: -kv[1]["t"])
        out = [{"label": label(k), **{m: v for m, v in vals.items()}} for k, vals in ordered[:MAX_TABLE_ROWS]]
        rest = ordered[MAX_TABLE_ROWS:]
        if rest:
            out.append({"label": f"{len(rest)} more", **{m: sum(v[m] for _, v in rest) for m in rest[0][1]}})
        return out

    total_t = sum(methods.values()) / 1000.0
    region_rows = rows(by_region, lambda k: f"{k[0]} / {k[1]}")
    chart = None
    if region_rows:
        chart = svg.data_uri(
            svg.hbar_chart(
                [r["label"] for r in region_rows[:12]],
                [("tCO2e", [r["t"] for r in region_rows[:12]])],
                unit="tCO2e",
                label_width=220,
            )
        )
    return {
        "regions": region_rows,
        "projects": rows(by_project, lambda k: k),
        "total_t": total_t,
        "method_shares": [
            {"method": m, "percent": v / sum(methods.values()) * 100.0} for m, v in sorted(methods.items()) if v
        ]
        if sum(methods.values())
        else [],
        "chart": chart,
    }


def _targets(inputs: dict[str, Any], computed: dict[str, Any]) -> list[dict[str, Any]]:
    windows, figures = inputs["windows"], computed["figures"]
    actual_window = "YTD" if "YTD" in windows else "N"
    window = windows[actual_window]
    months = len(months_between(dt.date.fromisoformat(window["start"]), dt.date.fromisoformat(window["end"])))
    base = inputs.get("base_year") or {}
    out = []
    for target in inputs.get("targets", []):
        key = f"{target['scope']}|{target['target_year']}"
        info = computed["targets"].get(key, {})
        actual = figures[actual_window].get(target["scope"])
        annualised = actual * 12 / months if actual is not None and months else None
        base_value = base_year_values(base).get(target["scope"])
        vs_base = (annualised - base_value) / base_value * 100 if annualised is not None and base_value else None
        on_track = None
        if base_value and info.get("value") is not None and base.get("year") and annualised is not None:
            span = int(target["target_year"]) - int(base["year"])
            elapsed = int(inputs["windows"]["N"]["start"][:4]) - int(base["year"])
            if span > 0:
                path = base_value - (base_value - info["value"]) * min(1.0, max(0.0, elapsed / span))
                on_track = annualised <= path
        out.append(
            {
                "scope": target.get("scope_label") or target["scope"],
                "target_year": target["target_year"],
                "reduction_percent": fmt(target.get("reduction_percent"), "percent"),
                "target_value": fmt(info.get("value"), "t"),
                "base_value": fmt(base_value, "t"),
                "actual": fmt(actual, "t"),
                "annualised": fmt(annualised, "t"),
                "vs_base": fmt(vs_base, "percent"),
                "status": "—" if on_track is None else ("On track" if on_track else "Off track"),
                "science_based": "yes" if target.get("science_based") else "no",
            }
        )
    return out


def _kpis(inputs: dict[str, Any], computed: dict[str, Any]) -> list[dict[str, str]]:
    figures, facts = computed["figures"], computed["facts"]
    n, prev = figures["N"], figures["N-1"]
    pq = figures.get("PQ")

    def change(a: float | None, b: float | None) -> str:
        if a is None or not b:
            return "–"
        return f"{(a - b) / abs(b) * 100:+.1f} %"

    def value(window: dict[str, Any] | None, key: str) -> float | None:
        # A window without any ledger data has no figure: "–", never a 0 that a change could be computed from.
        if window is None or window.get("data_months") == 0:
            return None
        return window[key]

    def kpi(label: str, key: str, unit: str) -> dict[str, str]:
        return {
            "label": label,
            "value": fmt(value(n, key), "t"),
            "unit": unit,
            "yoy": change(value(n, key), value(prev, key)),
            "qoq": change(value(n, key), value(pq, key)) if pq else "",
        }

    intensity = facts.get("intensity.market.N", {}).get("value")
    energy = n["energy"]
    return [
        kpi("Total GHG emissions (location-based)", "total_location", "tCO2e"),
        kpi("Total GHG emissions (market-based)", "total_market", "tCO2e"),
        kpi("Scope 1", "scope1", "tCO2e"),
        kpi("Scope 2 (location-based)", "scope2_location", "tCO2e"),
        kpi("Scope 2 (market-based)", "scope2_market", "tCO2e"),
        kpi("Scope 3", "scope3", "tCO2e"),
        {
            "label": "Energy consumption (own operations)",
            "value": fmt(None if n.get("data_months") == 0 else energy["total"], "MWh"),
            "unit": "MWh",
            "yoy": change(energy["total"], prev["energy"]["total"]),
            "qoq": change(energy["total"], pq["energy"]["total"]) if pq else "",
        },
        {
            "label": "Renewable share of energy",
            "value": fmt(energy["renewable_share"], "percent"),
            "unit": "%",
            "yoy": "",
            "qoq": "",
        },
        {
            "label": "GHG intensity (market-based)",
            "value": fmt(intensity, "intensity"),
            "unit": f"tCO2e / {inputs['organisation'].get('currency') or 'EUR'} m",
            "yoy": "",
            "qoq": "",
        },
    ]


def _screening(inputs: dict[str, Any], computed: dict[str, Any]) -> list[dict[str, Any]]:
    screening = {s["category"]: s for s in inputs.get("screening", [])}
    cats = computed["figures"]["N"]["scope3_categories"]
    rows = []
    for number in range(1, 16):
        key = str(number)
        item = screening.get(key)
        value = cats.get(key)
        status = "included" if (item and item["included"]) else ("excluded" if item else "not screened")
        if not item and value:
            status = "included (data present, not screened)"
        rows.append(
            {
                "category": SCOPE3_LABELS[key],
                "status": status,
                "reason": item["reason"] if item else "",
                "method": (item or {}).get("method") or "",
                "value": fmt(value, "t") if value else "–",
            }
        )
    return rows


def _quality(inputs: dict[str, Any], computed: dict[str, Any]) -> dict[str, Any]:
    methods = computed["figures"]["N"]["method_kg"]
    total = sum(methods.values())
    sources = inputs.get("sources", [])
    return {
        "records": computed["figures"]["N"]["records"],
        "methods": [
            {"method": m, "t": v / 1000.0, "percent": v / total * 100 if total else None}
            for m, v in sorted(methods.items(), key=lambda kv: -kv[1])
        ],
        "flags": [
            {"code": code, "count": count, "title": flag_explain(code).title, "meaning": flag_explain(code).meaning}
            for code, count in sorted(inputs.get("flags", {}).items())
        ],
        "sources": sources[:MAX_SOURCE_ROWS],
        "sources_more": max(0, len(sources) - MAX_SOURCE_ROWS),
        "primary": fmt(computed["figures"]["N"]["scope3_primary_percent"], "percent"),
    }


def _coverage(inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The billing coverage of the period, or None when no bill was imported for it."""
    cov = inputs.get("billing_coverage")
    if not cov or not cov.get("billed_lines"):
        return None
    currency = inputs["organisation"].get("currency") or ""
    money = lambda value: f"{value:,.2f} {currency}".strip()  # noqa: E731 - two uses, one line each
    estimated = cov.get("estimated_cost_share_percent")
    unestimated = cov["cost_share_percent"].get("unestimated")
    return {
        "billed": money(cov["billed_cost"]),
        "estimated": "–" if estimated is None else f"{estimated:.1f} %",
        "unestimated": "–" if unestimated is None else f"{unestimated:.1f} %",
        "unestimated_cost": money(cov["cost"]["unestimated"]) if cov["cost"]["unestimated"] else "",
        "rows": coverage_rows(cov),
    }


def _restatement(inputs: dict[str, Any], computed: dict[str, Any]) -> dict[str, Any] | None:
    restated = inputs.get("restated_from")
    if not restated:
        return None
    rows = []
    for fid, data in computed["facts"].items():
        fact = Fact.from_json(data)
        if fact.window != "N" or not fid.startswith(("e1_5.", "e1_6.", "intensity.")):
            continue
        before = restated["facts"].get(fid)
        after = fact.value
        unit = DATAPOINTS[fact.datapoint_id].display_unit
        changed = (before is None) != (after is None) or (
            before is not None and after is not None and abs(before - after) > 1e-9
        )
        rows.append(
            {
                "label": fact.label,
                "before": fmt(before, unit),
                "after": fmt(after, unit),
                "delta": fmt((after or 0) - (before or 0), unit) if changed else "",
                "changed": changed,
            }
        )
    return {**restated, "rows": rows, "changed": sum(1 for r in rows if r["changed"])}


def report_context(
    inputs: dict[str, Any], computed: dict[str, Any], meta: dict[str, Any], *, records_url: str | None = None
) -> dict[str, Any]:
    """Everything the report template prints. `meta`: status, version, generated_at, signed_by/at.

    With `records_url` (the web view, not the PDF) every E1-6 figure links to the ledger rows it sums.
    """
    windows = inputs["windows"]
    tables = {t["id"]: _table_view(t, records_url if t["id"] == "e1_6" else None, windows) for t in computed["tables"]}
    n_energy = computed["figures"]["N"]["energy"]
    cloud = _cloud(inputs)
    cloud_kwh = sum(r["kwh"] for r in cloud["regions"])
    return {
        "org": inputs["organisation"],
        "period": inputs["period"],
        "windows": windows,
        "prev_title": windows["N-1"]["title"],
        "meta": meta,
        "cover_status": COVER_STATUS,
        "kpis": _kpis(inputs, computed),
        "tables": tables,
        "targets": _targets(inputs, computed),
        "base_year": inputs.get("base_year") or {},
        "screening": _screening(inputs, computed),
        "included_categories": [SCOPE3_LABELS[s["category"]] for s in inputs.get("screening", []) if s["included"]],
        "cloud": cloud,
        "cloud_mwh": cloud_kwh / 1000.0,
        "energy_basis_residual": bool(inputs.get("residual_mix")),
        "instruments": inputs.get("instruments", []),
        "market_cells": computed["market_cells"],
        "instrument_share": fmt(computed["facts"].get("other.instrument_share.N", {}).get("value"), "percent"),
        "notes": computed["notes"],
        "sci": inputs.get("sci", []),
        "reductions": inputs.get("reductions") or {"achieved": [], "expected": []},
        "esg": inputs.get("esg", []),
        "factors": inputs.get("factors", []),
        "residual_mix": inputs.get("residual_mix", []),
        "quality": _quality(inputs, computed),
        "coverage": _coverage(inputs),
        "restatement": _restatement(inputs, computed),
        "restatements": inputs.get("restatements", []),
        "charts": {
            "scopes": _scope_chart(computed["figures"], windows),
            "scope3": _scope3_chart(computed["figures"]),
            "monthly": _monthly_chart(inputs, windows["YTD"] if "YTD" in windows else windows["N"]),
        },
        "energy_total": fmt(n_energy["total"], "MWh"),
        "is_quarter": "YTD" in windows,
    }


# ---------------------------------------------------------------------------------------------- output


def static_dir() -> Path:
    from django.conf import settings

    return Path(settings.BASE_DIR) / "static"


def render_html(context: dict[str, Any]) -> str:
    from django.template.loader import render_to_string

    return render_to_string("reports/esrs/report.html", context)


def render_pdf(html: str, *, fetcher: Any = None) -> bytes:
    """HTML → PDF bytes. Raises the fetcher's BlockedFetch (a FatalURLFetchingError) on a forbidden URL."""
    from weasyprint import CSS, HTML

    from reports.esrs.fetcher import ReportURLFetcher

    fetcher = fetcher or ReportURLFetcher()
    base = static_dir()
    stylesheet = CSS(filename=str(base / "css" / "report.css"), url_fetcher=fetcher, base_url=str(base) + "/")
    document = HTML(string=html, base_url=str(base) + "/", url_fetcher=fetcher)
    pdf = document.write_pdf(stylesheets=[stylesheet])
    if fetcher.blocked:
        # WeasyPrint 70 swallows every exception (BaseException included) while drawing an SVG image, so a
        # blocked fetch inside an SVG would only drop that resource: the fetcher's own record fails the render.
        from reports.esrs.fetcher import BlockedFetch

        raise BlockedFetch(f"Report rendering blocked a fetch of {fetcher.blocked[0]!r}")
    return pdf
