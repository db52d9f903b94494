"""A software security key for view tests: answers WebAuthn ceremonies the way a browser and a
real key do (attestation "none", ES256), so the server's checks run on genuine signatures.

The browser tests use Chromium's virtual authenticator instead; this one lets unit tests bend the
answer (origin, counter, AppID) to see each check refuse it.
"""

from __future__ import annotations

import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
)

ORIGIN = "http://localhost:8000"


class SoftKey:
    def __init__(self, rp_id: str = "localhost") -> None:
        self.rp_id = rp_id
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0

    @property
    def public_key_raw(self) -> bytes:
        """The uncompressed point, as U2F registration data carries it."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )

    def _client_data(self, kind: str, options: dict, origin: str) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": options["publicKey"]["challenge"],
                "origin": origin,
                "crossOrigin": False,
            }
        ).encode()

    def register(self, options: dict, origin: str = ORIGIN) -> str:
        """The JSON the browser posts back after navigator.credentials.create()."""
        client_data = self._client_data("webauthn.create", options, origin)
        credential = AttestedCredentialData.create(
            b"\0" * 16,
            self.credential_id,
            ES256.from_cryptography_key(self.private_key.public_key()),
        )
        auth_data = AuthenticatorData.create(
            hashlib.sha256(self.rp_id.encode()).digest(),
            AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT,
            self.counter,
            credential,
        )
        attestation = AttestationObject.create("none", auth_data, {})
        return self._credential_json(
            {
                "clientDataJSON": websafe_encode(client_data),
                "attestationObject": websafe_encode(bytes(attestation)),
            },
            {},
        )

    def _credential_json(self, response: dict, extension_results: dict) -> str:
        """As PublicKeyCredential.toJSON() gives it."""
        return json.dumps(
            {
                "id": websafe_encode(self.credential_id),
                "rawId": websafe_encode(self.credential_id),
                "type": "public-key",
                "response": response,
                "clientExtensionResults": extension_results,
            }
        )

    def sign(
        self,
        options: dict,
        origin: str = ORIGIN,
        *,
        counter_step: int = 1,
        use_appid: bool = False,
    ) -> str:
        """The JSON the browser posts back after navigator.credentials.get()."""
        requested = options["publicKey"].get("allowCredentials", [])
        allowed = [websafe_decode(credential["id"]) for credential in requested]
        assert self.credential_id in allowed, "the server did not ask for this key"
        self.counter += counter_step
        rp_id = options["publicKey"]["extensions"]["appid"] if use_appid else self.rp_id
        auth_data = AuthenticatorData.create(
            hashlib.sha256(rp_id.encode()).digest(),
            AuthenticatorData.FLAG.UP,
            max(self.counter, 0),
        )
        client_data = self._client_data("webauthn.get", options, origin)
        signature = self.private_key.sign(
            bytes(auth_data) + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return self._credential_json(
            {
                "clientDataJSON": websafe_encode(client_data),
                "authenticatorData": websafe_encode(bytes(auth_data)),
                "signature": websafe_encode(signature),
            },
            {"appid": True} if use_appid else {},
        )
