"""Presentation filters of reports/templatetags/reports_format.py and the region names of places.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from reports.dashboards.places import OWN_HARDWARE, place_of, region_display, region_places
from reports.templatetags.reports_format import count, duration, percent_change, place, rounded, signed, tidy


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "–"),
        (0.4, "0 s"),
        (42, "42 s"),
        (65, "1 min 05 s"),
        (725, "12 min 05 s"),
        (3720, "1 h 02 min"),  # 62 min
        (3600 * 1234, "1,234 h 00 min"),
        ("5.007742890000003", "5 s"),
        (float("nan"), "–"),
    ],
)
def test_duration_reads_as_hours_and_minutes(seconds, shown):
    assert duration(seconds) == shown


@pytest.mark.parametrize(
    ("value", "decimals", "shown"),
    [
        (5.007742890000003, 3, "5.008"),
        (1.1, 3, "1.1"),
        (1.5, 3, "1.5"),
        (2.0, 3, "2"),
        (1234.56789, 2, "1,234.57"),
        (-0.0001, 3, "0"),
        (None, 3, "–"),
        ("abc", 3, "abc"),
    ],
)
def test_rounded_drops_float_noise(value, decimals, shown):
    assert rounded(value, decimals) == shown


def test_count_groups_thousands_as_a_whole_number():
    assert (count(1234), count(1234567.0), count(0), count(None)) == ("1,234", "1,234,567", "0", "–")


def test_tidy_rounds_floats_and_leaves_text_alone():
    # "3.10" is a Python version, not a number to round.
    assert (tidy(15.600000000000001), tidy("3.10"), tidy(8), tidy(None)) == ("15.6", "3.10", "8", "–")


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (1.25, "kWh", "+1.25 kWh"),
        (-0.3, "kgCO2e", "−0.300 kgCO2e"),
        (0.0, "kWh", "±0 kWh"),
        (4.4 - 4.5, "kWh", "−0.100 kWh"),  # −0.09999999999999964: float noise, not a smaller magnitude
        (-1, "runs", "−1 run"),
        (1500, "runs", "+1,500 runs"),
        (125, "s", "+2 min 05 s"),
        (-3720, "s", "−1 h 02 min"),
        (None, "kWh", "–"),
    ],
)
def test_signed_shows_sign_and_unit(value, unit, shown):
    assert signed(value, unit) == shown


def test_percent_change_has_one_decimal_and_a_sign():
    assert (percent_change(12.345), percent_change(-50), percent_change(0), percent_change(None)) == (
        "+12.3 %",
        "−50.0 %",
        "±0.0 %",
        "–",
    )


def test_place_of_takes_the_place_from_a_registry_label():
    assert place_of("US East (N. Virginia)") == "N. Virginia"
    assert place_of("Central US (Iowa)") == "Iowa"
    assert place_of("Belgium") == "Belgium"


def test_region_places_read_every_provider_table():
    places = region_places()
    assert places["gcp/europe-west1"] == "Belgium"
    assert places["aws/us-east-1"] == "N. Virginia"
    assert places["azure/centralus"] == "Iowa"


@pytest.mark.parametrize(
    ("provider", "region", "country", "shown"),
    [
        ("gcp", "europe-west1", "BEL", "europe-west1 (Belgium)"),
        ("GCP", "Europe-West1", "", "Europe-West1 (Belgium)"),
        ("aws", "eu-west-1", "", "eu-west-1 (Ireland)"),
        ("aws", "xx-nowhere-9", "", "aws/xx-nowhere-9"),
        ("", "", "FRA", f"{OWN_HARDWARE} (FRA)"),
        ("", "", "", OWN_HARDWARE),
        (None, None, None, OWN_HARDWARE),
        ("aws", "", "", "aws"),
    ],
)
def test_region_display_names_the_place(provider, region, country, shown):
    assert region_display(provider, region, country) == shown


def test_place_filter_reads_objects_and_dicts():
    run = SimpleNamespace(provider="gcp", region="europe-west1", country_iso="BEL")
    assert place(run) == "europe-west1 (Belgium)"
    assert place({"provider": "", "region": "", "country_iso": "DEU"}) == f"{OWN_HARDWARE} (DEU)"
