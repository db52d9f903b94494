"""Security keys (FIDO2/WebAuthn and FIDO U2F) with python-fido2's Fido2Server.

The relying party id and the accepted origins come from settings (WEBAUTHN_RP_ID,
WEBAUTHN_ORIGINS), never from the request's Host header. Options go to the page as JSON
(PublicKeyCredential.parse*OptionsFromJSON in static/js/webauthn.js); the challenge state waits in
the session until the browser's answer comes back with the form.

Signature counter: a key that reports a counter not higher than the one stored (when either is
not zero) may have been cloned. The login is refused, the key is marked with a clone warning and
refused from then on, and the event is audited; the user signs in with another factor.

Old U2F keys: a credential registered through the U2F API is scoped to an AppID URL. The page then
asks the browser for the `appid` extension, and when the browser says it used it, the answer is
checked by a second Fido2Server whose RP id is that AppID (its hash is what the key signed).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestedCredentialData,
    AuthenticationResponse,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from auth2fa.models import SecurityKey, User


class WebAuthnError(Exception):
    """The browser's answer was not accepted; `clone` when the signature counter went back."""

    def __init__(self, message: str, *, clone: bool = False) -> None:
        super().__init__(message)
        self.clone = clone


def _origin_allowed(origin: str) -> bool:
    return origin in settings.WEBAUTHN_ORIGINS


def _server(rp_id: str | None = None) -> Fido2Server:
    return Fido2Server(
        PublicKeyCredentialRpEntity(
            id=rp_id or settings.WEBAUTHN_RP_ID, name=settings.WEBAUTHN_RP_NAME
        ),
        verify_origin=_origin_allowed,
    )


def _keys(user: User) -> list[SecurityKey]:
    return list(SecurityKey.objects.filter(user=user, confirmed=True).order_by("pk"))


def _descriptor(key: SecurityKey) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(
        type=PublicKeyCredentialType.PUBLIC_KEY, id=websafe_decode(key.credential_id)
    )


def begin_registration(user: User) -> tuple[dict, dict]:
    """Options for navigator.credentials.create() and the state to keep in the session. The
    user's keys are excluded, so the same key is not registered twice."""
    options, state = _server().register_begin(
        PublicKeyCredentialUserEntity(
            id=user.key.bytes, name=user.email, display_name=user.display_name
        ),
        credentials=[_descriptor(key) for key in _keys(user)],
        resident_key_requirement=ResidentKeyRequirement.DISCOURAGED,
        user_verification=UserVerificationRequirement.DISCOURAGED,
    )
    return dict(options), dict(state)


def complete_registration(*, user: User, state: dict, response: dict, name: str) -> SecurityKey:
    try:
        auth_data = _server().register_complete(state, response)
    except Exception as error:  # noqa: BLE001 - fido2 raises ValueError, KeyError, TypeError...
        raise WebAuthnError(str(error)) from error
    credential = auth_data.credential_data
    credential_id = websafe_encode(credential.credential_id)
    if SecurityKey.objects.filter(credential_id=credential_id).exists():
        raise WebAuthnError("This key is registered already.")
    return SecurityKey.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=credential_id,
        credential_data=bytes(credential),
        sign_count=auth_data.counter,
    )


def import_u2f_key(
    *, user: User, key_handle: bytes, public_key: bytes, appid: str, name: str, counter: int = 0
) -> SecurityKey:
    """Take over a key registered with the old U2F API (its key handle and raw public key, as a
    previous system kept them); it signs in through the `appid` extension."""
    credential = AttestedCredentialData.from_ctap1(key_handle, public_key)
    return SecurityKey.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=websafe_encode(credential.credential_id),
        credential_data=bytes(credential),
        sign_count=counter,
        u2f_appid=appid,
    )


def begin_authentication(user: User) -> tuple[dict, dict] | None:
    """Options for navigator.credentials.get() over the user's usable keys (None when none)."""
    keys = [key for key in _keys(user) if not key.clone_warning]
    if not keys:
        return None
    appids = {key.u2f_appid for key in keys if key.u2f_appid}
    options, state = _server().authenticate_begin(
        [_descriptor(key) for key in keys],
        user_verification=UserVerificationRequirement.DISCOURAGED,
        # The browser accepts one AppID; a tenant's old keys all came from the one old system.
        extensions={"appid": sorted(appids)[0]} if appids else None,
    )
    return dict(options), dict(state)


def complete_authentication(*, user: User, state: dict, response: dict) -> SecurityKey:
    """The user's key that produced this answer, after checking signature, challenge, origin,
    RP id (or AppID) and signature counter. Raises WebAuthnError."""
    try:
        answer = AuthenticationResponse.from_dict(response)
    except Exception as error:  # noqa: BLE001 - malformed JSON from the browser
        raise WebAuthnError("The browser's answer could not be read.") from error
    with transaction.atomic():  # one counter update at a time per key
        key = (
            SecurityKey.objects.select_for_update()
            .filter(user=user, confirmed=True, credential_id=websafe_encode(answer.raw_id))
            .first()
        )
        if key is None:
            raise WebAuthnError("This key is not registered for this account.")
        if key.clone_warning:
            raise WebAuthnError("This key is refused: it may have been copied.", clone=True)
        used_appid = bool((answer.client_extension_results or {}).get("appid")) and key.u2f_appid
        server = _server(key.u2f_appid) if used_appid else _server()
        try:
            server.authenticate_complete(
                state, [AttestedCredentialData(bytes(key.credential_data))], answer
            )
        except Exception as error:  # noqa: BLE001
            raise WebAuthnError(str(error)) from error
        counter = answer.response.authenticator_data.counter
        cloned = bool(counter or key.sign_count) and counter <= key.sign_count
        if cloned:  # kept: the warning must outlive this refused login
            key.clone_warning = True
            key.save(update_fields=["clone_warning"])
        else:
            key.sign_count = counter
            key.last_used_at = timezone.now()
            key.save(update_fields=["sign_count", "last_used_at"])
    if cloned:
        raise WebAuthnError("The key's signature counter went back.", clone=True)
    return key
