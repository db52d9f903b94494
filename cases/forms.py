"""Forms of absence cases: reporting sick and recovered, corrections, milestones, notes, documents
and the case filter."""

from __future__ import annotations

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import AbsenceCase, CaseType, DurationClass
from core.forms import DateInput
from domains.models import Department


class SickReportForm(forms.ModelForm):
    class Meta:
        model = AbsenceCase
        fields = [
            "case_type", "first_sick_day", "expected_duration", "work_accident",
            "third_party_liable", "safety_net", "contact_phone", "contact_address", "remarks",
        ]  # fmt: skip
        widgets = {
            "first_sick_day": DateInput(),
            "remarks": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "remarks": _("Practical remarks only. Never the nature or cause of the illness."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_sick_day"].initial = timezone.localdate()


class RecoveryForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DateInput())
    incapacity = forms.IntegerField(
        label=_("Remaining incapacity %"),
        min_value=0,
        max_value=99,
        initial=0,
        help_text=_("0 for full recovery (the case closes); 1–99 for partial recovery."),
    )


class CorrectionForm(forms.Form):
    first_sick_day = forms.DateField(label=_("First sick day"), widget=DateInput())
    recovered_on = forms.DateField(label=_("Recovered on"), required=False, widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for the correction"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ReusedChoiceIterator(ModelChoiceIterator):
    """Reads the choices once per form: the case page renders one form for every open step,
    and Django's own iterator would query the documents again for each."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # the queryset's result cache, filled on the first render
            yield self.choice(obj)


class MilestoneDoneForm(forms.Form):
    done_on = forms.DateField(label=_("Done on"), widget=DateInput())
    document = forms.ModelChoiceField(label=_("Document"), queryset=None, required=False)
    document.iterator = ReusedChoiceIterator
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = case.documents.all()
        self.fields["done_on"].initial = timezone.localdate()


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    file = forms.FileField(label=_("File (PDF, PNG or JPEG, at most 10 MB)"))


class CaseFilterForm(forms.Form):
    STATUS = [("open", _("Open")), ("closed", _("Closed")), ("all", _("All"))]
    status = forms.ChoiceField(label=_("Status"), choices=STATUS, required=False)
    overdue = forms.BooleanField(label=_("Only with overdue steps"), required=False)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.unscoped.none(), required=False
    )
    duration = forms.ChoiceField(
        label=_("Duration"), choices=[("", "—"), *DurationClass.choices], required=False
    )
    case_type = forms.ChoiceField(
        label=_("Kind"), choices=[("", "—"), *CaseType.choices], required=False
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(
            tenant=tenant
        ).select_related("employer")
        self.fields["department"].label_from_instance = lambda d: f"{d.employer.name} › {d.name}"
