"""The header of a FinOps FOCUS 1.0 export as AWS writes it (x_UsageType and x_ServiceCode are AWS's own columns).

A module without Django imports so that bench/ingest_billing.py can build its files before django.setup(); the
demo data (demo/billing.py) writes the same header.
"""

FOCUS_COLUMNS = (
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ConsumedQuantity",
    "ConsumedUnit",
    "EffectiveCost",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_UsageType",
    "x_ServiceCode",
)
