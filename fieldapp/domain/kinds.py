"""Kinds of job and their priorities, as the office creates them and the tablets show them."""

from __future__ import annotations

# The skill a technician needs for each kind of job (a rectification check is an inspection).
KIND_SKILL = {
    "inspection": "inspection", "repair": "repair", "meter_reading": "meter_reading",
    "rectification_check": "inspection", "installation": "installation",
}
KINDS = tuple(KIND_SKILL)

EMERGENCY = 1  # a gas leak: dispatched before anything else
PRIORITIES = (1, 2, 3, 4)  # emergency, urgent, normal, low
