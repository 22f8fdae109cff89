"""Experiment comparison against the first (baseline) experiment: the pure table, the chart and the page.

Fixture (tests/reports/conftest.py), project acme/ml:
  "train": r1 + r2 → 2 runs, 4.5 kWh facility, 0.9 kg location, 1.2 kg market; per run 2.25 kWh, 0.45 kg, 3900 s
  "" (no experiment): r3 → 1 run, 4.4 kWh, 1.1 kg location, 1.1 kg market, 60 s
With "train" as baseline, (no experiment) differs by −1 run (−50 %), −0.1 kWh total (−2.2 %), +0.2 kg location
(+22.2 %), per run +2.15 kWh (+95.6 %) and +0.65 kg (+144.4 %), and −3840 s (−98.5 %).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.dashboards.charts import compare_bar
from reports.dashboards.compare import compare_table, difference

URL = reverse("experiment-compare", args=["acme", "ml"])


def test_difference_is_absolute_and_relative():
    assert difference(3.0, 2.0) == (1.0, 50.0)
    assert difference(1.0, 4.0) == (-3.0, -75.0)


def test_difference_from_a_zero_or_missing_baseline_has_no_percentage():
    assert difference(2.0, 0.0) == (2.0, None)
    assert difference(None, 1.0) == (None, None)
    assert difference(1.0, None) == (None, None)


def test_compare_table_measures_against_the_first_experiment():
    rows = [
        {"runs": 2, "energy_kwh_facility": 4.0, "kgco2e_location": 1.0, "mean_duration_s": 100.0},
        {"runs": 3, "energy_kwh_facility": 5.0, "kgco2e_location": 0.5, "mean_duration_s": None},
    ]
    table = {entry["key"]: entry for entry in compare_table(rows)}
    base, other = table["energy_kwh_facility"]["cells"]
    assert (base.is_baseline, base.delta, base.delta_pct) == (True, None, None)
    assert (other.value, other.delta, other.delta_pct) == (5.0, 1.0, 25.0)
    assert table["kgco2e_location"]["cells"][1].delta_pct == -50.0
    assert table["runs"]["cells"][1].delta == 1.0
    assert table["mean_duration_s"]["cells"][1].delta is None  # nothing to compare with
    assert table["energy_kwh_facility"]["unit"] == "kWh"
    assert compare_table([]) == []


def test_compare_chart_gives_each_unit_its_own_axis():
    rows = [{"label": "a", "mean_kg": 1.0, "mean_kwh": 5.0}, {"label": "b", "mean_kg": 2.0, "mean_kwh": 4.0}]
    figure = compare_bar(rows)
    units_per_axis: dict[str, set[str]] = {}
    for trace in figure["data"]:
        unit = "kWh" if "kWh per run" in trace["hovertemplate"] else "kgCO2e"
        units_per_axis.setdefault(trace["yaxis"], set()).add(unit)
    assert units_per_axis == {"y": {"kgCO2e"}, "y2": {"kWh"}}
    layout = figure["layout"]
    # Side by side panels, not an overlaid second scale on the same plot.
    assert "overlaying" not in layout["yaxis2"]
    assert layout["xaxis"]["domain"][1] < layout["xaxis2"]["domain"][0]
    assert layout["yaxis"]["title"]["text"] == "kgCO2e per run"
    assert layout["yaxis2"]["title"]["text"] == "kWh per run"


@pytest.mark.django_db
class TestComparePage:
    def test_it_shows_differences_against_the_baseline(self, engineer_client, ledger):
        response = engineer_client.get(URL + "?experiment=train&experiment=_none")
        assert response.status_code == 200
        figures = {entry["key"]: entry["cells"] for entry in response.context["figures"]}
        assert figures["runs"][1].delta == -1 and figures["runs"][1].delta_pct == pytest.approx(-50.0)
        assert figures["kgco2e_location"][1].delta == pytest.approx(0.2)
        assert figures["kgco2e_location"][1].delta_pct == pytest.approx(100 * 0.2 / 0.9)
        assert figures["mean_kwh"][1].delta == pytest.approx(2.15)
        assert figures["mean_duration_s"][1].delta == pytest.approx(-3840.0)
        where = {row["label"]: row["where"] for row in response.context["rows"]}
        assert where == {"train": "Own hardware (FRA) (2)", "(no experiment)": "eu-west-1 (Ireland)"}
        page = response.content.decode()
        assert "baseline" in page
        assert "+0.200 kgCO2e" in page and "(+22.2 %)" in page
        assert "−1 run" in page and "(−50.0 %)" in page
        assert "−1 h 04 min" in page  # −3840 s
        assert "1 h 05 min" in page  # train's 3900 s per run

    def test_the_baseline_follows_the_order_asked(self, engineer_client, ledger):
        response = engineer_client.get(URL + "?experiment=_none&experiment=train")
        runs = next(entry for entry in response.context["figures"] if entry["key"] == "runs")["cells"]
        assert runs[0].is_baseline and runs[0].value == 1
        assert runs[1].delta == 1 and runs[1].delta_pct == pytest.approx(100.0)

    def test_it_asks_anonymous_to_log_in(self, client, ledger):
        assert client.get(URL + "?experiment=train").status_code == 302

    def test_it_hides_the_project_from_outsiders(self, outsider_client, ledger):
        assert outsider_client.get(URL + "?experiment=train").status_code == 404

    def test_it_rejects_an_unknown_experiment(self, engineer_client, ledger):
        assert engineer_client.get(URL + "?experiment=train&experiment=nope").status_code == 400
