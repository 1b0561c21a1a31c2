"""Webhook authentication of both WhatsApp channels, with the providers' documented values."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from channels.twilio_whatsapp import signature_valid as twilio_valid
from channels.twilio_whatsapp import signed_url
from channels.whatsapp_cloud import signature_valid as meta_valid
from channels.whatsapp_cloud import verification_challenge

# Twilio's documented example (docs "Webhooks security" and twilio-python's own tests):
# auth token 12345, this URL and these POST parameters.
TWILIO_TOKEN = "12345"
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_DOCS_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
TWILIO_DOCS_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
TWILIO_LIBRARY_PARAMS = {**TWILIO_DOCS_PARAMS, "Caller": "+14158675309", "From": "+14158675309"}
TWILIO_LIBRARY_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilio_documented_examples_validate() -> None:
    assert twilio_valid(TWILIO_TOKEN, TWILIO_URL, TWILIO_DOCS_PARAMS, TWILIO_DOCS_SIGNATURE)
    assert twilio_valid(TWILIO_TOKEN, TWILIO_URL, TWILIO_LIBRARY_PARAMS, TWILIO_LIBRARY_SIGNATURE)


def test_the_signed_url_is_the_public_address_with_the_request_path_and_query() -> None:
    assert signed_url("https://mycompany.com", "/myapp.php", "foo=1&bar=2") == TWILIO_URL
    assert signed_url("https://mycompany.com/", "/myapp.php", "foo=1&bar=2") == TWILIO_URL
    assert signed_url("https://clinic.example/bot", "/webhooks/twilio/webhook") == (
        "https://clinic.example/bot/webhooks/twilio/webhook"
    )


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        ("54321", TWILIO_URL, TWILIO_DOCS_PARAMS, TWILIO_DOCS_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL.replace("foo=1", "foo=2"), TWILIO_DOCS_PARAMS, TWILIO_DOCS_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL, {**TWILIO_DOCS_PARAMS, "Digits": "1235"}, TWILIO_DOCS_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL, {**TWILIO_DOCS_PARAMS, "Body": "extra"}, TWILIO_DOCS_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL, TWILIO_DOCS_PARAMS, TWILIO_LIBRARY_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL, TWILIO_DOCS_PARAMS, ""),
        (TWILIO_TOKEN, TWILIO_URL, TWILIO_DOCS_PARAMS, None),
    ],
    ids=["other-token", "other-url", "altered-param", "added-param", "other-signature", "empty", "missing"],
)
def test_twilio_anything_else_fails(token: str, url: str, params: dict, signature: str | None) -> None:
    assert not twilio_valid(token, url, params, signature)


# HMAC-SHA256 test vector of RFC 4231 (test case 2), in Meta's header format.
RFC4231_KEY = "Jefe"
RFC4231_DATA = b"what do ya want for nothing?"
RFC4231_HMAC = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_meta_signature_is_sha256_hmac_of_the_raw_body_in_hex() -> None:
    assert meta_valid(RFC4231_KEY, RFC4231_DATA, f"sha256={RFC4231_HMAC}")
    assert meta_valid(RFC4231_KEY, RFC4231_DATA, f"sha256={RFC4231_HMAC.upper()}")


def test_meta_signature_covers_the_bytes_as_sent_not_a_re_encoding() -> None:
    # Meta escapes non-ASCII characters (\u00e9) in the payload it signs.
    raw = json.dumps({"text": {"body": "caf\u00e9 \u2013 boleh?"}}).encode()
    header = "sha256=" + hmac.new(b"app-secret", raw, hashlib.sha256).hexdigest()
    assert meta_valid("app-secret", raw, header)
    re_encoded = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert not meta_valid("app-secret", re_encoded, header)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        RFC4231_HMAC,
        f"sha1={RFC4231_HMAC}",
        f"sha256={RFC4231_HMAC[:-1]}0",
        f"sha256={RFC4231_HMAC[:32]}",
        "sha256=\u00e9" * 4,
    ],
    ids=["missing", "empty", "no-digest", "no-prefix", "sha1", "one-digit-off", "truncated", "non-ascii"],
)
def test_meta_anything_else_fails(header: str | None) -> None:
    assert not meta_valid(RFC4231_KEY, RFC4231_DATA, header)
    assert not meta_valid("other-secret", RFC4231_DATA, f"sha256={RFC4231_HMAC}")
    assert not meta_valid(RFC4231_KEY, RFC4231_DATA + b" ", f"sha256={RFC4231_HMAC}")


def test_meta_subscription_check() -> None:
    good = {"hub.mode": "subscribe", "hub.verify_token": "s3cret", "hub.challenge": "1158201444"}
    assert verification_challenge("s3cret", good) == "1158201444"
    for bad in (
        {**good, "hub.verify_token": "s3cres"},
        {**good, "hub.verify_token": ""},
        {**good, "hub.mode": "unsubscribe"},
        {**good, "hub.challenge": ""},
        {"hub.challenge": "1"},
        {},
    ):
        assert verification_challenge("s3cret", bad) is None
