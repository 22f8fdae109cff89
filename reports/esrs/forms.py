"""Forms of the ESRS report pages. They validate only; views hand the result to a service."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from typing import Any

from django import forms

from greenesg.accounts.models import Organisation
from greenesg.footprint.models import EmissionFactor, FactorSetStatus
from reports.models import (
    ContractualInstrument,
    OtherActivity,
    QuarterRevenue,
    ReductionTarget,
    ReportingSettings,
    ResidualMixFactor,
)

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
DATE = forms.DateInput(attrs={"type": "date"})


def _check_evidence(upload: Any) -> Any:
    if upload and upload.size > MAX_EVIDENCE_BYTES:
        raise forms.ValidationError(f"Evidence files are limited to {MAX_EVIDENCE_BYTES // 2**20} MB.")
    return upload


# Common ISO 4217 currencies of European reporters and their groups; a stored code outside the list stays
# selectable (see ReportingSettingsForm) so saving the page never silently changes it.
CURRENCIES = (
    ("EUR", "EUR – Euro"),
    ("USD", "USD – US dollar"),
    ("GBP", "GBP – Pound sterling"),
    ("CHF", "CHF – Swiss franc"),
    ("SEK", "SEK – Swedish krona"),
    ("NOK", "NOK – Norwegian krone"),
    ("DKK", "DKK – Danish krone"),
    ("ISK", "ISK – Icelandic króna"),
    ("PLN", "PLN – Polish złoty"),
    ("CZK", "CZK – Czech koruna"),
    ("HUF", "HUF – Hungarian forint"),
    ("RON", "RON – Romanian leu"),
    ("BGN", "BGN – Bulgarian lev"),
    ("JPY", "JPY – Japanese yen"),
    ("CNY", "CNY – Chinese yuan"),
    ("INR", "INR – Indian rupee"),
    ("CAD", "CAD – Canadian dollar"),
    ("AUD", "AUD – Australian dollar"),
    ("SGD", "SGD – Singapore dollar"),
)
MONTHS = [(number, calendar.month_name[number]) for number in range(1, 13)]


class ReportCreateForm(forms.Form):
    # A select of the organisation's fiscal periods; the value is still the period text, which the service
    # parses and checks (a hand-made POST gets the same validation as before).
    period = forms.CharField(
        max_length=10, widget=forms.Select, help_text="Quarters, year to date and years of your fiscal calendar."
    )
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Required when the period already has a signed report (restatement).",
    )

    def __init__(self, *args: Any, period_choices: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].widget.choices = period_choices


class ReportingSettingsForm(forms.ModelForm):
    class Meta:
        model = ReportingSettings
        fields = [
            "legal_name",
            "lei",
            "currency",
            "fiscal_year_start_month",
            "consolidation_approach",
            "nace_code",
            "high_climate_impact",
            "base_year",
            "base_scope1_t",
            "base_scope2_location_t",
            "base_scope2_market_t",
            "base_scope3_t",
            "base_energy_mwh",
            "materiality_statement",
            "actions_statement",
        ]
        widgets = {
            "materiality_statement": forms.Textarea(attrs={"rows": 3}),
            "actions_statement": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, suggested_legal_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fiscal_year_start_month"] = forms.TypedChoiceField(
            label="Fiscal year starts in",
            choices=MONTHS,
            coerce=int,
            help_text=self.fields["fiscal_year_start_month"].help_text.replace("1 = January. ", ""),
        )
        currencies = list(CURRENCIES)
        if self.instance.currency and self.instance.currency not in dict(currencies):
            currencies.append((self.instance.currency, self.instance.currency))
        self.fields["currency"] = forms.ChoiceField(
            choices=currencies, initial="EUR", help_text="ISO 4217 code of revenue and intensity figures."
        )
        # The report treats legal name and NACE as what "entered" means (BP-1 boundary, E1 sector rules), so
        # saving the settings needs both; the suggestion is a placeholder, never a value taken as stored.
        self.fields["legal_name"].required = True
        self.fields["nace_code"].required = True
        if suggested_legal_name:
            self.fields["legal_name"].widget.attrs["placeholder"] = suggested_legal_name
        self.fields["nace_code"].widget.attrs["placeholder"] = "e.g. J62 (computer programming, consultancy)"

    def clean_fiscal_year_start_month(self) -> int:
        month = self.cleaned_data["fiscal_year_start_month"]
        if not 1 <= month <= 12:
            raise forms.ValidationError("Enter a month from 1 to 12.")
        return month

    def clean_lei(self) -> str:
        lei = self.cleaned_data["lei"].strip().upper()
        if lei and (len(lei) != 20 or not lei.isalnum()):
            raise forms.ValidationError("An LEI has 20 letters and digits.")
        return lei


class ReductionTargetForm(forms.ModelForm):
    class Meta:
        model = ReductionTarget
        fields = ["scope", "target_year", "reduction_percent", "absolute_target_t", "science_based", "notes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reduction_percent") is None and data.get("absolute_target_t") is None:
            raise forms.ValidationError("Give the target as a % reduction or as an absolute tCO2e level.")
        return data


class QuarterRevenueForm(forms.ModelForm):
    class Meta:
        model = QuarterRevenue
        fields = ["fiscal_year", "quarter", "revenue_used", "revenue_other", "statement_reference"]


class Scope3ScreeningRowForm(forms.Form):
    category = forms.CharField(widget=forms.HiddenInput)
    included = forms.BooleanField(required=False)
    method = forms.ChoiceField(
        required=False,
        choices=[
            ("", "—"),
            ("supplier-specific", "Supplier-specific"),
            ("hybrid", "Hybrid"),
            ("spend-based", "Spend-based"),
            ("average-data", "Average data"),
        ],
    )
    reason = forms.CharField(required=False, max_length=500)
    screened_on = forms.DateField(required=False, widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("included") and not (data.get("reason") or "").strip():
            raise forms.ValidationError("An excluded category needs a reason (ESRS E1 AR 46).")
        return data


Scope3ScreeningFormSet = forms.formset_factory(Scope3ScreeningRowForm, extra=0, max_num=15, validate_max=True)


class ContractualInstrumentForm(forms.ModelForm):
    evidence_file = forms.FileField(required=False)

    class Meta:
        model = ContractualInstrument
        fields = [
            "instrument_type",
            "mwh",
            "market",
            "generation_start",
            "generation_end",
            "consumption_start",
            "consumption_end",
            "emission_rate_g_per_kwh",
            "supplier",
            "registry_ids",
        ]
        widgets = {f: DATE for f in ("generation_start", "generation_end", "consumption_start", "consumption_end")}

    def clean_evidence_file(self) -> Any:
        return _check_evidence(self.cleaned_data.get("evidence_file"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for start, end in (("generation_start", "generation_end"), ("consumption_start", "consumption_end")):
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, "The end is before the start.")
        if data.get("mwh") is not None and data["mwh"] <= 0:
            self.add_error("mwh", "Enter a positive volume.")
        if data.get("market"):
            data["market"] = data["market"].strip().upper()
        return data


class ResidualMixFactorForm(forms.ModelForm):
    class Meta:
        model = ResidualMixFactor
        fields = ["zone", "year", "g_co2e_per_kwh", "nuclear_share_percent", "source", "version"]

    def clean_zone(self) -> str:
        return self.cleaned_data["zone"].strip().upper()


def registry_factor(zone: str, year: int) -> EmissionFactor | None:
    """The active location-based factor of a zone for a year (latest vintage not after it, else the oldest)."""
    factors = EmissionFactor.objects.select_related("factor_set").filter(
        zone=zone, factor_set__status=FactorSetStatus.ACTIVE
    )
    return (
        factors.filter(vintage_year__lte=year).order_by("-vintage_year", "-factor_set__version").first()
        or factors.order_by("vintage_year").first()
    )


class OtherActivityRowForm(forms.ModelForm):
    """One activity, from the web form or a CSV row. `factor_zone` picks a registry factor (kWh/MWh only)."""

    factor_zone = forms.CharField(required=False, max_length=80, help_text="Registry zone, e.g. FRA or DEU.")

    class Meta:
        model = OtherActivity
        fields = [
            "description",
            "scope",
            "category",
            "quantity",
            "unit",
            "period_start",
            "period_end",
            "country_iso",
            "stated_kgco2e",
            "stated_source",
            "energy_kwh",
            "fuel_type",
        ]
        widgets = {"period_start": DATE, "period_end": DATE}

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        if self.instance.pk and self.instance.factor_id:
            self.fields["factor_zone"].initial = self.instance.factor.zone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope, category = data.get("scope"), (data.get("category") or "").strip()
        if scope == 3 and category not in {str(n) for n in range(1, 16)}:
            self.add_error("category", "Scope 3 needs a category from 1 to 15.")
        if scope in (1, 2):
            data["category"] = ""
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            self.add_error("period_end", "The end is before the start.")
        if data.get("quantity") is not None and data["quantity"] < 0:
            self.add_error("quantity", "Quantities cannot be negative (no netting).")
        unit = (data.get("unit") or "").strip().lower()
        zone = (data.get("factor_zone") or "").strip().upper()
        stated = data.get("stated_kgco2e")
        if stated is None and not zone:
            raise forms.ValidationError("Give a stated kgCO2e (with its evidence) or a registry factor zone.")
        if stated is not None and zone:
            raise forms.ValidationError("Give either a stated kgCO2e or a registry factor, not both.")
        if stated is not None and stated < 0:
            self.add_error("stated_kgco2e", "Emissions cannot be negative (no netting).")
        if zone:
            if unit not in ("kwh", "mwh"):
                self.add_error("unit", "Registry factors are per kWh: use kWh or MWh.")
            elif data.get("period_end"):
                self.factor = registry_factor(zone, data["period_end"].year)
                if self.factor is None:
                    self.add_error("factor_zone", f"No active registry factor for zone {zone!r}.")
        if stated is not None and not (data.get("stated_source") or "").strip():
            self.add_error("stated_source", "Say where the stated figure comes from.")
        if scope == 1 and data.get("fuel_type") and not data.get("energy_kwh") and unit not in ("kwh", "mwh"):
            self.add_error("energy_kwh", "Give the fuel's energy content (kWh, net calorific value) for E1-5.")
        if data.get("country_iso"):
            data["country_iso"] = data["country_iso"].strip().upper()
        return data

    def save(self, commit: bool = True) -> OtherActivity:
        activity = super().save(commit=False)
        activity.factor = getattr(self, "factor", None) if self.cleaned_data.get("factor_zone") else None
        if commit:
            activity.save()
        return activity


class OtherActivityForm(OtherActivityRowForm):
    evidence_file = forms.FileField(required=False, help_text="Invoice, travel-agency report, … (stored privately).")

    def clean_evidence_file(self) -> Any:
        return _check_evidence(self.cleaned_data.get("evidence_file"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        has_evidence = data.get("evidence_file") or (self.instance.pk and self.instance.evidence_sha256)
        if data.get("stated_kgco2e") is not None and not has_evidence:
            self.add_error("evidence_file", "A stated kgCO2e needs its evidence file.")
        return data


CSV_SNIFF_BYTES = 4096


def csv_head_problem(head: bytes) -> str | None:
    """Refuse what is plainly not a UTF-8 CSV from its first bytes, whatever its name says (OWASP)."""
    if not head.strip():
        return "The file is empty."
    if head.startswith((b"PK\x03\x04", b"\x1f\x8b")):
        return "Compressed files are not accepted: upload the .csv itself."
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "The file is UTF-16 text: save it as CSV UTF-8."
    if b"\x00" in head:
        return "The file is binary, not a CSV text file."
    return None


class CsvImportForm(forms.Form):
    file = forms.FileField(help_text="UTF-8 CSV with a header row.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        # A few KB from the start of the spooled upload, never the whole file (it may be large).
        upload.seek(0)
        problem = csv_head_problem(upload.read(CSV_SNIFF_BYTES))
        upload.seek(0)
        if problem:
            raise forms.ValidationError(problem)
        return upload
