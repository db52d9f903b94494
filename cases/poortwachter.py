"""The Poortwachter timeline (Wet verbetering poortwachter): the legal milestones of a case.

All rules live here. A milestone of week W is due on the day the case reaches 7 x W sick days:
for one uninterrupted absence that is the last day of sick week W. When absences within four
weeks of each other are added together (art. 7:629 lid 10 BW), only sick days count, so the
healthy days in between move the later deadlines out. A closed case reaches no further
milestones: those it did not reach have no due date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

MERGE_WITHIN_DAYS = 28  # a new absence after fewer healthy days than this continues the case
WAGE_PAYMENT_WEEKS = 104
EVALUATION_EVERY_WEEKS = 6


class Responsible(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    EMPLOYER = "employer", _("Employer")
    EMPLOYER_AND_EMPLOYEE = "employer_employee", _("Employer and employee")
    COMPANY_DOCTOR = "bedrijfsarts", _("Company doctor")
    CASE_MANAGER = "casemanager", _("Case manager")
    UWV = "uwv", _("UWV")


@dataclass(frozen=True)
class MilestoneRule:
    kind: str
    label: Promise
    week: int
    responsible: str

    @property
    def sick_days(self) -> int:
        return self.week * 7


RULES: list[MilestoneRule] = [
    MilestoneRule(
        "report_arbodienst",
        _("Sick report to the arbodienst / company doctor"),
        1,
        Responsible.EMPLOYER,
    ),
    MilestoneRule("problem_analysis", _("Problem analysis"), 6, Responsible.COMPANY_DOCTOR),
    MilestoneRule(
        "plan_of_action",
        _("Plan of action, case manager named"),
        8,
        Responsible.EMPLOYER_AND_EMPLOYEE,
    ),
    *[
        MilestoneRule(
            f"evaluation_{week}",
            # format_lazy: the label is translated when shown, not when this module loads.
            format_lazy(_("Evaluation of the plan of action (week {week})"), week=week),
            week,
            Responsible.CASE_MANAGER,
        )
        for week in range(8 + EVALUATION_EVERY_WEEKS, WAGE_PAYMENT_WEEKS, EVALUATION_EVERY_WEEKS)
    ],
    MilestoneRule("uwv_42", _("42nd-week notification to UWV"), 42, Responsible.EMPLOYER),
    MilestoneRule(
        "first_year_evaluation", _("First-year evaluation"), 52, Responsible.EMPLOYER_AND_EMPLOYEE
    ),
    MilestoneRule("wia_form", _("UWV sends the WIA application form"), 88, Responsible.UWV),
    MilestoneRule(
        "current_assessment",
        _("Current assessment (actueel oordeel)"),
        91,
        Responsible.COMPANY_DOCTOR,
    ),
    MilestoneRule("final_evaluation", _("Final evaluation"), 91, Responsible.EMPLOYER_AND_EMPLOYEE),
    MilestoneRule("reintegration_report", _("Re-integration report"), 91, Responsible.EMPLOYER),
    MilestoneRule("wia_application", _("WIA application"), 93, Responsible.EMPLOYEE),
    MilestoneRule(
        "end_of_wage_payment", _("End of wage payment"), WAGE_PAYMENT_WEEKS, Responsible.EMPLOYER
    ),
]
RULES.sort(key=lambda rule: (rule.week, rule.kind))
RULES_BY_KIND = {rule.kind: rule for rule in RULES}


def date_of_sick_day(periods: Sequence[tuple[date, date | None]], nth_day: int) -> date | None:
    """The date on which the case reaches its `nth_day` sick day; None if it ended before that.

    `periods` are the sick spells of one case in order: (first day, last day or None if open).
    """
    remaining = nth_day
    for start, end in sorted(periods):
        length = None if end is None else (end - start).days + 1
        if length is None or remaining <= length:
            return start + timedelta(days=remaining - 1)
        remaining -= length
    return None


def due_dates(periods: Sequence[tuple[date, date | None]]) -> dict[str, date | None]:
    return {rule.kind: date_of_sick_day(periods, rule.sick_days) for rule in RULES}


def sick_days_until(periods: Iterable[tuple[date, date | None]], day: date) -> int:
    """How many sick days the case has counted by `day` (inclusive)."""
    total = 0
    for start, end in periods:
        last = min(end, day) if end else day
        if last >= start:
            total += (last - start).days + 1
    return total


def continues_previous(previous_recovery: date | None, new_first_sick_day: date) -> bool:
    """Does a new absence continue the previous case (fewer than 28 healthy days between)?"""
    if previous_recovery is None:
        return False
    healthy_days = (new_first_sick_day - previous_recovery).days
    return 0 <= healthy_days < MERGE_WITHIN_DAYS
