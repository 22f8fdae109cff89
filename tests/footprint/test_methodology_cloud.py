"""Cloud estimation methodology: worked examples and departures from CCF of docs/methodology.md §4."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from greenesg.footprint.methodology.cloud import (
    NormalisedBillingLine,
    average_watts,
    aws_excess_memory_gb_hours,
    bytes_to_gb,
    coefficients_version,
    compute_energy_kwh,
    cpu_watts,
    embodied_kg,
    estimate_line,
    extrapolate_unknown,
    gcp_multi_region_factor,
    gcp_reserved_instance_hours,
    gib_to_gb,
    gpu_watts,
    instance_spec,
    load_coefficients,
    memory_energy_kwh,
    network_energy_kwh,
    storage_energy_kwh,
    tib_to_tb,
)
from greenesg.footprint.methodology.coefficients import METHODOLOGY_VERSION

SERC = 379.069  # eGRID2020 SERC, g/kWh (docs/methodology.md §4.9)
JAN = datetime(2024, 1, 1, tzinfo=UTC)
APRIL = datetime(2024, 4, 1, tzinfo=UTC)  # a 30-day month


def aws_line(**kw: object) -> NormalisedBillingLine:
    base = NormalisedBillingLine(
        provider="aws",
        account="111122223333",
        service="AmazonEC2",
        usage_type="USE1-BoxUsage:m5.xlarge",
        region="us-east-1",
        unit="Hrs",
        amount=1.0,
        cost=0.192,
        currency="USD",
        usage_start=JAN,
        machine_type="m5.xlarge",
        bucket="compute",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def gcp_line(**kw: object) -> NormalisedBillingLine:
    base = NormalisedBillingLine(
        provider="gcp",
        account="acme-prod",
        service="Compute Engine",
        usage_type="N2 Instance Core running in Americas",
        region="us-central1",
        unit="seconds",
        amount=14_400.0,
        cost=0.126,
        currency="USD",
        usage_start=JAN,
        machine_type="n2-standard-4",
        vcpus=4.0,
        bucket="compute",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


# ---- 4.9 worked example -----------------------------------------------------------------------------------


def test_it_reproduces_the_m5_xlarge_worked_example() -> None:
    est = estimate_line(aws_line(), region_factor_g_per_kwh=SERC)
    assert est.facility_kwh is not None and est.it_kwh is not None and est.operational_kg is not None
    assert est.facility_kwh * 1000 == pytest.approx(16.757, abs=0.001)
    assert est.it_kwh * 1000 == pytest.approx(14.764, abs=0.001)
    assert est.components_it_kwh["compute"] * 1000 == pytest.approx(9.820, abs=0.001)
    assert est.components_it_kwh["memory"] * 1000 == pytest.approx(4.944, abs=0.001)
    assert est.operational_kg * 1000 == pytest.approx(6.352, abs=0.001)
    assert est.embodied_kg is not None
    assert est.embodied_kg * 1000 == pytest.approx(1.915, abs=0.001)
    assert est.method == "modelled"
    assert "default_utilisation" in est.flags
    assert est.pue == 1.135


def test_it_scales_the_worked_example_to_a_month() -> None:
    est = estimate_line(aws_line(amount=730.0), region_factor_g_per_kwh=SERC)
    assert est.facility_kwh == pytest.approx(12.23, abs=0.005)
    assert est.operational_kg == pytest.approx(4.637, abs=0.001)
    assert est.embodied_kg == pytest.approx(1.398, abs=0.001)


def test_it_computes_the_worked_example_steps_with_the_pure_functions() -> None:
    watts = cpu_watts("aws", ("skylake",))
    assert average_watts(watts.w_min, watts.w_max, 0.5) == pytest.approx(2.455)
    assert compute_energy_kwh(4, watts.w_min, watts.w_max, pue=1.135) * 1000 == pytest.approx(11.146, abs=0.001)
    gb_h = aws_excess_memory_gb_hours(16, 96, 384, watts.gb_per_chip, 1.0)
    assert gb_h == pytest.approx(12.612, abs=0.001)
    assert memory_energy_kwh(gb_h, pue=1.135) * 1000 == pytest.approx(5.611, abs=0.001)
    assert embodied_kg(1610.3792, 1.0, 4, 96) * 1000 == pytest.approx(1.915, abs=0.001)


def test_the_estimate_records_its_versions() -> None:
    est = estimate_line(aws_line(), region_factor_g_per_kwh=SERC)
    assert est.coefficients_version == load_coefficients()["version"] == coefficients_version()
    assert est.methodology_version == METHODOLOGY_VERSION


# ---- storage, network, GPU, burstable examples ----------------------------------------------------------------


def test_it_reproduces_the_gp3_storage_example() -> None:
    line = aws_line(usage_type="USE1-EBS:VolumeUsage.gp3", unit="GB-Mo", amount=100.0, machine_type="")
    est = estimate_line(replace(line, bucket="storage_ssd", usage_start=APRIL), region_factor_g_per_kwh=SERC)
    assert est.facility_kwh is not None
    assert est.facility_kwh * 1000 == pytest.approx(196.1, abs=0.05)  # 72 TB-h x 1.2 Wh x RF 2 x 1.135
    assert storage_energy_kwh(72, True, pue=1.135, replication=2) * 1000 == pytest.approx(196.128)
    assert est.embodied_kg is None  # storage gets no embodied (4.7)


def test_it_reproduces_the_network_example() -> None:
    line = aws_line(usage_type="USE1-DataTransfer-Out-Bytes", unit="GB", amount=1000.0, machine_type="")
    est = estimate_line(replace(line, bucket="network"), region_factor_g_per_kwh=SERC)
    assert est.facility_kwh == pytest.approx(1.135)
    assert network_energy_kwh(1000, pue=1.135) == pytest.approx(1.135)


def test_an_a100_at_half_load_draws_226_5_watts() -> None:
    idle, peak = gpu_watts("A100") or (0, 0)
    assert average_watts(idle, peak, 0.5) == pytest.approx(226.5)
    idle, peak = gpu_watts("Nvidia Tesla T4 GPU running in Americas") or (0, 0)
    assert average_watts(idle, peak, 0.5) == pytest.approx(39.5)


def test_a_p4d_hour_counts_eight_a100() -> None:
    line = aws_line(usage_type="USE1-BoxUsage:p4d.24xlarge", machine_type="p4d.24xlarge")
    est = estimate_line(line, region_factor_g_per_kwh=SERC)
    assert est.components_it_kwh["gpu"] == pytest.approx(8 * 226.5 / 1000)


def test_a_burstable_t3_small_counts_as_0_8_vcpu() -> None:
    line = aws_line(usage_type="USE1-BoxUsage:t3.small", machine_type="t3.small")
    est = estimate_line(line, region_factor_g_per_kwh=SERC)
    watts = cpu_watts("aws", ("skylake", "cascade_lake"))
    expected = 0.8 * average_watts(watts.w_min, watts.w_max, 0.5) / 1000
    assert est.components_it_kwh["compute"] == pytest.approx(expected)
    assert est.components_it_kwh["memory"] == 0.0  # burstable: no excess memory (4.3)
    assert "burstable_baseline" in est.flags
    # Embodied borrows the closest non-burstable family (m5: TotalR 96) with the real vCPUs.
    assert est.embodied_kg == pytest.approx(1610.3792 / 35040 * 2 / 96)


def test_the_instance_table_knows_the_m5_family() -> None:
    spec = instance_spec("aws", "m5.24xlarge")
    assert spec is not None and (spec.vcpus, spec.memory_gb, spec.largest_vcpus) == (96, 384, 96)
    assert instance_spec("aws", "g5.48xlarge").gpus == 8  # type: ignore[union-attr]
    assert instance_spec("aws", "g4dn.12xlarge").gpus == 4  # type: ignore[union-attr]
    assert instance_spec("aws", "p3.16xlarge").gpu_model == "V100"  # type: ignore[union-attr]


def test_utilisation_can_replace_the_default() -> None:
    est = estimate_line(aws_line(), region_factor_g_per_kwh=SERC, utilisation=0.1)
    assert "default_utilisation" not in est.flags
    assert est.components_it_kwh["compute"] == pytest.approx(4 * (0.65 + 0.1 * 3.61) / 1000)


# ---- pitfalls (4.10) --------------------------------------------------------------------------------------------


def test_pitfall_1_embodied_never_becomes_kwh() -> None:
    # Switzerland North (11.52 g/kWh): CCF turned 63.5 g embodied into 5.51 kWh.
    est = estimate_line(aws_line(), region_factor_g_per_kwh=11.52)
    assert est.facility_kwh is not None and est.embodied_kg is not None
    assert est.facility_kwh * 1000 == pytest.approx(16.757, abs=0.001)  # not 18.02 Wh
    assert set(est.components_it_kwh) == {"compute", "memory"}
    assert est.operational_kg == pytest.approx(est.facility_kwh * 11.52 / 1000)


def test_pitfall_2_aws_embodied_uses_instance_hours() -> None:
    est = estimate_line(aws_line(), region_factor_g_per_kwh=SERC)
    assert est.embodied_kg is not None
    assert est.embodied_kg * 1000 != pytest.approx(0.479, abs=0.01)  # naive CCF port: TR = 1 h / 4 vCPU
    assert est.embodied_kg * 1000 == pytest.approx(1.915, abs=0.001)


def test_pitfall_2_gcp_embodied_uses_vcpu_seconds_over_vcpus() -> None:
    assert gcp_reserved_instance_hours(14_400, 4) == pytest.approx(1.0)
    est = estimate_line(gcp_line(), region_factor_g_per_kwh=394.0)
    assert est.embodied_kg == pytest.approx(1887.9 * (1 / 35040) * (4 / 128))
    assert est.components_it_kwh["compute"] == pytest.approx(4 * (0.64 + 0.5 * (3.97 - 0.64)) / 1000)
    assert est.pue == 1.11  # us-central1 trailing-12-month PUE


def test_pitfall_3_gcp_multi_region_factor_is_a_mean_not_a_sum() -> None:
    factors_2021 = {
        "us-central1": 394.0,
        "us-east1": 434.0,
        "europe-west4": 283.0,
        "europe-north1": 127.0,
        "asia-northeast1": 464.0,
        "asia-northeast2": 384.0,
    }
    assert gcp_multi_region_factor("nam4", factors_2021) == pytest.approx(414.0)
    assert gcp_multi_region_factor("eur4", factors_2021) == pytest.approx(205.0)
    assert gcp_multi_region_factor("asia1", factors_2021) == pytest.approx(424.0)
    assert gcp_multi_region_factor("us", factors_2021) is None  # members missing: unmapped, not guessed


def test_pitfall_3_multi_region_storage_gets_rf_2_once() -> None:
    one_tb_hour = 10**12 * 3600.0
    line = gcp_line(
        service="Cloud Storage",
        usage_type="Standard Storage US Multi-region",
        region="us",
        unit="byte-seconds",
        amount=one_tb_hour,
        bucket="storage_hdd",
        machine_type="",
        vcpus=None,
    )
    est = estimate_line(line, region_factor_g_per_kwh=None)
    assert est.it_kwh == pytest.approx(0.65 * 2 / 1000)


def test_pitfall_4_bytes_are_converted_to_decimal_units() -> None:
    assert bytes_to_gb(2**30) == pytest.approx(1.073741824)
    assert gib_to_gb(1) == pytest.approx(1.073741824)
    assert tib_to_tb(1) == pytest.approx(1.099511627776)
    sixteen_gib_hour = 16 * 2**30 * 3600.0
    line = gcp_line(usage_type="N2 Instance Ram running in Americas", unit="byte-seconds", amount=sixteen_gib_hour)
    est = estimate_line(replace(line, bucket="memory"), region_factor_g_per_kwh=None)
    assert est.it_kwh == pytest.approx(17.179869184 * 0.000392)  # 17.18 GB-h, not 16


def test_pitfall_8_unmapped_region_is_flagged_not_averaged() -> None:
    est = estimate_line(aws_line(region="ap-south-2"), region_factor_g_per_kwh=None)
    assert est.operational_kg is None
    assert "region_unmapped" in est.flags
    assert est.facility_kwh is not None and est.embodied_kg is not None  # energy and embodied still given


def test_pitfall_8_unknown_vcpus_are_flagged_not_defaulted_to_one() -> None:
    est = estimate_line(
        aws_line(usage_type="USE1-BoxUsage:x9z.large", machine_type="x9z.large"), region_factor_g_per_kwh=1
    )
    assert est.method == "unestimated" and est.facility_kwh is None
    assert "vcpu_unknown" in est.flags


def test_pitfall_8_unknown_processor_uses_the_provider_average_with_a_flag() -> None:
    line = aws_line(usage_type="USE1-BoxUsage:m9.large", machine_type="m9.large", vcpus=2.0)
    est = estimate_line(line, region_factor_g_per_kwh=SERC)
    assert "processor_unknown" in est.flags and "embodied_unknown" in est.flags
    assert est.components_it_kwh["compute"] == pytest.approx(2 * (0.74 + 0.5 * (3.50 - 0.74)) / 1000)


def test_pitfall_7_lambda_is_flagged() -> None:
    line = aws_line(service="AWSLambda", usage_type="USE1-Lambda-GB-Second", unit="Lambda-GB-Second", amount=3600.0)
    est = estimate_line(replace(line, machine_type=""), region_factor_g_per_kwh=SERC)
    assert "lambda_vcpu_per_gb" in est.flags and est.embodied_kg is None


def test_azure_vm_hours_use_instance_hours_for_embodied() -> None:
    line = NormalisedBillingLine(
        provider="azure",
        account="sub",
        service="Virtual Machines",
        usage_type="D4ads v5",
        region="eastus",
        unit="1 Hour",
        amount=1.0,
        cost=0.2,
        currency="EUR",
        usage_start=JAN,
        machine_type="Standard_D4ads_v5",
        bucket="compute",
    )
    est = estimate_line(line, region_factor_g_per_kwh=379.1)
    assert est.embodied_kg == pytest.approx(1610.4 / 35040 * 4 / 96)
    assert est.pue == 1.185
    assert est.components_it_kwh["memory"] == pytest.approx((384 - 128) * 16 / 384 * 0.000392)


# ---- credits and unknown-row extrapolation (4.8) --------------------------------------------------------------


def test_negative_usage_never_creates_negative_energy() -> None:
    est = estimate_line(aws_line(amount=-5.0, cost=-0.96), region_factor_g_per_kwh=SERC)
    assert est.facility_kwh == 0.0 and est.embodied_kg == 0.0
    assert "negative_usage" in est.flags


def test_unknown_aws_rows_are_extrapolated_by_cost() -> None:
    known = [
        estimate_line(aws_line(), region_factor_g_per_kwh=SERC),
        estimate_line(aws_line(amount=2.0, cost=0.384), region_factor_g_per_kwh=SERC),
    ]
    nat = aws_line(usage_type="USE1-NatGateway-Hours", machine_type="", cost=0.096, bucket="unknown")
    fee = aws_line(service="AWSSupportBusiness", usage_type="Dollar", unit="Dollar", cost=100.0, bucket="unsupported")
    result = extrapolate_unknown(known, [nat, fee], factor_for=lambda line: SERC)
    (est,) = result.estimates
    per_dollar = (known[0].facility_kwh + known[1].facility_kwh) / (0.192 + 0.384)  # type: ignore[operator]
    assert est.method == "extrapolated" and "extrapolated" in est.flags
    assert est.facility_kwh == pytest.approx(per_dollar * 0.096)
    assert est.extrapolation is not None
    assert (est.extrapolation.basis, est.extrapolation.key, est.extrapolation.source_rows) == (
        "cost",
        "service+unit",
        2,
    )
    assert est.extrapolation.kwh_per_unit == pytest.approx(per_dollar)
    assert est.embodied_kg is None
    assert (result.unsupported_rows, result.unsupported_cost) == (1, 100.0)


def test_extrapolation_falls_back_to_the_unit_ratio_across_services() -> None:
    known = [estimate_line(aws_line(), region_factor_g_per_kwh=SERC)]
    other = aws_line(service="AmazonMQ", usage_type="USE1-Broker-Hours", machine_type="", bucket="unknown")
    (est,) = extrapolate_unknown(known, [other]).estimates
    assert est.extrapolation is not None and est.extrapolation.key == "unit"
    assert "region_unmapped" in est.flags  # no factor supplied: flagged, never averaged


def test_gcp_and_azure_rows_are_extrapolated_by_amount() -> None:
    known = [estimate_line(gcp_line(), region_factor_g_per_kwh=394.0)]
    unknown = gcp_line(usage_type="Some Core SKU", amount=7_200.0, cost=999.0, bucket="unknown")
    (est,) = extrapolate_unknown(known, [unknown]).estimates
    assert est.extrapolation is not None and est.extrapolation.basis == "amount"
    assert est.facility_kwh == pytest.approx(known[0].facility_kwh / 2)  # type: ignore[operator]


def test_unmodelled_rows_are_extrapolated_and_credits_are_not() -> None:
    known = estimate_line(aws_line(), region_factor_g_per_kwh=SERC)
    no_vcpu = estimate_line(
        aws_line(usage_type="USE1-BoxUsage:x9z.large", machine_type="x9z.large"), region_factor_g_per_kwh=SERC
    )
    credit = aws_line(usage_type="USE1-NatGateway-Hours", machine_type="", cost=-3.0, bucket="unknown")
    result = extrapolate_unknown([known, no_vcpu], [credit])
    by_type = {e.line.usage_type: e for e in result.estimates}
    assert by_type["USE1-BoxUsage:x9z.large"].method == "extrapolated"
    assert "vcpu_unknown" in by_type["USE1-BoxUsage:x9z.large"].flags
    assert by_type["USE1-NatGateway-Hours"].method == "unestimated"
    assert by_type["USE1-NatGateway-Hours"].facility_kwh is None
    assert result.unestimated_rows == 1


def test_unsupported_lines_are_excluded_by_estimate_line() -> None:
    est = estimate_line(aws_line(bucket="unsupported"), region_factor_g_per_kwh=SERC)
    assert est.method == "excluded" and est.facility_kwh is None
    assert extrapolate_unknown([est]).unsupported_rows == 1
