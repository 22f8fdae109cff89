"""Every data-quality flag a ledger row, a billing line or a report can carry, in plain language.

A flag code alone tells an officer or an auditor nothing. Pages show the explanation as a tooltip and link the
code to the glossary page; the ESRS report prints the glossary of the flags it mentions in its data-quality annex.
A test scans the code for flag codes, so a new flag without an explanation fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    code: str
    title: str
    meaning: str
    fix: str  # what a user can do about it; "" when nothing needs doing


_FLAGS = (
    # Emission factors
    Flag(
        "region_unmapped",
        "Region not mapped",
        "The run's or line's region is in no factor set, so a wider zone "
        "(the country or the provider's mean) gave the factor.",
        "Map the region or add a factor for it.",
    ),
    Flag(
        "no_factor",
        "No emission factor",
        "No factor exists for the zone, so the row has energy but no emissions.",
        "Add a factor set covering the zone.",
    ),
    Flag(
        "proxy_vintage",
        "Older factor year used",
        "The factor of the row's year is not published yet; the latest earlier year stands in for it.",
        "Load the newer vintage when it is published.",
    ),
    Flag(
        "future_vintage",
        "Later factor year used",
        "Only factors of later years exist for the zone; the earliest of them stands in.",
        "Load the factor of the row's year.",
    ),
    Flag(
        "gcp_multi_region_mean",
        "Multi-region mean factor",
        "A Google Cloud multi-region (us, eu) has no factor of its own: the mean of its member regions is used.",
        "",
    ),
    Flag(
        "implied_factor_out_of_range",
        "codecarbon's factor implausible",
        "The factor codecarbon itself used is outside 0–1,200 g/kWh; GreenESG's recomputed figure is the one counted.",
        "",
    ),
    # Market-based
    Flag(
        "mb_fallback_grid_average",
        "Market-based = grid average",
        "No contractual instrument or residual mix "
        "covers this electricity, so its market-based figure uses the grid average.",
        "Enter instruments or the residual mix of the market.",
    ),
    Flag(
        "grid_average_fallback",
        "Market-based = grid average",
        "Scope 2 electricity with neither an instrument "
        "nor a residual-mix factor: the report uses the grid average for its market-based figure.",
        "Enter the residual mix of the market.",
    ),
    # PUE
    Flag(
        "pue_provider_default",
        "Provider's average PUE",
        "No PUE is published for the region: the provider's fleet average is applied.",
        "",
    ),
    Flag(
        "pue_provider_unknown",
        "PUE of an unknown provider",
        "The provider is not one GreenESG knows: the PUE assumed for an unknown own site is applied.",
        "Set the project's infrastructure.",
    ),
    Flag(
        "pue_site_assumed",
        "Site PUE assumed",
        "The project runs on its own hardware without a site PUE: a conservative default is applied.",
        "Enter the site's PUE in the project settings.",
    ),
    Flag(
        "pue_codecarbon_ignored",
        "codecarbon's PUE ignored",
        "codecarbon reported a PUE below 1, which is physically impossible; it was treated as not set.",
        "",
    ),
    # codecarbon runs
    Flag(
        "run_id_missing",
        "Run without an id",
        "The row has no run id: rows are grouped by experiment and time "
        "instead, so repeated flushes of one run may be harder to tell apart.",
        "Upgrade codecarbon.",
    ),
    Flag(
        "short_duration", "Run under one second", "The run lasted less than a second; its energy is very uncertain.", ""
    ),
    Flag(
        "timezone_assumed",
        "Time zone assumed",
        "The file's timestamps have no offset and the project has no host time zone: UTC was assumed.",
        "Set the host time zone in the project settings.",
    ),
    # Cloud billing
    Flag(
        "default_utilisation",
        "Default CPU utilisation",
        "Billing says how long a machine ran, not how busy it was: the methodology's default utilisation is applied.",
        "",
    ),
    Flag(
        "vcpu_unknown",
        "vCPU count unknown",
        "The machine type is not in the coefficient tables, so its vCPUs "
        "are unknown and the line is estimated per vCPU fallback.",
        "",
    ),
    Flag(
        "processor_unknown",
        "Processor unknown",
        "The machine type's processor family is unknown: the provider's average watts per vCPU are used.",
        "",
    ),
    Flag(
        "burstable_baseline", "Burstable baseline", "A burstable instance is counted at its baseline performance.", ""
    ),
    Flag(
        "lambda_vcpu_per_gb",
        "Serverless vCPU from memory",
        "Serverless functions bill memory; vCPUs are derived from it as the provider allocates them.",
        "",
    ),
    Flag(
        "gpu_unknown",
        "GPU model unknown",
        "The GPU model is not in the coefficient tables: its energy is not estimated.",
        "",
    ),
    Flag(
        "embodied_unknown",
        "Embodied emissions unknown",
        "No embodied-emissions figure exists for the machine "
        "type; embodied emissions of this line are missing (they are reported apart anyway).",
        "",
    ),
    Flag(
        "negative_usage",
        "Negative usage",
        "A correction line with negative usage was counted as zero usage: usage can never create negative energy.",
        "",
    ),
    Flag(
        "unit_unsupported",
        "Unit not modelled",
        "The line's unit is known but not one the energy model turns into energy.",
        "",
    ),
    Flag(
        "unit_unknown",
        "Unit not recognised",
        "The unit is not in GreenESG's unit table; the line is not estimated and counts in the coverage as such.",
        "Report the unit spelling so it can be added.",
    ),
    Flag(
        "unknown_usage",
        "Usage not modelled",
        "The line's usage type has no energy model; it is extrapolated from comparable modelled lines where possible.",
        "",
    ),
    Flag(
        "extrapolated",
        "Extrapolated",
        "Estimated from the energy per cost or amount of modelled lines of the same service and unit in the same file.",
        "",
    ),
    Flag(
        "no_extrapolation_basis",
        "Nothing to extrapolate from",
        "No modelled line of the file gives a ratio for this line: it is not estimated.",
        "",
    ),
    Flag(
        "no_extrapolation_ratio",
        "No ratio for the unit",
        "No modelled line of the same service and unit gives a ratio for this line: it is not estimated.",
        "",
    ),
    Flag("unsupported", "Unsupported line", "Fees, licences and support plans have no energy: excluded.", ""),
    # Other activities
    Flag(
        "evidence_missing",
        "Evidence missing",
        "The activity was entered without a supporting document.",
        "Attach the invoice or statement.",
    ),
)

GLOSSARY: dict[str, Flag] = {flag.code: flag for flag in _FLAGS}


def flag_explain(code: str) -> Flag:
    """The flag's explanation; an unknown code says so rather than failing a page."""
    return GLOSSARY.get(code) or Flag(code, code.replace("_", " "), "No explanation recorded for this flag.", "")
