"""The Poortwachter rules: due dates per milestone, merges within 28 days, leap years, closing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cases.poortwachter import (
    RULES,
    RULES_BY_KIND,
    continues_previous,
    date_of_sick_day,
    due_dates,
    sick_days_until,
)

MONDAY = date(2026, 1, 5)

# kind -> week by which it is due (domain brief, "Poortwachter timeline").
EXPECTED_WEEKS = {
    "report_arbodienst": 1,
    "problem_analysis": 6,
    "plan_of_action": 8,
    "uwv_42": 42,
    "first_year_evaluation": 52,
    "wia_form": 88,
    "current_assessment": 91,
    "final_evaluation": 91,
    "reintegration_report": 91,
    "wia_application": 93,
    "end_of_wage_payment": 104,
}


@pytest.mark.parametrize(("kind", "week"), EXPECTED_WEEKS.items())
def test_each_milestone_is_due_at_the_end_of_its_week(kind, week):
    assert RULES_BY_KIND[kind].week == week
    assert due_dates([(MONDAY, None)])[kind] == MONDAY + timedelta(days=7 * week - 1)


def test_evaluations_follow_every_six_weeks_after_the_plan_of_action():
    weeks = sorted(rule.week for rule in RULES if rule.kind.startswith("evaluation_"))
    assert weeks == list(range(14, 104, 6))
    assert due_dates([(MONDAY, None)])["evaluation_14"] == MONDAY + timedelta(days=97)


@pytest.mark.parametrize(
    ("first_day", "kind", "due"),
    [
        (date(2026, 1, 5), "report_arbodienst", date(2026, 1, 11)),
        (date(2026, 1, 5), "problem_analysis", date(2026, 2, 15)),
        (date(2026, 1, 5), "plan_of_action", date(2026, 3, 1)),
        (date(2026, 1, 5), "uwv_42", date(2026, 10, 25)),
        (date(2026, 1, 5), "first_year_evaluation", date(2027, 1, 3)),
        (date(2026, 1, 5), "wia_application", date(2027, 10, 17)),
        (date(2026, 1, 5), "end_of_wage_payment", date(2028, 1, 2)),
        # Leap years: 29 February 2028 lies inside these periods.
        (date(2027, 6, 1), "first_year_evaluation", date(2028, 5, 29)),
        (date(2027, 6, 1), "end_of_wage_payment", date(2029, 5, 28)),
        (date(2028, 2, 29), "report_arbodienst", date(2028, 3, 6)),
        (date(2028, 2, 29), "problem_analysis", date(2028, 4, 10)),
        (date(2028, 2, 29), "end_of_wage_payment", date(2030, 2, 25)),
        (date(2026, 12, 31), "report_arbodienst", date(2027, 1, 6)),
    ],
)
def test_due_dates_for_a_table_of_first_sick_days(first_day, kind, due):
    assert due_dates([(first_day, None)])[kind] == due


def test_merged_absences_count_only_sick_days():
    # 16 sick days, 20 healthy days, then sick again: sick day 42 is day 26 of the second spell.
    periods = [(date(2026, 1, 5), date(2026, 1, 20)), (date(2026, 2, 10), None)]
    assert sick_days_until(periods, date(2026, 2, 10)) == 17
    assert due_dates(periods)["report_arbodienst"] == date(
        2026, 1, 11
    )  # reached in the first spell
    assert due_dates(periods)["problem_analysis"] == date(2026, 3, 7)
    single = due_dates([(date(2026, 1, 5), None)])["end_of_wage_payment"]
    assert due_dates(periods)["end_of_wage_payment"] == single + timedelta(days=20)


@pytest.mark.parametrize(
    ("healthy_days", "continues"), [(0, True), (1, True), (27, True), (28, False), (60, False)]
)
def test_an_absence_within_28_days_continues_the_case(healthy_days, continues):
    recovered = date(2026, 3, 1)
    assert continues_previous(recovered, recovered + timedelta(days=healthy_days)) is continues


def test_a_closed_case_reaches_no_further_milestones():
    due = due_dates([(MONDAY, MONDAY + timedelta(days=20))])  # 21 sick days
    assert due["report_arbodienst"] == date(2026, 1, 11)
    assert due["problem_analysis"] is None and due["end_of_wage_payment"] is None


def test_date_of_sick_day_walks_the_periods_in_order():
    periods = [(date(2026, 2, 1), None), (date(2026, 1, 1), date(2026, 1, 10))]
    assert date_of_sick_day(periods, 10) == date(2026, 1, 10)
    assert date_of_sick_day(periods, 11) == date(2026, 2, 1)
