"""What figures a user may ask for: the scope choices, and a chosen scope checked against them.

The access rule (domains.visibility.figures_scope) says which employers and department subtrees
a user's figures may cover; a choice outside them is answered as if it did not exist (404).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from auth2fa.models import User
from domains.models import Department, Employer
from domains.visibility import FiguresScope, figures_scope
from reports.figures import Figures, Grouping, Scope, compute

HEADLINE_CACHE_SECONDS = 600


@dataclass
class ScopeChoices:
    """The employers and departments the user may choose, read once (two queries)."""

    allowed: FiguresScope
    employers: list[Employer]
    departments: list[Department]

    @property
    def empty(self) -> bool:
        return self.allowed.empty


@dataclass
class ChosenScope:
    """A scope the user chose (or all they may see), ready for figures.compute."""

    scope: Scope
    grouping: Grouping
    label: str
    employer: Employer | None = None
    department: Department | None = None
    group_labels: dict[int | None, str] = field(default_factory=dict)

    def audit_fields(self) -> dict[str, Any]:
        """The scope for the audit trail: the department or employer, or none (all in scope)."""
        chosen = self.department or self.employer
        return {"obj": chosen} if chosen is not None else {"object_type": "reports.all_in_scope"}


def scope_choices(user: User) -> ScopeChoices:
    allowed = figures_scope(user)
    if allowed.empty:
        return ScopeChoices(allowed, [], [])
    in_subtrees = Q(pk__in=[])
    for path in allowed.department_paths:
        in_subtrees |= Q(path__startswith=path)
    departments = list(
        Department.objects.filter(tenant_id=user.tenant_id)
        .filter(Q(employer_id__in=allowed.employer_ids) | in_subtrees)
        .select_related("employer")
        .order_by("employer__name", "path")
    )
    employer_ids = set(allowed.employer_ids) | {d.employer_id for d in departments}
    employers = list(Employer.objects.filter(tenant_id=user.tenant_id, pk__in=employer_ids))
    employers.sort(key=lambda employer: employer.name)
    return ScopeChoices(allowed, employers, departments)


def _children_labels(
    choices: ScopeChoices, parent_path: str, employer_id: int
) -> dict[int | None, str]:
    depth = parent_path.count("/") if parent_path else 1
    return {
        d.pk: d.name
        for d in choices.departments
        if d.employer_id == employer_id
        and d.path.startswith(parent_path or "/")
        and d.path.count("/") == depth + 1
    }


def choose_scope(
    user: User, choices: ScopeChoices, *, employer_key: Any = None, department_key: Any = None
) -> ChosenScope:
    """The scope for the figures: a department subtree, an employer (as far as the user may see
    it), or everything the user may see. A key outside the choices is a 404."""
    allowed = choices.allowed
    tenant_id = user.tenant_id
    if department_key:
        department = next(
            (d for d in choices.departments if str(d.key) == str(department_key)), None
        )
        if department is None:
            raise Http404
        employer = department.employer
        if employer_key and str(employer.key) != str(employer_key):
            raise Http404
        labels = _children_labels(choices, department.path, employer.pk)
        labels[None] = _("Directly in %(department)s") % {"department": department.name}
        return ChosenScope(
            scope=Scope(tenant_id, department_paths=(department.path,)),
            grouping=Grouping("departments", path=department.path),
            label=f"{employer.name} – {department.name}",
            employer=employer,
            department=department,
            group_labels=labels,
        )
    if employer_key:
        chosen = next((e for e in choices.employers if str(e.key) == str(employer_key)), None)
        if chosen is None:
            raise Http404
        employer = chosen
        if employer.pk in allowed.employer_ids:
            labels = _children_labels(choices, "", employer.pk)
            labels[None] = _("No department")
            return ChosenScope(
                scope=Scope(tenant_id, employer_ids=(employer.pk,)),
                grouping=Grouping("departments", employer_id=employer.pk),
                label=employer.name,
                employer=employer,
                group_labels=labels,
            )
        # Only some departments of this employer are in the user's scope.
        paths = tuple(
            d.path
            for d in choices.departments
            if d.employer_id == employer.pk and d.path in allowed.department_paths
        )
        return _within(tenant_id, choices, employer_ids=(), paths=paths, label=employer.name,
                       employer=employer)  # fmt: skip
    return _within(
        tenant_id,
        choices,
        employer_ids=tuple(sorted(allowed.employer_ids)),
        paths=allowed.department_paths,
        label=_("Everything you may see"),
    )


def _within(
    tenant_id: int,
    choices: ScopeChoices,
    *,
    employer_ids: tuple[int, ...],
    paths: tuple[str, ...],
    label: str,
    employer: Employer | None = None,
) -> ChosenScope:
    """A scope of several employers or subtrees: compared per employer, or, when it is one
    subtree, per department below it."""
    scope = Scope(tenant_id, employer_ids=employer_ids, department_paths=paths)
    if not employer_ids and len(paths) == 1:
        department = next(d for d in choices.departments if d.path == paths[0])
        labels = _children_labels(choices, department.path, department.employer_id)
        labels[None] = _("Directly in %(department)s") % {"department": department.name}
        return ChosenScope(scope, Grouping("departments", path=department.path), label,
                           employer=employer, group_labels=labels)  # fmt: skip
    if len(employer_ids) == 1 and not paths:
        labels = _children_labels(choices, "", employer_ids[0])
        labels[None] = _("No department")
        return ChosenScope(scope, Grouping("departments", employer_id=employer_ids[0]), label,
                           employer=employer, group_labels=labels)  # fmt: skip
    labels = {e.pk: e.name for e in choices.employers}
    return ChosenScope(scope, Grouping("employer"), label, employer=employer, group_labels=labels)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def trend_months(last_day: date, count: int = 12) -> list[tuple[date, date]]:
    """The `count` calendar months up to the one holding `last_day` (that one up to it)."""
    first = add_months(last_day, -(count - 1))
    months = []
    for number in range(count):
        start = add_months(first, number)
        end = min(add_months(start, 1) - timedelta(days=1), last_day)
        months.append((start, end))
    return months


def headline_figures(user: User, today: date) -> tuple[Figures, Figures] | None:
    """The dashboard's figures over everything the user may see: this month so far and the last
    twelve months (one query after the scope's). None without the right to figures."""
    allowed = figures_scope(user)
    if allowed.empty:
        return None
    scope = Scope(
        user.tenant_id,
        employer_ids=tuple(sorted(allowed.employer_ids)),
        department_paths=allowed.department_paths,
    )
    periods = [(month_start(today), today), (last_twelve_months_from(today), today)]
    # The start page is opened far more often than the figures change: the sums are kept for a
    # few minutes per scope (aggregates only; the small-group rule is applied when shown).
    key = "reports:headline:" + hashlib.sha256(repr((scope, periods)).encode()).hexdigest()
    computed = cache.get(key)
    if computed is None:
        computed = compute(scope, periods, today=today)
        cache.set(key, computed, HEADLINE_CACHE_SECONDS)
    rows = {(f.period_from, f.period_to): f for f in computed}
    this_month, last_year = (
        rows.get(period) or Figures(period[0], period[1], group=None) for period in periods
    )
    return this_month, last_year


def last_twelve_months_from(today: date) -> date:
    """The first day of the twelve months ending today (a year ago tomorrow)."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return year_ago + timedelta(days=1)
