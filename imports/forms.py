"""The upload and confirmation forms, and the form each imported row must pass: the employee
form itself (employees/forms.py EmployeeForm), with its lookups answered from maps read once
per batch instead of one query per row."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.utils.translation import gettext_lazy as _

from employees.forms import EmployeeForm
from employees.models import Employee


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
    skip_refused = forms.BooleanField(
        label=_("Import the valid rows and leave out the refused ones"), required=False
    )


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
