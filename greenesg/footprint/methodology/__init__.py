"""Pure estimation methodology (no ORM, no Django): energy, PUE, scope and factor resolution."""
