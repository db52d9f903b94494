"""The auditor's form for requesting an export of the audit trail over a period."""

from django import forms

from audit.models import AuditExport


class ExportRequestForm(forms.ModelForm):
    class Meta:
        model = AuditExport
        fields = ["reason", "period_start", "period_end", "employee_key", "user_key"]
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }
