"""The roles an account has, their names in Chinese, and the groups of them that the tablet,
the server and the back office check: defined here once, named for what they may do.

    technician   works jobs on a tablet            dispatcher   creates and assigns jobs
    supervisor   also reviews conflicts, alerts    admin        also users, rules, devices
    auditor      reads every office page, changes nothing
    system       the server acting by itself (rules engine, billing, portal)
"""

from __future__ import annotations

TECHNICIAN, DISPATCHER, SUPERVISOR, ADMIN = "technician", "dispatcher", "supervisor", "admin"
AUDITOR, SYSTEM = "auditor", "system"
# The roles an account may be given (SYSTEM is never an account's).
ACCOUNT_ROLES = (TECHNICIAN, DISPATCHER, SUPERVISOR, ADMIN, AUDITOR)
ROLES = (*ACCOUNT_ROLES, SYSTEM)

ROLE_ZH = {TECHNICIAN: "安检员", DISPATCHER: "调度员", SUPERVISOR: "主管", ADMIN: "管理员",
           AUDITOR: "审计员", SYSTEM: "系统"}

# Act in the office: dispatch, decide part requests, take payments, call customers.
OFFICE_ROLES = frozenset({DISPATCHER, SUPERVISOR, ADMIN})
# Also settle what needs a senior eye: conflicts, alerts, a device to revoke.
SUPERVISORS = frozenset({SUPERVISOR, ADMIN})
# Also manage accounts and edit the rules.
ADMINS = frozenset({ADMIN})
# Read the back office (an auditor reads everything and changes nothing anywhere).
OFFICE_VIEWERS = OFFICE_ROLES | {AUDITOR}
# Move jobs as the office does.
ACTS_AS_OFFICE = OFFICE_ROLES | {SYSTEM}
# See only their own district when their account names one.
DISTRICT_SCOPED = frozenset({DISPATCHER, SUPERVISOR})
