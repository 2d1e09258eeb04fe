"""Kinds of job and their priorities, as the office creates them and the tablets show them."""

from __future__ import annotations

# The skill a technician needs for each kind of job (a rectification check is an inspection).
KIND_SKILL = {
    "inspection": "inspection", "repair": "repair", "meter_reading": "meter_reading",
    "rectification_check": "inspection", "installation": "installation",
    "dunning": "dunning",  # 催缴: a visit about an overdue bill
}
KINDS = tuple(KIND_SKILL)
# How the back office names them (the tablet's catalogue has both languages).
KIND_ZH = {"inspection": "安检", "repair": "维修", "meter_reading": "抄表",
           "rectification_check": "整改复查", "installation": "安装", "dunning": "催缴"}

# The kinds of work a technician can be skilled for (an account's skills).
SKILLS = ("inspection", "repair", "meter_reading", "installation", "dunning")

EMERGENCY = 1  # a gas leak: dispatched before anything else
PRIORITIES = (1, 2, 3, 4)  # emergency, urgent, normal, low
PRIORITY_ZH = {1: "紧急", 2: "加急", 3: "普通", 4: "低"}
# The form each kind of job is done on (kinds without one are closed without a form).
FORM_FOR_KIND = {"inspection": "household_inspection", "repair": "repair_report",
                 "meter_reading": "meter_reading", "rectification_check": "rectification_check"}
