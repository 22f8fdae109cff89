"""Known export formats, header resolution by name, and format detection from the header row.

Columns are always mapped by header name, never by position (docs/methodology.md §3; docs/security.md §5). Names are
compared after trimming, dropping a BOM, case-folding and reading "." as "_", so GCP dotted and flattened names,
Azure PascalCase and camelCase, and FOCUS names all resolve to the same logical field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingestion.billing.readers.common import BillingFileError


def header_key(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(".", "_")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    aliases: tuple[str, ...]  # display spellings, compared through header_key
    required: bool = True


@dataclass(frozen=True)
class FormatSpec:
    key: str
    label: str
    kind: str  # "billing" or "carbon"
    fields: tuple[FieldSpec, ...]
    tag_prefixes: tuple[str, ...] = ()  # per-key tag columns, e.g. legacy CUR `resourceTags/user:`


def _f(name: str, *aliases: str, required: bool = True) -> FieldSpec:
    return FieldSpec(name, aliases, required)


_AWS_LEGACY = FormatSpec(
    "aws_cur_legacy",
    "AWS Cost and Usage Report (legacy CSV)",
    "billing",
    (
        _f("usage_start", "lineItem/UsageStartDate"),
        _f("account", "lineItem/UsageAccountId"),
        _f("service", "lineItem/ProductCode"),
        _f("usage_type", "lineItem/UsageType"),
        _f("amount", "lineItem/UsageAmount"),
        _f("line_item_type", "lineItem/LineItemType"),
        _f("unit", "pricing/unit"),
        _f("cost", "lineItem/BlendedCost", "lineItem/UnblendedCost"),
        _f("currency", "lineItem/CurrencyCode", required=False),
        _f("region", "product/region", required=False),
        _f("vcpu", "product/vcpu", required=False),
        _f("instance_type", "product/instanceType", required=False),
    ),
    ("resourceTags/user:",),
)

_AWS_CUR2 = FormatSpec(
    "aws_cur2",
    "AWS CUR 2.0 / Data Exports (snake_case)",
    "billing",
    (
        _f("usage_start", "line_item_usage_start_date"),
        _f("account", "line_item_usage_account_id"),
        _f("service", "line_item_product_code"),
        _f("usage_type", "line_item_usage_type"),
        _f("amount", "line_item_usage_amount"),
        _f("line_item_type", "line_item_line_item_type"),
        _f("unit", "pricing_unit"),
        _f("cost", "line_item_blended_cost", "line_item_unblended_cost"),
        _f("currency", "line_item_currency_code", required=False),
        _f("account_name", "line_item_usage_account_name", required=False),
        _f("region", "product_region_code", "product_region", required=False),
        _f("vcpu", "product_vcpu", required=False),
        _f("product", "product", required=False),
        _f("instance_type", "product_instance_type", required=False),
        _f("tags", "resource_tags", required=False),
    ),
    ("resource_tags_user_",),
)

_GCP = FormatSpec(
    "gcp_billing",
    "Google Cloud billing export (BigQuery, flattened)",
    "billing",
    (
        _f("usage_start", "usage_start_time"),
        _f("service", "service.description"),
        _f("usage_type", "sku.description"),
        _f("amount", "usage.amount"),
        _f("unit", "usage.unit"),
        _f("cost", "cost"),
        _f("account", "project.id", required=False),
        _f("account_name", "project.name", required=False),
        _f("currency", "currency", required=False),
        _f("cost_type", "cost_type", required=False),
        _f("region", "location.region", required=False),
        _f("location", "location.location", required=False),
        _f("machine_spec", "machine_spec", "system_labels.compute.googleapis.com/machine_spec", required=False),
        _f("labels", "labels", required=False),
        _f("project_labels", "project.labels", required=False),
    ),
    ("labels.", "labels_"),
)

_AZURE = FormatSpec(
    "azure_cost",
    "Azure Cost Management export (EA or MCA)",
    "billing",
    (
        _f("usage_start", "Date", "UsageDate"),
        _f("service", "MeterCategory"),
        _f("meter", "MeterName"),
        _f("unit", "UnitOfMeasure"),
        _f("amount", "Quantity"),
        _f("cost", "CostInBillingCurrency", "CostInUsd", "Cost", "PreTaxCost"),
        _f("account", "SubscriptionId", "SubscriptionGuid", "SubscriptionName"),
        _f("account_name", "SubscriptionName", required=False),
        _f("currency", "BillingCurrency", "BillingCurrencyCode", "Currency", required=False),
        _f("region", "ResourceLocation", required=False),
        _f("meter_region", "MeterRegion", required=False),
        _f("charge_type", "ChargeType", required=False),
        _f("additional_info", "AdditionalInfo", required=False),
        _f("tags", "Tags", required=False),
        _f("resource_group", "ResourceGroup", "ResourceGroupName", required=False),
    ),
)

_FOCUS = FormatSpec(
    "focus",
    "FinOps FOCUS 1.0-1.2 cost and usage",
    "billing",
    (
        _f("cost", "BilledCost"),
        _f("charge_category", "ChargeCategory"),
        _f("usage_start", "ChargePeriodStart"),
        _f("service", "ServiceName"),
        _f("amount", "ConsumedQuantity"),
        _f("unit", "ConsumedUnit"),
        _f("provider", "ProviderName", "ServiceProviderName", "PublisherName"),
        _f("charge_class", "ChargeClass", required=False),
        _f("currency", "BillingCurrency", required=False),
        _f("region", "RegionId", required=False),
        _f("account", "SubAccountId", required=False),
        _f("account_name", "SubAccountName", required=False),
        _f("description", "ChargeDescription", required=False),
        _f("sku_meter", "SkuMeter", required=False),
        _f("aws_usage_type", "x_UsageType", required=False),
        _f("aws_service_code", "x_ServiceCode", required=False),
        _f("instance_type", "x_InstanceType", "x_SkuInstanceType", required=False),
        _f("vcpu", "x_SkuCoreCount", "x_VCPUs", required=False),
        _f("tags", "Tags", required=False),
        # Microsoft's extension columns: the same meter, category, unit and AdditionalInfo JSON as its native
        # cost export, so a FOCUS file from Azure classifies exactly like an EA/MCA export of the same month.
        _f("azure_meter", "x_SkuMeterName", required=False),
        _f("azure_meter_category", "x_SkuMeterCategory", required=False),
        _f("azure_meter_subcategory", "x_SkuMeterSubcategory", required=False),
        _f("additional_info", "x_SkuDetails", required=False),
        _f("pricing_unit_description", "x_PricingUnitDescription", required=False),
        _f("resource_group", "x_ResourceGroupName", required=False),
    ),
)

_AWS_CARBON = FormatSpec(
    "aws_carbon",
    "AWS carbon emissions export (CARBON_EMISSIONS, MTCO2e)",
    "carbon",
    (
        _f("period_start", "usage_period_start"),
        _f("account", "usage_account_id", "payer_account_id"),
        _f("total_lbm_emissions_value", "total_lbm_emissions_value"),
        _f("total_lbm_emissions_unit", "total_lbm_emissions_unit"),
        _f("service", "product_code", required=False),
        _f("region", "region_code", "location", required=False),
        _f("model_version", "model_version", required=False),
    ),
)

_GCP_CARBON = FormatSpec(
    "gcp_carbon",
    "Google Cloud carbon_footprint export (kg)",
    "carbon",
    (
        _f("period_start", "usage_month"),
        _f("location_based", "carbon_footprint_total_kgCO2e.location_based", "carbon_footprint_kgCO2e.scope2"),
        _f("account", "project.id", "billing_account_id", required=False),
        _f("service", "service.description", required=False),
        _f("region", "location.region", "location.location", required=False),
        _f("model_version", "carbon_model_version", required=False),
    ),
)

_AZURE_CARBON = FormatSpec(
    "azure_carbon",
    "Azure carbon optimization export (kg)",
    "carbon",
    (
        _f("latest", "latestMonthEmissions"),
        _f("item", "itemName", "resourceId", "subscriptionId", "resourceGroup"),
        _f("previous", "previousMonthEmissions", required=False),
        _f("account", "subscriptionId", required=False),
        _f("service", "resourceType", "categoryType", required=False),
        _f("region", "location", required=False),
        _f("period_start", "date", "month", required=False),
    ),
)

_AZURE_MCFS = FormatSpec(
    "azure_mcfs",
    "Microsoft Cloud for Sustainability EnrollmentEmission (mtCO2e)",
    "carbon",
    (
        _f("period_start", "dateKey"),
        _f("total", "totalEmissions"),
        _f("account", "subscriptionId", "enrollmentId"),
        _f("service", "azureServiceName", required=False),
        _f("region", "azureRegionName", required=False),
        _f("scope", "scope", required=False),
    ),
)

FORMATS: tuple[FormatSpec, ...] = (
    _AWS_LEGACY,
    _AWS_CUR2,
    _GCP,
    _AZURE,
    _FOCUS,
    _AWS_CARBON,
    _GCP_CARBON,
    _AZURE_CARBON,
    _AZURE_MCFS,
)
FORMATS_BY_KEY = {spec.key: spec for spec in FORMATS}


def resolve(columns: Sequence[str], spec: FormatSpec) -> tuple[dict[str, str], list[str]]:
    """(logical field -> header as written, missing required fields shown as their first alias)."""
    by_key: dict[str, str] = {}
    for col in columns:
        by_key.setdefault(header_key(col), col)
    found: dict[str, str] = {}
    missing: list[str] = []
    for fld in spec.fields:
        actual = next((by_key[header_key(a)] for a in fld.aliases if header_key(a) in by_key), None)
        if actual is not None:
            found[fld.name] = actual
        elif fld.required:
            missing.append(" or ".join(fld.aliases))
    return found, missing


def tag_columns(columns: Sequence[str], spec: FormatSpec) -> list[tuple[str, str]]:
    """(tag key, header) for per-key tag columns such as `resourceTags/user:team`."""
    out: list[tuple[str, str]] = []
    for col in columns:
        key = header_key(col)
        for prefix in spec.tag_prefixes:
            p = header_key(prefix)
            if key.startswith(p) and len(key) > len(p):
                out.append((col.strip()[len(prefix) :], col))
                break
    return out


def detect_billing_format(columns: Sequence[str], *, file_name: str = "") -> str:
    """The single format whose required columns are all present.

    Raises BillingFileError for an unknown file (listing, per expected format, the required columns that are
    missing, closest format first) or an ambiguous one (several formats match).
    """
    results = [(spec, resolve(columns, spec)[1]) for spec in FORMATS]
    matches = [spec for spec, missing in results if not missing]
    if len(matches) == 1:
        return matches[0].key
    if matches:
        labels = ", ".join(spec.label for spec in matches)
        raise BillingFileError(file_name, f"ambiguous header: it matches several formats ({labels})")
    results.sort(key=lambda item: len(item[1]))
    lines = [f"- {spec.label}: missing {', '.join(missing)}" for spec, missing in results]
    raise BillingFileError(
        file_name, "not a recognised billing or carbon export. Expected one of:\n" + "\n".join(lines)
    )
