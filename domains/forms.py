"""Forms of the functional admins: roles, users, assignments, BIG numbers, employers,
departments, providers, contracts and the environment's settings."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from auth2fa.models import User
from core.forms import DateInput, field_of
from domains.models import (
    Department,
    Employer,
    Role,
    ServiceContract,
    ServiceProvider,
    Tenant,
    normalise_kvk_number,
    normalise_payroll_tax_number,
)
from domains.permissions import PERMISSION_GROUPS, REFERENCE_ROLES, Perm
from domains.selectors import open_departments


class RoleForm(forms.ModelForm):
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"),
        choices=Perm.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Role
        fields = ["name", "domain", "permissions", "only_assigned"]

    def permission_groups(self):
        """The checkboxes grouped as on the matrix: [(heading, [bound checkbox, …]), …]."""
        by_value = {choice.data["value"]: choice for choice in self["permissions"]}
        return [
            (heading, [by_value[perm] for perm in perms]) for heading, perms in PERMISSION_GROUPS
        ]


class CompareForm(forms.Form):
    reference = forms.ChoiceField(label=_("Reference role"), choices=())

    def __init__(self, *args, domain: str, **kwargs):
        super().__init__(*args, **kwargs)
        references = [r for r in REFERENCE_ROLES if r.domain == domain]
        self.reference_keys = [r.key for r in references]
        field_of(self, "reference", forms.ChoiceField).choices = [
            (r.key, r.name) for r in references
        ]


class AssignmentForm(forms.Form):
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.unscoped.none())
    provider = forms.ModelChoiceField(
        label=_("Works for (arbodienst or insurer)"),
        queryset=ServiceProvider.unscoped.none(),
        required=False,
    )
    employers = forms.ModelMultipleChoiceField(
        label=_("Employers"),
        queryset=Employer.unscoped.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments (including their subdepartments)"),
        queryset=Department.unscoped.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        # Archived roles are assigned to nobody new; closed departments are not offered.
        field_of(self, "role", forms.ModelChoiceField).queryset = Role.objects.filter(
            tenant=tenant, archived_at__isnull=True
        )
        field_of(
            self, "provider", forms.ModelChoiceField
        ).queryset = ServiceProvider.objects.filter(tenant=tenant)
        field_of(
            self, "employers", forms.ModelMultipleChoiceField
        ).queryset = Employer.objects.filter(tenant=tenant)
        departments = open_departments(tenant)
        department_field = field_of(self, "departments", forms.ModelMultipleChoiceField)
        department_field.queryset = departments
        department_field.choices = department_tree_choices(departments)


def department_tree_choices(departments) -> list[tuple[int, str]]:
    """Departments in tree order (each subtree under its parent), labelled with their depth."""
    departments = list(departments)
    names = {department.pk: department.name for department in departments}

    def tree_position(department):
        ancestry = [names.get(int(pk), "") for pk in department.path.strip("/").split("/")]
        return (department.employer.name, ancestry)

    return [
        (department.pk, f"{department.employer.name} › {'— ' * department.depth}{department.name}")
        for department in sorted(departments, key=tree_position)
    ]


class NewUserForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "account_type"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(_("An account with this e-mail address already exists."))
        return email


class AccountValidityForm(forms.Form):
    """When an account ends: a last day, and/or the person's own employee record (by its unique
    key, so the admin needs no access to employee data)."""

    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DateInput())
    employee_key = forms.UUIDField(
        label=_("Unique key of the user's own employee record"),
        required=False,
        help_text=_("The account ends when this employee's employment ends."),
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_employee_key(self):
        key = self.cleaned_data["employee_key"]
        if key is None:
            return None
        # The employee model, through the account's link to it (employees sit above this layer).
        employee_model = User._meta.get_field("employee").related_model
        employee = employee_model._default_manager.filter(tenant=self.tenant, key=key).first()
        if employee is None:
            raise forms.ValidationError(_("No employee with this unique key in this environment."))
        return employee


class BigNumberForm(forms.Form):
    big_number = forms.CharField(label=_("BIG number"), max_length=11, min_length=11)


class ProviderForm(forms.ModelForm):
    class Meta:
        model = ServiceProvider
        fields = ["name", "kind"]


class ContractForm(forms.ModelForm):
    # Declared here: Django would otherwise build these querysets at import, outside any scope.
    provider = forms.ModelChoiceField(
        label=_("Service provider"), queryset=ServiceProvider.unscoped.none()
    )
    employer = forms.ModelChoiceField(label=_("Employer"), queryset=Employer.unscoped.none())

    class Meta:
        model = ServiceContract
        fields = ["provider", "employer", "starts_on", "ends_on"]
        widgets = {
            "starts_on": DateInput(),
            "ends_on": DateInput(),
        }

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.tenant = tenant
        field_of(
            self, "provider", forms.ModelChoiceField
        ).queryset = ServiceProvider.objects.filter(tenant=tenant)
        field_of(self, "employer", forms.ModelChoiceField).queryset = Employer.objects.filter(
            tenant=tenant
        )


class TenantSettingsForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = [
            "unplaced_role_deadline",
            "medical_step_up_minutes",
            "extra_medical_terms",
            "allowed_ip_ranges",
            "password_min_length",
            "password_max_age_days",
            "password_history",
            "lockout_attempts",
            "lockout_minutes",
            "sms_price_cents",
            "bsn_allowed",
            "bsn_legal_ground",
        ]
        widgets = {
            "unplaced_role_deadline": DateInput(),
            "bsn_legal_ground": forms.Textarea(attrs={"rows": 3}),
        }


class ContractEndForm(forms.Form):
    ends_on = forms.DateField(label=_("Last day of the contract"), widget=DateInput())


class EmployerForm(forms.ModelForm):
    # Wider than the columns: spaces and dots are allowed on input and removed before the check.
    registration_number = forms.CharField(
        label=_("Chamber of Commerce (KvK) number"), max_length=20, required=False
    )
    payroll_tax_number = forms.CharField(
        label=_("Payroll tax number"),
        max_length=20,
        required=False,
        help_text=_("Loonheffingennummer, e.g. 123456789L01."),
    )

    class Meta:
        model = Employer
        fields = [
            "name",
            "registration_number",
            "payroll_tax_number",
            "own_risk_zw",
            "own_risk_wga",
            "full_time_hours",
        ]

    def clean_registration_number(self) -> str:
        return normalise_kvk_number(self.cleaned_data["registration_number"])

    def clean_payroll_tax_number(self) -> str:
        return normalise_payroll_tax_number(self.cleaned_data["payroll_tax_number"])


def _tree_field(departments, *, empty_label) -> forms.ModelChoiceField:
    field = forms.ModelChoiceField(queryset=departments, required=False)
    field.choices = [("", empty_label), *department_tree_choices(departments)]
    return field


class DepartmentForm(forms.Form):
    """A new department of one employer, at the top or under one of its open departments."""

    name = forms.CharField(label=_("Name"), max_length=200)

    def __init__(self, *args, employer: Employer, **kwargs):
        super().__init__(*args, **kwargs)
        parents = open_departments(employer.tenant_id).filter(employer=employer)
        self.fields["parent"] = _tree_field(parents, empty_label=_("— at the top —"))
        self.fields["parent"].label = _("Under department")


class DepartmentRenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)


class DepartmentMoveForm(forms.Form):
    """Where a department may go: the top, or an open department of the same employer outside
    its own subtree (the service refuses the subtree too)."""

    def __init__(self, *args, department: Department, **kwargs):
        super().__init__(*args, **kwargs)
        parents = (
            open_departments(department.tenant_id)
            .filter(employer_id=department.employer_id)
            .exclude(path__startswith=department.path)
        )
        self.fields["parent"] = _tree_field(parents, empty_label=_("— to the top —"))
        self.fields["parent"].label = _("Move under")
