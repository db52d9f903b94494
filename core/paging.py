"""Pages of a list with their total in one query.

Django's Paginator asks the database twice per page: `SELECT COUNT(*)` for the total, then the
page's rows, and both find every matching row again (for a case manager: a primary-key probe per
grant, twice). Here the total rides along with the page as `COUNT(*) OVER ()`: one round trip,
every matching row found once. The total needs every matching row anyway, and so does a page
sorted on anything but an index, so this costs no more than the count alone; PostgreSQL keeps
only the sort keys of the rows outside the page (a top-N sort) and computes expensive columns,
such as per-row subqueries, for the page's rows only. Only when the requested page is empty
(past the end, or an empty list) does it fall back to Django's way, which then answers the last
page exactly as Paginator.get_page does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window

TOTAL = "_page_total"

if TYPE_CHECKING:  # generic in django-stubs only
    _Paginator = Paginator[Any]
else:
    _Paginator = Paginator


class CountingPaginator(_Paginator):
    """A Paginator over a queryset that reads the page and the total in one query."""

    def get_page(self, number: Any) -> Page[Any]:
        """As Paginator.get_page: page 1 for a non-number, the last page past the end."""
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return super().page(self.num_pages)

    def page(self, number: Any) -> Page[Any]:
        if "count" in self.__dict__:  # the total is known already: Django's way is one query
            return super().page(number)
        number = self._whole_number(number)
        bottom = (number - 1) * self.per_page
        queryset = cast(QuerySet[Any], self.object_list)
        counted = queryset.annotate(**{TOTAL: Window(Count("*"))})
        rows = list(counted[bottom : bottom + self.per_page])
        if not rows:
            return super().page(number)  # counts, and raises EmptyPage past the end
        self.__dict__["count"] = getattr(rows[0], TOTAL)  # Paginator.count is a cached_property
        return Page(rows, number, self)

    @staticmethod
    def _whole_number(number: Any) -> int:
        """Paginator.validate_number's checks that need no count."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            whole = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger("That page number is not an integer") from error
        if whole < 1:
            raise EmptyPage("That page number is less than 1")
        return whole
