"""The upload and confirmation forms, and the form each imported row must pass: the employee
form itself (employees/forms.py EmployeeForm), with its lookups answered from maps read once
per batch instead of one query per row."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.forms.models import construct_instance
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.nl import bsn as bsn_module

from employees.forms import (
    DUTCH_POSTCODE,
    UNISSUED_LETTERS,
    EmployeeForm,
    birth_date_range,
    compact_bsn,
    normalise_postcode,
    phone_e164,
)
from employees.models import Employee, Gender

BSN_MAX_LENGTH = 11  # EmployeeForm.bsn's max_length
HOURS_DIGITS, HOURS_PLACES = 5, 2  # EmployeeForm's hours: max_digits, decimal_places


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or Excel)"),
        help_text=_("Start from the export or the template: its first two columns are the "
                    "unique key and the action (update or new)."),
    )  # fmt: skip

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:  # refused before a byte of it is parsed
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB.") % {"limit": limit // (1024 * 1024)}
            )
        return upload


class ConfirmForm(forms.Form):
    file_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)
    add_departments = forms.BooleanField(
        label=_("Add the missing departments listed above"), required=False,
        help_text=_("Without this, the rows placed in them are refused."),
    )  # fmt: skip
    skip_refused = forms.BooleanField(
        label=_("Import the valid rows and leave out the refused ones"), required=False
    )

    def __init__(self, *args: Any, missing_departments: bool, refused: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not missing_departments:
            del self.fields["add_departments"]
        if not (refused or missing_departments):
            del self.fields["skip_refused"]


class PrefetchedChoiceField(forms.Field):
    """A choice among objects read beforehand, by primary key (no query per row)."""

    default_error_messages = {"invalid_choice": _("Select a valid choice.")}

    def __init__(self, *, objects: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.objects = objects

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return self.objects[str(value)]
        except KeyError:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class SharedFields(dict[str, forms.Field]):
    """The fields of ImportRowForm, built once per import and shared by every row's form:
    Django deep-copies a form's fields for each instance, which cost most of a row's time.
    The fields hold no state of a row (no queryset, no choices set per form)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedFields:
        return self


class ImportRowForm(EmployeeForm):
    """One row of an import, under the rules of the employee form (postcode, phone, birth date,
    BSN eleven test, hours, personnel number per employer, department of the employer).

    Differences, each for speed and none a rule: employer and department come from maps read
    once; the personnel numbers taken come from a map read once per batch; the fields are built
    once (shared_fields); the unique and check constraints are not asked of the database row by
    row (the import checks duplicates as a set, and the check constraint in clean())."""

    @classmethod
    def shared_fields(
        cls, *, employers: dict[str, Any], departments: dict[str, Any], bsn_allowed: bool
    ) -> SharedFields:
        fields = SharedFields(copy.deepcopy(cls.base_fields))
        fields["employer"] = PrefetchedChoiceField(objects=employers)
        fields["department"] = PrefetchedChoiceField(objects=departments, required=False)
        for name in ("terms_from", "remove_bsn", "version"):
            fields.pop(name, None)
        if not bsn_allowed:
            fields.pop("bsn", None)
        return fields

    def __init__(
        self,
        data: dict[str, Any],
        *,
        instance: Employee,
        fields: SharedFields,
        bsn_allowed: bool,
        taken: dict[tuple[int, str], int],
    ) -> None:
        self.base_fields = fields  # type: ignore[misc]  # per instance: shared, not copied
        forms.ModelForm.__init__(self, data, instance=instance)  # not EmployeeForm's queries
        self.bsn_allowed = bsn_allowed
        self.taken = taken

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("employment_start"), data.get("employment_end")
        if start and end and end < start:  # the model's employment_ends_after_start
            self.add_error("employment_end", _("Employment cannot end before it starts."))
        return data

    def _number_taken(self, employer: Any, number: str) -> bool:
        holder = self.taken.get((employer.pk, number))
        return holder is not None and holder != self.instance.pk

    def _post_clean(self) -> None:
        """ModelForm._post_clean without the constraint checks (each a query per row): the
        personnel number is checked as a set per batch, the end date in clean(). Employer and
        department are checked against the maps above (the model would look each up again)."""
        exclusions = self._get_validation_exclusions()  # type: ignore[attr-defined]  # no stub
        exclude = {*exclusions, "employer", "department"}
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields)
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]  # not in the stubs
        try:
            self.instance.full_clean(
                exclude=exclude, validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]  # not in the stubs


class FastRowCheck:
    """The employee form's rules for one row without building a form: the import's fast path.

    A row that passes every rule here gets exactly the values ImportRowForm would clean it to
    (tests/test_imports.py compares both on a table of rows). Anything this check is not sure
    of returns None, and the row goes through ImportRowForm itself, which says what is wrong
    in the form's own words. So a valid row costs microseconds, and no rule lives only here."""

    CHAR_LIMITS: dict[str, int] = {
        name: Employee._meta.get_field(name).max_length or 0  # type: ignore[union-attr]
        for name in ("personnel_number", "initials", "first_name", "surname_prefix", "surname",
                     "postcode", "email", "phone")
    }  # fmt: skip
    REQUIRED = ("personnel_number", "surname")
    HOURS = {
        "contract_hours": (Decimal("0.5"), Decimal("80")),
        "full_time_hours": (Decimal("1"), Decimal("80")),
    }

    def __init__(self, *, today: date, bsn_allowed: bool) -> None:
        self.oldest, self.youngest = birth_date_range(today)
        self.bsn_allowed = bsn_allowed
        self.genders = {value for value, _label in Gender.choices}

    def clean(
        self,
        data: dict[str, Any],
        *,
        employer: Any,
        department: Any,
        instance_pk: int | None,
        taken: dict[tuple[int, str], int],
    ) -> dict[str, Any] | None:
        if employer is None:
            return None
        cleaned: dict[str, Any] = {}
        for name, limit in self.CHAR_LIMITS.items():
            value = data.get(name, "")
            if not isinstance(value, str) or "\x00" in value:
                return None
            value = value.strip()
            if len(value) > limit:
                return None
            cleaned[name] = value
        if not all(cleaned[name] for name in self.REQUIRED):
            return None
        if cleaned["postcode"]:
            postcode = normalise_postcode(cleaned["postcode"])
            if not DUTCH_POSTCODE.match(postcode) or postcode[4:] in UNISSUED_LETTERS:
                return None
            cleaned["postcode"] = postcode
        if cleaned["email"]:
            try:
                validate_email(cleaned["email"])
            except ValidationError:
                return None
        if cleaned["phone"]:
            phone = phone_e164(cleaned["phone"])
            if phone is None:
                return None
            cleaned["phone"] = phone
        gender = data.get("gender", "")
        if gender and gender not in self.genders:
            return None
        cleaned["gender"] = gender
        born, start, end = (
            data.get("birth_date"),
            data.get("employment_start"),
            data.get("employment_end"),
        )
        if not isinstance(born, date) or not self.oldest <= born <= self.youngest:
            return None
        if not isinstance(start, date) or start < born:
            return None
        if end == "":
            end = None
        elif not isinstance(end, date) or end < start:
            return None
        cleaned.update(birth_date=born, employment_start=start, employment_end=end)
        for name, (low, high) in self.HOURS.items():
            try:
                hours = Decimal(str(data.get(name, "")).strip())
            except InvalidOperation:
                return None
            if not hours.is_finite() or not low <= hours <= high or not _fits(hours):
                return None
            cleaned[name] = hours
        if cleaned["contract_hours"] > cleaned["full_time_hours"]:
            return None
        if department is not None and department.employer_id != employer.pk:
            return None
        holder = taken.get((employer.pk, cleaned["personnel_number"]))
        if holder is not None and holder != instance_pk:
            return None
        cleaned["employer"], cleaned["department"] = employer, department
        if self.bsn_allowed:
            raw = data.get("bsn", "")
            if not isinstance(raw, str) or len(raw.strip()) > BSN_MAX_LENGTH:
                return None
            bsn = compact_bsn(raw)
            if bsn:
                try:
                    bsn = str(bsn_module.validate(bsn))
                except StdnumError:
                    return None
            cleaned["bsn"] = bsn
        return cleaned


def _fits(value: Decimal) -> bool:
    """Django's DecimalValidator(max_digits=5, decimal_places=2) for a finite number, without
    raising (its exception per call cost more than the rest of the check)."""
    digit_tuple, exponent = value.as_tuple()[1:]
    assert isinstance(exponent, int)  # noqa: S101 - finite, checked by the caller
    if exponent >= 0:
        digits = len(digit_tuple) + (exponent if digit_tuple != (0,) else 0)
        decimals = 0
    else:
        digits = max(len(digit_tuple), -exponent)
        decimals = -exponent
    return (
        digits <= HOURS_DIGITS
        and decimals <= HOURS_PLACES
        and digits - decimals <= HOURS_DIGITS - HOURS_PLACES
    )
