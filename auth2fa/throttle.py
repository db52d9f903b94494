"""Counting failed attempts per account and per client address, in the shared cache.

Fixed windows: after LOGIN_FAILURES_PER_ACCOUNT failures for one e-mail address, or
LOGIN_FAILURES_PER_IP from one address, within LOGIN_FAILURE_WINDOW_SECONDS, further attempts
are refused until the window ends. Keys are hashes: no e-mail address or IP lands in the cache.
The same answer is given whether the account exists or not.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(f"{kind}|{value.strip().lower()}".encode()).hexdigest()
    return f"throttle:{kind}:{digest}"


def _count(key: str) -> int:
    return int(cache.get(key) or 0)


def _increment(key: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    if cache.add(key, 1, timeout=window):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)


def account_blocked(account: str) -> bool:
    return _count(_key("account", account)) >= settings.LOGIN_FAILURES_PER_ACCOUNT


def ip_blocked(ip: str) -> bool:
    return _count(_key("ip", ip)) >= settings.LOGIN_FAILURES_PER_IP


def is_blocked(*, account: str, ip: str) -> bool:
    return account_blocked(account) or ip_blocked(ip)


def record_account_failure(account: str) -> None:
    _increment(_key("account", account))


def record_ip_failure(ip: str) -> None:
    _increment(_key("ip", ip))


def record_failure(*, account: str, ip: str) -> None:
    record_account_failure(account)
    record_ip_failure(ip)


def clear_account(account: str) -> None:
    cache.delete(_key("account", account))


def window_minutes() -> int:
    return max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)
