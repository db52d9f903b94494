"""Field encryption for personal and medical data, one mechanism for every sealed field.

- AES-256-GCM (authenticated encryption) with a per-tenant data key.
- Data keys are stored only wrapped by a master key from the environment (VERZUIM_MASTER_KEYS);
  `manage.py rotate_master_key` re-wraps them under the newest master key without touching data.
- Each ciphertext is bound by associated data to tenant, table, row and field, so a value copied
  to another row, field or tenant fails to decrypt instead of showing the wrong person's data.
- Ciphertext layout: b"V1" | data-key version (4 bytes, big endian) | nonce (12) | ciphertext+tag.

Unwrapped data keys are kept in this process's memory only (never in the shared cache).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from core.models import TenantDataKey

MAGIC = b"V1"
MASTER_KEY_BYTES = 32  # AES-256
HEADER = struct.Struct(">2sI12s")
_data_keys: dict[tuple[int, int], bytes] = {}


class DecryptionError(Exception):
    """A ciphertext did not verify: wrong key, wrong row/field binding, or tampering."""


def master_keys() -> dict[int, bytes]:
    """The configured master keys by id. Development falls back to a key derived from SECRET_KEY."""
    raw = settings.VERZUIM_MASTER_KEYS
    if not raw:
        if settings.PRODUCTION:
            raise ImproperlyConfigured("VERZUIM_MASTER_KEYS is required in production.")
        derived = hashlib.sha256(b"verzuim-dev-master-key|" + settings.SECRET_KEY.encode()).digest()
        return {1: derived}
    keys: dict[int, bytes] = {}
    for item in raw.split(","):
        key_id, _, encoded = item.strip().partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
            keys[int(key_id)] = key
        except ValueError:
            raise ImproperlyConfigured("VERZUIM_MASTER_KEYS must be 'ID:BASE64,…'.") from None
        if len(key) != MASTER_KEY_BYTES:
            raise ImproperlyConfigured(
                f"Master key {key_id} must be 32 bytes (base64 of 32 bytes)."
            )
    return keys


def current_master_key_id() -> int:
    return max(master_keys())


def generate_master_key() -> str:
    """A new master key in the format VERZUIM_MASTER_KEYS takes (without the id)."""
    return base64.b64encode(os.urandom(32)).decode()


def _wrap_aad(tenant_id: int, version: int) -> bytes:
    return f"tenant-data-key|{tenant_id}|{version}".encode()


def wrap_data_key(data_key: bytes, *, tenant_id: int, version: int, master_key_id: int) -> bytes:
    nonce = os.urandom(12)
    aead = AESGCM(master_keys()[master_key_id])
    return nonce + aead.encrypt(nonce, data_key, _wrap_aad(tenant_id, version))


def unwrap_data_key(wrapped: bytes, *, tenant_id: int, version: int, master_key_id: int) -> bytes:
    keys = master_keys()
    if master_key_id not in keys:
        raise ImproperlyConfigured(
            f"Master key {master_key_id} is not configured; it is still in use."
        )
    try:
        return AESGCM(keys[master_key_id]).decrypt(
            wrapped[:12], wrapped[12:], _wrap_aad(tenant_id, version)
        )
    except InvalidTag:
        raise DecryptionError("A tenant data key did not unwrap.") from None


def _data_key(tenant_id: int, version: int) -> bytes:
    cached = _data_keys.get((tenant_id, version))
    if cached is not None:
        return cached
    row = TenantDataKey.objects.get(tenant_id=tenant_id, version=version)
    key = unwrap_data_key(
        bytes(row.wrapped_key),
        tenant_id=tenant_id,
        version=version,
        master_key_id=row.master_key_id,
    )
    _data_keys[(tenant_id, version)] = key
    return key


# Per context (a bulk write, and the worker thread it copies its context to): a tenant's newest
# data key read once by `pinned_data_key`, instead of once per value sealed.
_pinned_keys: ContextVar[dict[int, tuple[int, bytes]] | None] = ContextVar(
    "pinned_data_keys", default=None
)


@contextmanager
def pinned_data_key(tenant_id: int) -> Iterator[None]:
    """Within: values of this tenant are sealed with its newest data key as read on entry,
    without a query per value (and so also where no query may run: a worker thread that
    formats a bulk write). A key rotated meanwhile is used from the next write on; the pinned
    key stays readable, as every older version does."""
    pinned = dict(_pinned_keys.get() or {})
    pinned[tenant_id] = _current_data_key(tenant_id)
    # Every version, so values sealed under older keys open without a query too (the blind
    # index uses the first); unwrapped keys stay in this process's memory, as on first use.
    for version in TenantDataKey.objects.filter(tenant_id=tenant_id).values_list(
        "version", flat=True
    ):
        _data_key(tenant_id, version)
    token = _pinned_keys.set(pinned)
    try:
        yield
    finally:
        _pinned_keys.reset(token)


def _current_data_key(tenant_id: int) -> tuple[int, bytes]:
    """The tenant's newest data key, created on first use."""
    pinned = (_pinned_keys.get() or {}).get(tenant_id)
    if pinned is not None:
        return pinned
    version = (
        TenantDataKey.objects.filter(tenant_id=tenant_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    if version is None:
        version = 1
        master_key_id = current_master_key_id()
        try:
            with transaction.atomic():
                TenantDataKey.objects.create(
                    tenant_id=tenant_id,
                    version=version,
                    master_key_id=master_key_id,
                    wrapped_key=wrap_data_key(
                        os.urandom(32),
                        tenant_id=tenant_id,
                        version=version,
                        master_key_id=master_key_id,
                    ),
                )
        except IntegrityError:
            pass  # another process created it first; use theirs
    return version, _data_key(tenant_id, version)


def associated_data(*, tenant_id: int, table: str, row_key: Any, field: str) -> bytes:
    return f"{tenant_id}|{table}|{row_key}|{field}".encode()


def encrypt(plaintext: bytes, *, tenant_id: int, aad: bytes) -> bytes:
    version, key = _current_data_key(tenant_id)
    nonce = os.urandom(12)
    return HEADER.pack(MAGIC, version, nonce) + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(blob: bytes, *, tenant_id: int, aad: bytes) -> bytes:
    magic, version, nonce = HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise DecryptionError("Unknown ciphertext format.")
    try:
        return AESGCM(_data_key(tenant_id, version)).decrypt(nonce, blob[HEADER.size :], aad)
    except InvalidTag:
        raise DecryptionError("A sealed value did not verify.") from None


def key_version_of(blob: bytes) -> int:
    version: int = HEADER.unpack_from(blob)[1]
    return version


def blind_index(value: str, *, tenant_id: int, purpose: str) -> str:
    """A keyed hash for finding a sealed value by equality (the BSN as a search key) without
    storing it readable: HMAC-SHA256 under a key derived from the tenant's first data key, so
    the same value gives the same index in one tenant and an unrelated one in another."""
    _current_data_key(tenant_id)  # creates version 1 on first use
    index_key = hmac.new(_data_key(tenant_id, 1), b"blind-index:" + purpose.encode(), "sha256")
    return hmac.new(index_key.digest(), value.encode(), "sha256").hexdigest()


def rotate_master_key() -> int:
    """Re-wrap every tenant data key under the newest master key; returns how many changed.

    Each row is re-wrapped in its own short transaction, so readers never wait long and a key
    is at every moment readable under the master key its row names (old keys stay configured
    until this has run).
    """
    target = current_master_key_id()
    changed = 0
    for pk in TenantDataKey.objects.values_list("pk", flat=True):
        with transaction.atomic():
            row = TenantDataKey.objects.select_for_update().get(pk=pk)
            key = unwrap_data_key(
                bytes(row.wrapped_key),
                tenant_id=row.tenant_id,
                version=row.version,
                master_key_id=row.master_key_id,
            )
            row.wrapped_key = wrap_data_key(
                key, tenant_id=row.tenant_id, version=row.version, master_key_id=target
            )
            row.master_key_id = target
            row.rewrapped_at = timezone.now()
            row.save(update_fields=["wrapped_key", "master_key_id", "rewrapped_at"])
            changed += 1
    return changed


class TenantOwnedRow(Protocol):
    """What a sealed field needs of its model instance: the tenant, the row's key, its table."""

    tenant_id: int
    key: uuid.UUID

    @property
    def _meta(self) -> Any: ...


class SealedBytes(property):
    """A plaintext attribute backed by an encrypted BinaryField column of a tenant-owned model.

        content_sealed = models.BinaryField(null=True, editable=False)
        content = SealedBytes("content_sealed")

    A property subclass, so Django's model constructor accepts it as a keyword argument (after the
    tenant and key are set). The row binding uses the model's public `key` UUID, known before save.
    """

    def __init__(self, column: str) -> None:
        self.column = column
        super().__init__(self._get, self._set)

    def __set_name__(self, owner: type[models.Model], name: str) -> None:
        self.field_name = name

    def tenant_of(self, instance: Any) -> int:
        """The tenant whose data key seals the value; a subclass may find it elsewhere (an
        authenticator app belongs to its user's tenant)."""
        return cast(int, instance.tenant_id)

    def _aad(self, instance: TenantOwnedRow) -> bytes:
        return associated_data(
            tenant_id=self.tenant_of(instance),
            table=instance._meta.label_lower,
            row_key=instance.key,
            field=self.field_name,
        )

    def decode(self, plaintext: bytes) -> Any:
        return plaintext

    def encode(self, value: Any) -> bytes:
        return cast(bytes, value)

    def _get(self, instance: TenantOwnedRow) -> Any:
        blob = getattr(instance, self.column)
        if blob is None:
            return None
        return self.decode(
            decrypt(bytes(blob), tenant_id=self.tenant_of(instance), aad=self._aad(instance))
        )

    def _set(self, instance: TenantOwnedRow, value: Any) -> None:
        if value is None or value in ("", b""):
            setattr(instance, self.column, None)
            return
        sealed = encrypt(
            self.encode(value), tenant_id=self.tenant_of(instance), aad=self._aad(instance)
        )
        setattr(instance, self.column, sealed)


class SealedText(SealedBytes):
    """SealedBytes for text (UTF-8): the BSN, medical notes, file names of medical documents."""

    def decode(self, plaintext: bytes) -> str:
        return plaintext.decode()

    def encode(self, value: str) -> bytes:
        return value.encode()
