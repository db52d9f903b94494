from django.db import migrations

REPORT_VIEW = "report.view"
# The reference roles that gained the right to the absence figures (domains/permissions.py).
ROLES = ("leidinggevende", "schadebehandelaar")


def give_reference_roles_figures(apps, schema_editor):
    """Existing tenants' manager and claims-handler reference roles get the figures, as new
    tenants' do (ensure_reference_roles creates roles only once, so it never updates them).
    Roles the tenant defined itself are left to its functional admins."""
    Role = apps.get_model("domains", "Role")
    for role in Role._base_manager.filter(reference_key__in=ROLES).exclude(
        permissions__contains=[REPORT_VIEW]
    ):
        role.permissions = sorted({*role.permissions, REPORT_VIEW})
        role.save(update_fields=["permissions"])


def take_it_back(apps, schema_editor):
    Role = apps.get_model("domains", "Role")
    for role in Role._base_manager.filter(
        reference_key__in=ROLES, permissions__contains=[REPORT_VIEW]
    ):
        role.permissions = [perm for perm in role.permissions if perm != REPORT_VIEW]
        role.save(update_fields=["permissions"])


class Migration(migrations.Migration):

    dependencies = [
        ("domains", "0013_role_permission_choices"),
    ]

    operations = [
        migrations.RunPython(give_reference_roles_figures, take_it_back),
    ]
