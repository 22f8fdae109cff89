"""Seed the factor registry: country grids (codecarbon's bundled OWID data), US states, Nordic zones,
China provinces, and the cloud-region factors of the methodology reference (version 1 of each set)."""

from django.db import migrations


def seed(apps, schema_editor):
    from greenesg.footprint.factor_seed import seed_factor_sets
    from greenesg.footprint.services import factor_sets_load

    factor_sets_load(
        seed_factor_sets(),
        set_model=apps.get_model("footprint", "EmissionFactorSet"),
        factor_model=apps.get_model("footprint", "EmissionFactor"),
    )


class Migration(migrations.Migration):
    dependencies = [("footprint", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
