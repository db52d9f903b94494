"""A security key registered through the old U2F API signs in through the `appid` extension, in
real Chromium. The extension exists only for https origins, so this test serves the application
over TLS on localhost with a certificate made for the occasion, which Chromium is told to trust by
its public-key hash (--ignore-certificate-errors-spki-list; no certificate errors remain, so
WebAuthn stays enabled). The key itself lives in a U2F virtual authenticator, added over CDP
with the AppID as its scope, as a key registered years ago would be."""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import re
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django.db import connections

from auth2fa.models import SecurityKey
from auth2fa.webauthn import import_u2f_key
from tests.browser.conftest import ARGS, CHROMIUM, screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def self_signed_certificate(directory) -> tuple[str, str, str]:
    """A certificate for localhost; returns the cert and key paths and the SPKI hash Chromium
    is told to accept."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return str(cert_path), str(key_path), base64.b64encode(hashlib.sha256(spki).digest()).decode()


class HttpsRequestHandler(WSGIRequestHandler):
    def get_environ(self):
        environ = super().get_environ()
        environ["HTTPS"] = "on"  # the connection is TLS: Django sees https (CSRF, origins)
        return environ

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def https_server(live_server, tmp_path):
    """The application over TLS on localhost (live_server makes the test transactional, so the
    server's threads see the test's rows)."""
    cert, key, spki = self_signed_certificate(tmp_path)
    server = ThreadedWSGIServer(("localhost", 0), HttpsRequestHandler, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://localhost:{server.server_port}", spki
    server.shutdown()
    server.server_close()


def test_an_old_u2f_key_signs_in_with_the_appid_extension(world, https_server, settings):
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    origin, spki = https_server
    appid = f"{origin}/u2f/app-id.json"
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [origin]
    settings.WEBAUTHN_U2F_APPID = appid

    # The key as the old system knew it: a key handle and a P-256 public key, scoped to the AppID.
    private_key = ec.generate_private_key(ec.SECP256R1())
    key_handle = os.urandom(64)
    import_u2f_key(
        user=world.hr, key_handle=key_handle, name="Oude U2F-sleutel", appid=appid,
        public_key=private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        ),
    )  # fmt: skip

    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True,
                args=[*ARGS, f"--ignore-certificate-errors-spki-list={spki}"],
            )  # fmt: skip
            page = browser.new_context(locale="nl-NL", base_url=origin).new_page()
            cdp = page.context.new_cdp_session(page)
            cdp.send("WebAuthn.enable", {"enableUI": False})
            authenticator = cdp.send(
                "WebAuthn.addVirtualAuthenticator",
                {"options": {"protocol": "u2f", "transport": "usb", "hasResidentKey": False,
                             "hasUserVerification": False, "automaticPresenceSimulation": True}},
            )["authenticatorId"]  # fmt: skip
            cdp.send(
                "WebAuthn.addCredential",
                {
                    "authenticatorId": authenticator,
                    "credential": {
                        "credentialId": base64.b64encode(key_handle).decode(),
                        "isResidentCredential": False,
                        "rpId": appid,
                        "privateKey": base64.b64encode(
                            private_key.private_bytes(
                                serialization.Encoding.DER,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption(),
                            )
                        ).decode(),
                        "signCount": 7,
                    },
                },
            )
            page.goto("/login/")
            page.get_by_label("E-mailadres").fill("hr@a.test")
            page.get_by_label("Wachtwoord").fill(PASSWORD)
            page.get_by_role("button", name="Volgende").click()
            page.wait_for_url(re.compile(r"/2fa/verify/"))
            page.get_by_role("button", name="Mijn beveiligingssleutel gebruiken").click()
            page.wait_for_url(re.compile(r"://[^/]+/$"))
            assert page.get_by_role("heading", name="Welkom, Test").is_visible()
            screenshot(page, "u2f-appid-dashboard")
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        connections.close_all()
    key = SecurityKey.objects.get(user=world.hr)
    assert key.sign_count == 8 and key.last_used_at is not None
