"""The ASGI entry point for ASGI servers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verzuim.settings")
application = get_asgi_application()
