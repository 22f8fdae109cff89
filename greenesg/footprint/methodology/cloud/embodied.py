"""Embodied emissions (methodology 4.7): kg CO2e of the hardware share, never converted to kWh (4.10.1)."""

from __future__ import annotations

from greenesg.footprint.methodology.cloud.coefficients import InstanceSpec, load_coefficients


def embodied_kg(te_kg: float, reserved_instance_hours: float, vcpus: float, largest_vcpus: float) -> float:
    """SCI M = TE x (TR / EL) x (RR / TotalR) (methodology 4.7).

    TR must be in instance-hours (pitfall 4.10.2); use `gcp_reserved_instance_hours` for GCP vCPU-seconds.
    """
    lifespan = float(load_coefficients()["embodied_lifespan_hours"])
    return te_kg * (reserved_instance_hours / lifespan) * (vcpus / largest_vcpus)


def gcp_reserved_instance_hours(vcpu_seconds: float, vcpus: float) -> float:
    """GCP bills vCPU-seconds, so TR = seconds / 3600 / vCPUs (4.7); AWS/Azure rows are instance-hours already."""
    return vcpu_seconds / 3600 / vcpus


def line_embodied_kg(
    spec: InstanceSpec | None, instance_hours: float | None, vcpus: float | None, flags: list[str]
) -> float | None:
    """Embodied kg for compute with a reservation; serverless and unknown families are a recorded gap (4.7)."""
    if spec is None or spec.te_kg is None or instance_hours is None or not vcpus:
        flags.append("embodied_unknown")
        return None
    return embodied_kg(spec.te_kg, instance_hours, vcpus, spec.embodied_largest_vcpus)
