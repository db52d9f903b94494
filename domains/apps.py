"""The organisation and access layer: environments, employers, domains, roles, visibility."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DomainsConfig(AppConfig):
    name = "domains"
    verbose_name = _("Environments, employers and domains")

    def ready(self) -> None:
        from audit.capture import track
        from core.actors import provide_actor_facts
        from domains import access, billing, models

        for model in (
            models.Tenant, models.Employer, models.Department, models.ServiceProvider,
            models.ServiceContract, models.Role, models.BigRegistration,
        ):  # fmt: skip
            track(model)
        track(models.RoleAssignment, m2m_fields=("employers", "departments"))
        provide_actor_facts(access.actor_facts)
        billing.connect()
