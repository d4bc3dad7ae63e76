"""The terms of a case contract: the case workflow's input, wrapped by the API.

Plain dataclasses (Temporal's pydantic data converter carries the `date` values). Only
ids, codes, booleans, numbers and dates travel here: names and free text about the
child, family or workers stay in the database (DESIGN decision 6), because workflow
input is recorded in history. The rules these shapes must satisfy are in
`workflows/policy.py` (C1-C5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Phase(StrEnum):
    """Child protection phase of the case; only PROTECTION_ORDER can be contracted (C1)."""

    INTAKE = "intake"
    INVESTIGATION = "investigation"
    PROTECTION_ORDER = "protection_order"


# C2: responsibilities of child protection that can never be contracted, one code per
# item of DOMAIN C2 (advice 2056 "Functions that cannot be contracted"; procedure 1028
# "Case planning and delegated statutory functions cannot be contracted").
NON_CONTRACTABLE_FUNCTIONS: frozenset[str] = frozenset({
    "case_planning_decision",
    "risk_assessment",
    "review_risk_assessment",
    "investigation",  # investigation of a report
    "conciliation_counselling",  # receiving the application; certifying counselling
    "disposition_report",
    "case_plan_endorsement",  # s. 168 CYFA
    # Significant decisions outside the parameters of the case plan:
    "removal_or_return_to_parents",  # removal from, or return to, parents' care
    "significant_contact_change",
    "placement_change",
    "secure_welfare_placement",
    "childrens_court_application",
    "specific_parental_responsibility_decision",
})

# C2: the case management functions that may be contracted as "specified functions".
# Sources: advice 2056 "Contracting case management" (what the agency may be
# responsible for, what an out-of-home care provider and a case management service
# such as ICMS may be contracted to do) and procedure 1028 "CSO case manager tasks".
# Referrals of single tasks to other services (2056 "Referring case management tasks")
# are not contracts and have no code here.
CONTRACTABLE_FUNCTIONS: frozenset[str] = frozenset({
    # 2056: "the continuing functions of assessment and intervention" (not the risk
    # assessments, which stay with child protection).
    "assessment_and_intervention",
    # 2056: "contributing to the development of the case plan".
    "case_plan_development_contribution",
    # 2056: "contributing to the completion of Child Protection's review risk assessment".
    "review_risk_assessment_contribution",
    # 2056: "support and monitoring".
    "support_and_monitoring",
    # 2056: "providing reports to Child Protection as required including case planning
    # reports"; 1028: quarterly progress reports.
    "progress_reporting",
    # 2056: "reports for the Children's Court"; 1028: "Provide court reports and
    # participate in court processes and proceedings" (not the court application).
    "court_reports_and_proceedings",
    # 2056 out-of-home care provider: "implement and enact all or part of the case plan".
    "case_plan_implementation",
    # 2056 out-of-home care provider: "organise and supervise contact consistent with the
    # case plan" (a significant change to contact stays with CP).
    "family_contact_supervision",
    # 2056 ICMS: "coordinate and liaise with the care team and service network members".
    "case_management_coordination",
    # 2056 ICMS: "an allocated worker to undertake the day to day tasks"; 1028: "Work
    # directly with the child".
    "direct_work_with_child",
    # 2056 out-of-home care provider: "liaise with services"; 1028: "Engage with other
    # specialist agencies and services ... authorised by child protection".
    "referrals_to_services",
    # 1028: "Participate in case plan processes and care teams where appropriate".
    "care_team_participation",
})


class SignatoryRole(StrEnum):
    """Who signs the written case contract (C4, advice 2056)."""

    CP_DECISION_MAKER = "cp_decision_maker"
    AGENCY_REPRESENTATIVE = "agency_representative"
    CHILD = "child"
    PARENT_GUARDIAN = "parent_guardian"


@dataclass
class Signatory:
    """One signature on the contract. `declined` is meaningful for a parent or guardian
    only (C4: a best-interests decision is then recorded instead)."""

    role: SignatoryRole
    person_id: str
    signed_on: date | None = None
    declined: bool = False


@dataclass
class ReportingSchedule:
    """C5: either explicit `due_dates`, or `interval_months` (1-3) counted from
    `start_date` (the contract start when omitted); the first report is due one interval
    after the start."""

    due_dates: list[date] = field(default_factory=list)
    start_date: date | None = None
    interval_months: int | None = None


@dataclass
class ContractTerms:
    case_id: str
    agency_id: str
    phase: Phase
    # C2: total case management, or the specified `functions` (codes from
    # CONTRACTABLE_FUNCTIONS) — never both.
    total_case_management: bool
    functions: list[str]
    aboriginal_child: bool
    acsass_consulted_on: date | None
    child_birth_date: date | None
    schedule: ReportingSchedule
    contract_start: date
    contract_end: date
    order_expiry: date
    jurisdiction: str = "AU-VIC"
    time_zone: str = "Australia/Melbourne"
    # Local overrides of the public-holiday calendar (days closed / holidays worked).
    extra_closures: list[date] = field(default_factory=list)
    removed_holidays: list[date] = field(default_factory=list)
    # K1: expected direct contact with the child, in days (fortnightly by default).
    contact_frequency_days: int = 14


@dataclass
class Endorsement:
    """C4: the team manager's endorsement; the contract is active only from it."""

    team_manager_id: str
    endorsed_on: date
    signatories: list[Signatory]
    # Id of the recorded best-interests decision when a parent declined to sign.
    best_interests_decision_id: str | None = None
    # Id of the recorded decision that signing is not age-appropriate for this child
    # (C4 "where age-appropriate"): the child then need not sign despite their age.
    child_not_signing_decision_id: str | None = None
