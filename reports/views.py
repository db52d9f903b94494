"""The figures page and its exports (Perm.REPORT_VIEW). Period and scope come from the query
string, so a report can be bookmarked; every view and export is audited with its scope only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.events import record_event, record_read
from audit.models import Action
from auth2fa.http import AuthenticatedRequest
from core.exports import dutch_decimal, table_response
from domains.access import permission_required
from domains.permissions import Perm
from reports.figures import DURATION_CLASSES, MIN_GROUP_SIZE, Figures, combined, compute
from reports.forms import FiguresForm
from reports.selectors import (
    ChosenScope,
    add_months,
    choose_scope,
    last_twelve_months_from,
    month_start,
    scope_choices,
    trend_months,
)

TWO_PLACES = Decimal("0.01")


def class_labels() -> dict[str, str]:
    return {
        "short": _("1–14 days"),
        "medium": _("15–91 days"),
        "long": _("92–365 days"),
        "extra_long": _("366 days or more"),
    }


@dataclass
class Report:
    """Everything the page and the exports show, from one query (_build_report)."""

    chosen: ChosenScope
    period: tuple[date, date]
    main: Figures
    trend: list[Figures]
    comparison: list[tuple[str, Figures]]


def _build_report(chosen: ChosenScope, start: date, end: date, today: date) -> Report:
    """The period, its 12-month trend and its comparison of groups, from one query: the
    groups of each period add up to the whole (figures.combined)."""
    months = trend_months(end)
    periods = list(dict.fromkeys([(start, end), *months]))  # the period may be a month of them
    by_period: dict[tuple[date, date], list[Figures]] = defaultdict(list)
    for figures in compute(chosen.scope, periods, today=today, grouping=chosen.grouping):
        by_period[(figures.period_from, figures.period_to)].append(figures)
    main = combined(by_period[(start, end)], start, end)
    trend = [combined(by_period[(first, last)], first, last) for first, last in months]
    comparison = [
        (chosen.group_labels.get(figures.group, _("Other")), figures)
        for figures in by_period[(start, end)]
    ]
    comparison.sort(key=lambda pair: (pair[1].group is None, pair[0]))
    return Report(chosen, (start, end), main, trend, comparison)


def _presets(today: date) -> list[tuple[str, date, date]]:
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    previous_quarter = add_months(quarter_start, -3)
    return [
        (_("This month"), month_start(today), today),
        (_("Last month"), add_months(today, -1), month_start(today) - timedelta(days=1)),
        (_("This quarter"), quarter_start, today),
        (_("Last quarter"), previous_quarter, quarter_start - timedelta(days=1)),
        (_("This year"), date(today.year, 1, 1), today),
        (_("Last year"), date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        (_("Last 12 months"), last_twelve_months_from(today), today),
    ]


def _rounded(value: Decimal | None) -> float | None:
    return float(value.quantize(TWO_PLACES, ROUND_HALF_UP)) if value is not None else None


def _chart_data(report: Report) -> dict[str, Any]:
    """The charts' data (the tables beside them show the same): None where suppressed."""
    return {
        "trend": {
            "labels": [date_format(f.period_from, "M Y") for f in report.trend],
            "values": [
                None if f.suppressed else _rounded(f.absence_percentage) for f in report.trend
            ],
        },
        "comparison": {
            "labels": [label for label, _f in report.comparison],
            "values": [
                None if f.suppressed else _rounded(f.absence_percentage)
                for _label, f in report.comparison
            ],
        },
    }


def _scoped_form(request: AuthenticatedRequest) -> tuple[FiguresForm, Any, date]:
    today = timezone.localdate()
    choices = scope_choices(request.user)
    form = FiguresForm(request.GET or None, choices=choices, today=today)
    return form, choices, today


@permission_required(Perm.REPORT_VIEW)
def figures(request: AuthenticatedRequest) -> HttpResponse:
    form, choices, today = _scoped_form(request)
    context: dict[str, Any] = {
        "form": form,
        "min_group_size": MIN_GROUP_SIZE,
        "class_labels": class_labels(),
        "no_scope": choices.empty,
    }
    if choices.empty or not form.is_valid():
        record_read("report.view", object_type="reports.refused_or_empty")
        return render(request, "reports/figures.html", context)
    data = form.cleaned_data
    chosen = choose_scope(
        request.user, choices, employer_key=data["employer"], department_key=data["department"]
    )
    report = _build_report(chosen, data["from"], data["to"], today)
    record_read("report.view", **chosen.audit_fields())
    kept = {
        name: str(data[name]) for name in ("employer", "department") if data.get(name) is not None
    }
    context.update(
        report=report,
        classes=[name for name, _low, _high in DURATION_CLASSES],
        chart_data=_chart_data(report),
        presets=[
            (label, "?" + urlencode({"from": first, "to": last, **kept}))
            for label, first, last in _presets(today)
        ],
        query=request.GET.urlencode(),
    )
    return render(request, "reports/figures.html", context)


def _value(value: Decimal | int | None, figures: Figures, *, as_text: bool) -> Any:
    if figures.suppressed:
        return _("— (fewer than %(count)s employees)") % {"count": MIN_GROUP_SIZE}
    if value is None:
        return ""
    if isinstance(value, int):
        return value
    rounded = value.quantize(TWO_PLACES, ROUND_HALF_UP)
    return dutch_decimal(rounded) if as_text else rounded


def export_header() -> list[str]:
    labels = class_labels().values()
    return [
        _("Part"), _("Scope, month or group"), _("From"), _("To"),
        _("Absence percentage"), _("Pregnancy-related absence percentage"),
        _("Report frequency (annualised)"), _("Average duration (days)"),
        _("Zero absence percentage"), _("Average head count"),
        *[_("Absence percentage %(class)s") % {"class": label} for label in labels],
        *[_("Cases %(class)s") % {"class": label} for label in labels],
        _("New reports"), _("Ended cases"), _("Open cases"), _("Open past week 42"),
        _("Open past week 52"),
    ]  # fmt: skip


def export_rows(report: Report, *, as_text: bool) -> list[list[Any]]:
    def row(part: str, label: str, f: Figures) -> list[Any]:
        def v(value: Decimal | int | None) -> Any:
            return _value(value, f, as_text=as_text)

        first, last = (
            (f.period_from.isoformat(), f.period_to.isoformat())
            if as_text
            else (f.period_from, f.period_to)
        )
        return [
            part, label, first, last,
            v(f.absence_percentage), v(f.pregnancy_percentage), v(f.report_frequency),
            v(f.average_duration), v(f.zero_absence_percentage), v(f.average_headcount),
            *[v(f.class_percentage(name)) for name, _low, _high in DURATION_CLASSES],
            *[v(f.class_counts.get(name, 0)) for name, _low, _high in DURATION_CLASSES],
            v(f.new_reports), v(f.ended), v(f.open_cases), v(f.open_past_42), v(f.open_past_52),
        ]  # fmt: skip

    rows = [row(_("Period"), report.chosen.label, report.main)]
    rows += [row(_("Trend"), date_format(f.period_from, "F Y"), f) for f in report.trend]
    rows += [row(_("Comparison"), label, f) for label, f in report.comparison]
    return rows


def _export(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    form, choices, today = _scoped_form(request)
    if choices.empty or not form.is_valid():
        return figures(request)
    data = form.cleaned_data
    chosen = choose_scope(
        request.user, choices, employer_key=data["employer"], department_key=data["department"]
    )
    report = _build_report(chosen, data["from"], data["to"], today)
    rows = export_rows(report, as_text=kind == "csv")
    record_event("report.export", Action.READ, **chosen.audit_fields())
    name = f"verzuimcijfers-{data['from']:%Y%m%d}-{data['to']:%Y%m%d}"
    return table_response(kind, name, export_header(), rows, sheet_title=_("Absence figures"))


@permission_required(Perm.REPORT_VIEW)
def export_csv(request: AuthenticatedRequest) -> HttpResponse:
    return _export(request, "csv")


@permission_required(Perm.REPORT_VIEW)
def export_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    return _export(request, "xlsx")
