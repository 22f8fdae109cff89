"""Each detector against savings computed by hand (docs/methodology.md §10)."""

from __future__ import annotations

import datetime as dt

import pytest

from greenesg.lib.residency import residency_area
from steering.advisor import gpu, idle, memory, model_choice, region
from steering.advisor.evidence import ComputeDay, Run
from steering.advisor.model_choice import ModelRun
from steering.advisor.proof import realised_reduction

MONTH = 30.4375  # days in an average month
DAY = dt.date(2026, 6, 1)  # a Monday


def _run(entry_id: int, *, experiment: str = "nightly", energy: float = 1.0, **fields: object) -> Run:
    values: dict = {
        "entry_id": entry_id,
        "run_id": f"r{entry_id}",
        "experiment": experiment,
        "day": DAY + dt.timedelta(days=entry_id % 28),
        "duration_s": 3600.0,
        "energy_kwh": energy,
        "kg_location": 0.4 * energy,
        "kg_market": 0.2 * energy,
    }
    values.update(fields)
    return Run(**values)


def test_idle_runs_count_the_whole_energy_of_runs_below_ten_percent() -> None:
    runs = [
        _run(1, energy=1.0, cpu_utilization=5.0),
        _run(2, energy=2.0, cpu_utilization=3.0, gpu_utilization=2.0),
        _run(3, energy=3.0, cpu_utilization=8.0),
        _run(4, energy=4.0, cpu_utilization=50.0),  # busy
        _run(5, energy=5.0, cpu_utilization=4.0, gpu_utilization=60.0),  # the GPU was busy
    ]
    [finding] = idle.idle_runs(runs, days=30)
    assert finding.subject == "nightly"
    assert finding.evidence_entry_ids == (1, 2, 3)
    assert finding.saving.kwh == pytest.approx(6.0 * MONTH / 30)
    assert finding.saving.kg_location == pytest.approx(2.4 * MONTH / 30)
    assert finding.saving.kg_market == pytest.approx(1.2 * MONTH / 30)


def test_two_idle_runs_are_not_a_pattern() -> None:
    runs = [_run(1, cpu_utilization=1.0), _run(2, cpu_utilization=1.0), _run(3, cpu_utilization=90.0)]
    assert idle.idle_runs(runs, days=30) == []


def _days(hours_weekday: float, hours_weekend: float, n: int = 14) -> list[ComputeDay]:
    days = []
    for i in range(n):
        day = DAY + dt.timedelta(days=i)
        hours = hours_weekend if day.weekday() >= 5 else hours_weekday
        days.append(ComputeDay(day, hours, 10.0, 4.0, 2.0, 5.0, "EUR", (100 + i,)))
    return days


def test_non_production_compute_billed_around_the_clock_saves_the_hours_outside_office_hours() -> None:
    finding = idle.always_on(_days(48.0, 48.0), non_production=True, days=14)
    assert finding is not None
    share = 108 / 168  # 168 h a week − 60 office hours
    assert finding.saving.kwh == pytest.approx(140 * share * MONTH / 14)  # = 195.67 kWh
    assert finding.saving.kwh == pytest.approx(195.6696, rel=1e-5)
    assert finding.saving.kg_location == pytest.approx(56 * share * MONTH / 14)
    assert finding.saving.kg_market == pytest.approx(28 * share * MONTH / 14)
    assert finding.saving.cost == pytest.approx(70 * share * MONTH / 14)  # = 97.83 EUR
    assert finding.saving.currency == "EUR"
    assert len(finding.evidence_entry_ids) == 14


def test_production_or_office_hours_compute_is_left_alone() -> None:
    assert idle.always_on(_days(48.0, 48.0), non_production=False, days=14) is None
    assert idle.always_on(_days(48.0, 10.0), non_production=True, days=14) is None  # quiet weekends
    assert idle.always_on(_days(48.0, 48.0, n=10), non_production=True, days=10) is None  # under two weeks


def _machine_run(entry_id: int, **fields: object) -> Run:
    # 1.5 kWh IT (CPU 1 + RAM 0.5), PUE 1.2 → 1.8 kWh facility; 0.5 kg/kWh location, 0.25 market.
    values = {"cpu_kwh": 1.0, "gpu_kwh": 0.0, "ram_kwh": 0.5, "kg_location": 0.9, "kg_market": 0.45}
    values.update(fields)
    return _run(entry_id, experiment="etl", energy=1.8, **values)


def test_oversized_memory_scales_ram_energy_to_the_recommended_size() -> None:
    runs = [
        _machine_run(1, ram_total_gb=64.0, ram_used_gb=10.0),
        _machine_run(2, ram_total_gb=64.0, ram_used_gb=12.0),
        _machine_run(3, ram_total_gb=64.0, ram_used_gb=8.0),
    ]
    [finding] = memory.oversized_memory(runs, days=30)
    assert finding.details["recommended_gb"] == 15  # ceil(12 × 1.25)
    share = 1 - 15 / 64  # 0.765625
    facility_per_run = 0.5 * share * 1.8 / 1.5  # 0.459375 kWh
    assert finding.saving.kwh == pytest.approx(3 * facility_per_run * MONTH / 30)
    assert finding.saving.kg_location == pytest.approx(3 * facility_per_run * 0.5 * MONTH / 30)
    assert finding.saving.kg_market == pytest.approx(3 * facility_per_run * 0.25 * MONTH / 30)


def test_memory_used_above_half_is_not_oversized() -> None:
    runs = [_machine_run(i, ram_total_gb=16.0, ram_used_gb=9.0) for i in (1, 2, 3)]
    assert memory.oversized_memory(runs, days=30) == []


def test_gpu_underuse_saves_gpu_time_up_to_the_target_utilisation() -> None:
    # IT 3 kWh (CPU 1 + GPU 2), facility 3.6 kWh, 1.8 kg location: 0.5 kg per facility kWh.
    runs = [
        _run(
            i,
            experiment="serve",
            energy=3.6,
            cpu_kwh=1.0,
            gpu_kwh=2.0,
            ram_kwh=0.0,
            gpu_utilization=util,
            kg_location=1.8,
            kg_market=0.9,
        )
        for i, util in ((1, 20.0), (2, 30.0), (3, 10.0))
    ]
    [finding] = gpu.gpu_underuse(runs, days=30)
    assert finding.details["gpu_utilization_percent"] == pytest.approx(20.0)
    # share = 1 − 20/80 = 0.75; per run 1.5 kWh IT → 1.8 kWh facility → 0.9 kg; three runs.
    assert finding.saving.kwh == pytest.approx(5.4 * MONTH / 30)
    assert finding.saving.kg_location == pytest.approx(2.7 * MONTH / 30)
    assert finding.saving.kg_market == pytest.approx(1.35 * MONTH / 30)


def test_busy_gpus_are_left_alone() -> None:
    runs = [_run(i, gpu_kwh=2.0, cpu_kwh=1.0, gpu_utilization=75.0) for i in (1, 2, 3)]
    assert gpu.gpu_underuse(runs, days=30) == []


FACTORS = {
    ("aws", "eu-central-1"): 338.0,
    ("aws", "eu-north-1"): 8.8,
    ("aws", "eu-west-2"): 5.0,  # London: cleaner, but outside the EU
    ("aws", "us-west-2"): 1.0,
    ("gcp", "europe-north1"): 0.5,  # another provider
}


def test_region_moves_stay_within_the_provider_and_residency_area() -> None:
    runs = [
        _run(
            i,
            experiment="train",
            energy=10.0,
            kg_location=3.38,
            kg_market=3.38,
            provider="aws",
            cloud_region="eu-central-1",
        )
        for i in (1, 2, 3)
    ]
    [finding] = region.region_moves(runs, factors=FACTORS, days=30)
    assert finding.details["alternative"] == "eu-north-1"
    # 10.14 kg × (1 − 8.8/338) = 10.14 − 0.264 = 9.876 kg over the window.
    assert finding.saving.kg_location == pytest.approx(9.876 * MONTH / 30)
    assert finding.saving.kwh == 0.0


def test_a_clean_region_or_a_one_off_run_gets_no_move() -> None:
    clean = [_run(i, provider="aws", cloud_region="eu-north-1") for i in (1, 2, 3)]
    assert region.region_moves(clean, factors=FACTORS, days=30) == []
    once = [_run(1, provider="aws", cloud_region="eu-central-1")]
    assert region.region_moves(once, factors=FACTORS, days=30) == []


def test_residency_areas() -> None:
    assert residency_area("aws", "eu-west-2") == "GB"
    assert residency_area("aws", "eu-west-1") == "EU"
    assert residency_area("gcp", "europe-west1") == "EU"
    assert residency_area("gcp", "europe-west6") == "CH"
    assert residency_area("azure", "westeurope") == "EU"
    assert residency_area("azure", "uksouth") == "GB"
    assert residency_area("aws", "us-east-1") == "US"
    assert residency_area("aws", "xx-mars-1") is None  # unplaced: no advice at all


def _model_runs(model: str, kg: float, energy: float, accuracy: float, n: int, first_day: int) -> list[ModelRun]:
    return [
        ModelRun(
            1000 * first_day + i,
            model,
            "accuracy",
            accuracy,
            True,
            DAY + dt.timedelta(days=first_day + i),
            energy,
            kg,
            kg / 2,
        )
        for i in range(n)
    ]


def test_model_choice_proposes_the_lowest_carbon_model_good_enough_on_the_front() -> None:
    runs = (
        _model_runs("bert-tiny", 0.2, 0.5, 0.80, 2, 0)  # cheapest, but 11 % worse
        + _model_runs("bert-base", 0.8, 2.0, 0.895, 2, 2)
        + _model_runs("bert-base-int8", 0.5, 1.0, 0.893, 2, 4)  # quantized variant
        + _model_runs("bert-large", 2.0, 4.0, 0.90, 4, 10)  # the latest run: in use
    )
    [finding] = model_choice.model_choice(runs, tolerance=0.01, days=30)
    assert finding.details == {"model_in_use": "bert-large", "proposed_model": "bert-base-int8", "metric": "accuracy"}
    assert finding.saving.kg_location == pytest.approx((2.0 - 0.5) * 4 * MONTH / 30)  # 6.0875 kg
    assert finding.saving.kwh == pytest.approx((4.0 - 1.0) * 4 * MONTH / 30)
    assert finding.saving.kg_market == pytest.approx((1.0 - 0.25) * 4 * MONTH / 30)


def test_no_model_within_tolerance_means_no_finding() -> None:
    runs = _model_runs("bert-tiny", 0.2, 0.5, 0.80, 2, 0) + _model_runs("bert-large", 2.0, 4.0, 0.90, 2, 5)
    assert model_choice.model_choice(runs, tolerance=0.01, days=30) == []


def test_realised_reduction_with_its_95_percent_interval() -> None:
    realised = realised_reduction([10, 12, 11, 13], [6, 7, 5, 6], unit="run")
    assert realised is not None
    assert (realised.mean_before, realised.mean_after, realised.reduction) == (11.5, 6.0, 5.5)
    # Welch: sqrt(5/3/4 + 2/3/4) = 0.763763; ± 1.96 × that = ± 1.49698
    assert realised.ci_low == pytest.approx(4.00302, abs=1e-5)
    assert realised.ci_high == pytest.approx(6.99698, abs=1e-5)
    assert realised.significant and realised.reduction_percent == pytest.approx(47.826, abs=1e-3)
    assert realised_reduction([1.0], [1.0, 2.0], unit="run") is None


def test_model_choice_counts_only_the_window_runs_of_the_model_in_use() -> None:
    runs = _model_runs("bert-base-int8", 0.5, 1.0, 0.893, 2, 0) + _model_runs("bert-large", 2.0, 4.0, 0.90, 4, 10)
    since = DAY + dt.timedelta(days=12)  # two of the four bert-large runs fall in the window
    [finding] = model_choice.model_choice(runs, tolerance=0.01, days=30, since=since)
    assert finding.saving.kg_location == pytest.approx((2.0 - 0.5) * 2 * MONTH / 30)
