"""Realistic codecarbon 3.3.2 run files, generated: for the demo loader, the benchmark and tests.

Each run gets one or more cumulative flush rows (like a real tracker), so consumers must keep the
last row per run. Values follow the shape of real output: power in W, energy in kWh, PUE applied.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

HEADER_3_3_2 = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
    "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,country_iso_code,"
    "region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,"
    "gpu_model,longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
    "ram_utilization_percent,ram_used_gb,on_cloud,pue,wue"
).split(",")

UNSET_EXPERIMENT = "5b0fa12a-3dd7-45bb-9766-cc326314d9f1"


@dataclass(frozen=True)
class Site:
    country_name: str
    country_iso: str
    region: str = ""
    cloud_provider: str = ""
    cloud_region: str = ""
    codecarbon_factor_g_per_kwh: float = 300.0  # what codecarbon itself would have used

    @property
    def on_cloud(self) -> bool:
        return bool(self.cloud_provider)


SITES = {
    "paris-office": Site("France", "FRA", codecarbon_factor_g_per_kwh=56.039),
    "berlin-rack": Site("Germany", "DEU", codecarbon_factor_g_per_kwh=380.95),
    "gcp-belgium": Site("Belgium", "BEL", "", "gcp", "europe-west1", 122.0),
    "aws-virginia": Site("United States", "USA", "virginia", "aws", "us-east-1", 369.47),
    "gcp-iowa": Site("United States", "USA", "iowa", "gcp", "us-central1", 430.0),
    "stockholm-lab": Site("Sweden", "SWE", "se3", codecarbon_factor_g_per_kwh=27.0),
}


@dataclass(frozen=True)
class Hardware:
    cpu_model: str
    cpu_count: int
    cpu_watts: float
    gpu_model: str
    gpu_count: int
    gpu_watts: float
    ram_gb: float
    ram_watts: float


HARDWARE = (
    Hardware("AMD EPYC 7763 64-Core Processor", 16, 95.0, "", 0, 0.0, 64.0, 20.0),
    Hardware(
        "Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", 32, 160.0, "1 x NVIDIA A100-SXM4-40GB", 1, 250.0, 128.0, 40.0
    ),
    Hardware("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz", 8, 18.0, "", 0, 0.0, 16.0, 10.0),
    Hardware("AMD EPYC 7R13 Processor", 8, 60.0, "4 x NVIDIA T4", 4, 39.5, 32.0, 20.0),
)


@dataclass(frozen=True)
class RunProfile:
    """How an experiment's runs use their machine (the demo gives the efficiency advisor something to find).

    `duration_scale` shortens or lengthens every run; after `changed_on` (naive local date) runs take
    `duration_scale_after` instead, as if a recommendation had been carried out that day.
    """

    cpu_utilization: float = 71.5
    gpu_utilization: float = 64.0
    ram_used_share: float = 0.7
    duration_scale: float = 1.0
    changed_on: dt.date | None = None
    duration_scale_after: float = 1.0


DEFAULT_PROFILE = RunProfile()


def _row(
    *,
    end: dt.datetime,
    duration: float,
    project: str,
    run_id: str,
    experiment: str,
    site: Site,
    hw: Hardware,
    pue: float,
    profile: RunProfile = DEFAULT_PROFILE,
) -> list[object]:
    hours = duration / 3600.0
    cpu_e = hw.cpu_watts * hours / 1000.0 * pue
    gpu_e = hw.gpu_watts * hw.gpu_count * hours / 1000.0 * pue
    ram_e = hw.ram_watts * hours / 1000.0 * pue
    energy = cpu_e + gpu_e + ram_e
    emissions = energy * site.codecarbon_factor_g_per_kwh / 1000.0
    return [
        end.strftime("%Y-%m-%dT%H:%M:%S"),
        project,
        run_id,
        experiment,
        duration,
        emissions,
        emissions / duration,
        hw.cpu_watts * pue,
        hw.gpu_watts * hw.gpu_count * pue,
        hw.ram_watts * pue,
        cpu_e,
        gpu_e,
        ram_e,
        energy,
        0.0,
        site.country_name,
        site.country_iso,
        site.region,
        site.cloud_provider,
        site.cloud_region,
        "Linux-6.8.0-x86_64-with-glibc2.36",
        "3.11.7",
        "3.3.2",
        hw.cpu_count,
        hw.cpu_model,
        hw.gpu_count,
        hw.gpu_model,
        "",
        "",
        hw.ram_gb,
        "machine",
        profile.cpu_utilization,
        profile.gpu_utilization if hw.gpu_count else 0,
        38.2,
        hw.ram_gb * profile.ram_used_share,
        "Y" if site.on_cloud else "N",
        pue,
        0.0,
    ]


def generate_rows(
    *,
    runs: int,
    start: dt.datetime,
    days: int,
    project: str = "codecarbon",
    sites: tuple[str, ...] = ("paris-office",),
    experiments: tuple[str, ...] = ("",),
    flushes: int = 2,
    seed: int = 7,
    profiles: Mapping[str, RunProfile] | None = None,
) -> Iterator[list[object]]:
    """Yield cumulative flush rows for `runs` runs spread over `days` days from `start` (naive local).

    `profiles` (by experiment name) change utilisation, memory use and durations without changing the random
    draws, so the same seed gives the same runs, hardware and days with or without them.
    """
    rng = random.Random(seed)
    for index in range(runs):
        site = SITES[sites[index % len(sites)]]
        hw = HARDWARE[rng.randrange(len(HARDWARE))]
        pue = 1.0 if site.on_cloud or rng.random() < 0.7 else 1.4
        run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        experiment = experiments[index % len(experiments)] or UNSET_EXPERIMENT
        began = start + dt.timedelta(seconds=rng.uniform(0, days * 86400))
        total = rng.uniform(120, 4 * 3600)
        profile = (profiles or {}).get(experiment, DEFAULT_PROFILE)
        changed = profile.changed_on is not None and began.date() >= profile.changed_on
        total *= profile.duration_scale_after if changed else profile.duration_scale
        for flush in range(1, flushes + 1):
            duration = total * flush / flushes
            yield _row(
                end=began + dt.timedelta(seconds=duration),
                duration=duration,
                project=project,
                run_id=run_id,
                experiment=experiment,
                site=site,
                hw=hw,
                pue=pue,
                profile=profile,
            )


def generate_csv(**kwargs: object) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER_3_3_2)
    writer.writerows(generate_rows(**kwargs))  # type: ignore[arg-type]
    return buffer.getvalue().encode("utf-8")
