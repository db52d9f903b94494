"""The auditor's form for requesting an export of the audit trail over a period."""

from django import forms

from audit.models import AuditExport
from core.forms import DateInput


class ExportRequestForm(forms.ModelForm):
    class Meta:
        model = AuditExport
        fields = ["reason", "period_start", "period_end", "employee_key", "user_key"]
        widgets = {
            "period_start": DateInput(),
            "period_end": DateInput(),
        }
