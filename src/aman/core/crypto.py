"""Encryption at rest and keyed hashes for the most sensitive personal data.

Document numbers, national identification numbers, phone numbers, messenger handles and
intake payloads are stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256) and found by
exact match through a keyed hash (HMAC-SHA256) of their normalised value, never by the
plain value. Keys come from the environment:

- `AMAN_FIELD_KEYS`: comma-separated Fernet keys, newest first. Data is encrypted with the
  first and decrypted with any, so a key is rotated by putting a new one in front
  (`aman rotatekeys` re-encrypts; until then old rows still read).
- `AMAN_HASH_KEY`: the secret of the keyed hashes. Changing it means recomputing every hash.

In the embedded demo both are derived from SECRET_KEY, so the demo needs no set-up; the
deploy check `aman.E002` refuses that in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _derived(purpose: str) -> bytes:
    return hashlib.sha256(f"aman:{purpose}:{settings.SECRET_KEY}".encode()).digest()


@cache
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.AMAN_FIELD_KEYS if k.strip()]
    if not keys:
        keys = [base64.urlsafe_b64encode(_derived("field-key")).decode()]
    return MultiFernet([Fernet(k) for k in keys])


@cache
def _hash_key() -> bytes:
    return settings.AMAN_HASH_KEY.encode() if settings.AMAN_HASH_KEY else _derived("hash-key")


def uses_derived_keys() -> bool:
    return not settings.AMAN_FIELD_KEYS or not settings.AMAN_HASH_KEY


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("A stored value cannot be decrypted with the configured keys.") from exc


def keyed_hash(kind: str, normalized: str) -> str:
    """HMAC of a normalised value, namespaced by kind so equal strings of different kinds
    (a phone and a document number) do not share a hash."""
    if not normalized:
        return ""
    return hmac.new(_hash_key(), f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text value stored encrypted. Not searchable: search its keyed hash instead."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


class EncryptedJSONField(models.TextField):
    """A JSON value stored encrypted (intake payloads exactly as received)."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return json.loads(decrypt(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
