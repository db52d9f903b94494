"""Employee searches kept on the server, so search terms never reach a URL.

A search is posted; its criteria are kept in the user's session under a short random id for
SEARCH_VALID_SECONDS, and the list is shown at `/employees/?q=<id>`. Names, birth dates and
postcodes therefore never land in the access log, the browser history or a Referer header.
Only the user who searched can use the id (the session is theirs, and the id records them).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.http import HttpRequest

SESSION_KEY = "employee_searches"
SEARCH_VALID_SECONDS = 30 * 60
MAX_KEPT = 20  # a session keeps the most recent searches only


def remember(request: HttpRequest, criteria: dict[str, Any]) -> str:
    """Keep the criteria and return the id that stands for them in the URL."""
    now = time.time()
    kept = {
        search_id: search
        for search_id, search in request.session.get(SESSION_KEY, {}).items()
        if search["until"] > now
    }
    search_id = secrets.token_urlsafe(9)  # 72 bits: not guessable, short in a URL
    kept[search_id] = {
        "user": request.user.pk,
        "until": now + SEARCH_VALID_SECONDS,
        "criteria": criteria,
    }
    newest = sorted(kept.items(), key=lambda item: item[1]["until"])[-MAX_KEPT:]
    request.session[SESSION_KEY] = dict(newest)
    return search_id


def recall(request: HttpRequest, search_id: str) -> dict[str, Any] | None:
    """The criteria behind an id, or None when it is unknown, expired or someone else's."""
    search = request.session.get(SESSION_KEY, {}).get(search_id)
    if not search or search["until"] <= time.time() or search["user"] != request.user.pk:
        return None
    return search["criteria"]
