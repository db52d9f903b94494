"""Forms of the employee screens: search, master data (hours, BSN where allowed), end of
employment, and assigning case managers."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import phonenumbers
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as ValidationError_
from stdnum.nl import bsn as bsn_module

from auth2fa.models import User
from core.encryption import blind_index
from core.forms import DateInput, field_of
from domains.forms import department_tree_choices
from domains.models import Department, Employer
from domains.visibility import NOTHING
from employees.models import BSN_INDEX, Employee, search_key

POSTCODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{0,2})\s*$")
DUTCH_POSTCODE = re.compile(r"^[1-9]\d{3}[A-Z]{2}$")  # SA, SD and SS are not issued
UNISSUED_LETTERS = {"SA", "SD", "SS"}
OLDEST_AGE = 100
YOUNGEST_AGE = 13  # the youngest who may work (light work from 13, Arbeidstijdenwet)


def normalise_postcode(value: str) -> str:
    """ "1234 ab" -> "1234AB" (how postcodes are stored)."""
    match = POSTCODE.match(value)
    if not match:
        return value.strip().upper().replace(" ", "")
    return f"{match.group(1)}{match.group(2).upper()}"


def phone_e164(value: str) -> str | None:
    """A phone number as it is stored (E.164, "+31612345678"), Dutch when it has no country
    code; None when it is no valid number. The employee form's rule (and the import's)."""
    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def birth_date_range(today: date) -> tuple[date, date]:
    """The birth dates the employee form accepts: between OLDEST_AGE and YOUNGEST_AGE years
    ago."""
    return today.replace(year=today.year - OLDEST_AGE), today.replace(
        year=today.year - YOUNGEST_AGE
    )


def compact_bsn(value: str) -> str:
    """Digits only, padded to nine ("1234567.82" -> "123456782"); empty stays empty (stdnum's
    compact would make "000000000" of it, which even passes the eleven test)."""
    value = value.strip()
    return bsn_module.compact(value) if value else ""


class EmployeeSearchForm(forms.Form):
    """Search and sort for the employee list; every field optional."""

    SORTS = {
        "surname": ("surname", "first_name"),
        "-surname": ("-surname", "-first_name"),
        "personnel_number": ("personnel_number",),
        "-personnel_number": ("-personnel_number",),
        "birth_date": ("birth_date",),
        "-birth_date": ("-birth_date",),
        "postcode": ("postcode",),
        "-postcode": ("-postcode",),
        "employer": ("employer__name", "surname"),
        "-employer": ("-employer__name", "surname"),
    }

    surname = forms.CharField(label=_("Surname"), required=False, max_length=150)
    personnel_number = forms.CharField(label=_("Personnel number"), required=False, max_length=30)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=7)
    bsn = forms.CharField(label=_("BSN"), required=False, max_length=11)
    former = forms.BooleanField(label=_("Also former employees"), required=False)
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in SORTS], widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, tenant: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        if not tenant.bsn_allowed:
            del self.fields["bsn"]  # a search key only where the environment allows a BSN

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"]
        return normalise_postcode(value) if value else ""

    def clean_bsn(self) -> str:
        return compact_bsn(self.cleaned_data.get("bsn") or "")

    def criteria(self) -> dict[str, Any]:
        """The valid search as it is kept between requests (JSON, in the session): the BSN only
        as its blind index, so the number itself is not stored anywhere."""
        data = self.cleaned_data
        bsn = data.get("bsn")
        return {
            "surname": (data.get("surname") or "").strip(),
            "personnel_number": (data.get("personnel_number") or "").strip(),
            "birth_date": data["birth_date"].isoformat() if data.get("birth_date") else "",
            "postcode": data.get("postcode") or "",
            "bsn_index": blind_index(bsn, tenant_id=self.tenant.pk, purpose=BSN_INDEX)
            if bsn
            else "",
            "former": bool(data.get("former")),
        }


SEARCH_TERMS = ("surname", "personnel_number", "birth_date", "postcode", "bsn_index")


def has_criteria(criteria: dict[str, Any]) -> bool:
    """Whether a search narrows the list (the "also former employees" option alone does not)."""
    return any(criteria.get(name) for name in SEARCH_TERMS)


def apply_search(employees: QuerySet[Employee], criteria: dict[str, Any]) -> QuerySet[Employee]:
    """Filter by a search kept with EmployeeSearchForm.criteria()."""
    if criteria.get("surname"):
        # The beginning of the surname, or of prefix and surname together (models.search_key).
        # A term of nothing searchable (only punctuation) finds nobody rather than everybody.
        key = search_key(criteria["surname"])
        employees = employees.filter(
            Q(surname_key__startswith=key) | Q(full_surname_key__startswith=key) if key else NOTHING
        )
    if criteria.get("personnel_number"):
        employees = employees.filter(personnel_number__istartswith=criteria["personnel_number"])
    if criteria.get("birth_date"):
        employees = employees.filter(birth_date=date.fromisoformat(criteria["birth_date"]))
    if criteria.get("postcode"):
        employees = employees.filter(postcode__startswith=criteria["postcode"])
    if criteria.get("bsn_index"):
        employees = employees.filter(bsn_index=criteria["bsn_index"])
    return employees


def sort_order(sort: str | None) -> tuple[str, ...]:
    """The ORDER BY of a sort key from the URL; an unknown key sorts by name."""
    return (*EmployeeSearchForm.SORTS.get(sort or "", EmployeeSearchForm.SORTS["surname"]), "pk")


class UserChoiceField(forms.ModelChoiceField):
    """Users by their name (not by __str__, which is pseudonymous on purpose)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class CaseManagerForm(forms.Form):
    case_manager = UserChoiceField(label=_("Case manager"), queryset=User.objects.none())

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "case_manager", UserChoiceField).queryset = candidates


class EmployeeForm(forms.ModelForm):
    """An employee's master data, as HR enters it. Employer and department offer only what the
    user may place an employee in; the service checks the outcome against the visibility rule.

    The part-time factor follows from contract hours and full-time hours, kept as dated terms:
    a change of hours takes effect from `terms_from`. The BSN field exists only where the
    environment allows a BSN (with a legal ground)."""

    contract_hours = forms.DecimalField(
        label=_("Contract hours per week"), min_value=Decimal("0.5"), max_value=Decimal("80"),
        max_digits=5, decimal_places=2,
    )  # fmt: skip
    full_time_hours = forms.DecimalField(
        label=_("Full-time hours per week"), min_value=Decimal("1"), max_value=Decimal("80"),
        max_digits=5, decimal_places=2,
        help_text=_("The employer's full-time working week; the part-time factor follows."),
    )  # fmt: skip
    terms_from = forms.DateField(
        label=_("New hours apply from"), required=False, widget=DateInput(),
        help_text=_("Only when the hours change; empty: from today."),
    )  # fmt: skip
    bsn = forms.CharField(
        label=_("BSN"), required=False, max_length=11,
        help_text=_("Only where the environment allows a BSN; leave empty to keep it as it is."),
    )  # fmt: skip
    remove_bsn = forms.BooleanField(label=_("Remove the BSN"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Declared here: Django would otherwise build these querysets at import, outside any scope.
    employer = forms.ModelChoiceField(label=_("Employer"), queryset=Employer.unscoped.none())
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.unscoped.none(), required=False
    )

    class Meta:
        model = Employee
        fields = [
            "personnel_number", "initials", "first_name", "surname_prefix", "surname",
            "birth_date", "gender", "postcode", "email", "phone", "employer", "department",
            "employment_start", "employment_end",
        ]  # fmt: skip
        widgets = {
            "birth_date": DateInput(),
            "employment_start": DateInput(),
            "employment_end": DateInput(),
        }

    def __init__(
        self,
        *args: Any,
        employers: QuerySet[Any],
        departments: QuerySet[Any],
        bsn_allowed: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.bsn_allowed = bsn_allowed
        field_of(self, "employer", forms.ModelChoiceField).queryset = employers
        department_field = field_of(self, "department", forms.ModelChoiceField)
        department_field.queryset = departments
        department_field.choices = [("", "---------"), *department_tree_choices(departments)]
        if not bsn_allowed:
            # No BSN where the environment has no legal ground for one (M24).
            del self.fields["bsn"], self.fields["remove_bsn"]
        elif not (self.instance.pk and self.instance.bsn_sealed):
            del self.fields["remove_bsn"]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["version"].required = True  # the optimistic lock needs what was shown
        else:
            del self.fields["terms_from"]

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"]
        if not value:
            return ""
        postcode = normalise_postcode(value)
        if not DUTCH_POSTCODE.match(postcode) or postcode[4:] in UNISSUED_LETTERS:
            raise forms.ValidationError(_("Enter a Dutch postcode: four digits and two letters."))
        return postcode

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        number = phone_e164(value)
        if number is None:
            raise forms.ValidationError(_("Enter a valid phone number."))
        return number

    def clean_birth_date(self) -> date:
        born: date = self.cleaned_data["birth_date"]
        oldest, youngest = birth_date_range(timezone.localdate())
        if not oldest <= born <= youngest:
            raise forms.ValidationError(
                _("Enter a birth date between %(oldest)s and %(youngest)s years ago.")
                % {"oldest": OLDEST_AGE, "youngest": YOUNGEST_AGE}
            )
        return born

    def clean_bsn(self) -> str:
        value = compact_bsn(self.cleaned_data.get("bsn") or "")
        if not value:
            return ""
        try:
            return str(bsn_module.validate(value))
        except ValidationError_:
            raise forms.ValidationError(
                _("This is not a valid BSN (it fails the eleven test).")
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        employer, department = data.get("employer"), data.get("department")
        number = data.get("personnel_number")
        if employer and number and self._number_taken(employer, number):
            # On the field (Django would put the constraint's message above the form).
            self.add_error(
                "personnel_number",
                _("This employer already has an employee with this personnel number."),
            )
        if employer and department and department.employer_id != employer.pk:
            self.add_error("department", _("This department belongs to another employer."))
        contract, full_time = data.get("contract_hours"), data.get("full_time_hours")
        if contract and full_time and contract > full_time:
            self.add_error("contract_hours", _("Contract hours cannot exceed the full-time hours."))
        start, born = data.get("employment_start"), data.get("birth_date")
        if start and born and start < born:
            self.add_error("employment_start", _("Employment cannot start before birth."))
        return data

    def _number_taken(self, employer: Employer, number: str) -> bool:
        others = Employee.unscoped.filter(employer=employer, personnel_number=number)
        return others.exclude(pk=self.instance.pk).exists()


class EndEmploymentForm(forms.Form):
    last_day = forms.DateField(label=_("Last day of employment"), widget=DateInput())
    version = forms.IntegerField(widget=forms.HiddenInput)
