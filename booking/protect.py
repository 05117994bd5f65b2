"""Protection of personal data at rest (China PIPL): ID and phone numbers are stored
encrypted and found by a keyed hash. The key comes from settings, never from the database."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class Protector:
    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 16:
            raise ValueError("the secret key must be at least 16 characters")
        secret = secret_key.encode()
        self._hash_key = _derive(secret, b"guahao lookup hash v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"guahao encryption v1")))
        self._sealer = Fernet(base64.urlsafe_b64encode(_derive(secret, b"guahao sealed v1")))

    def lookup_hash(self, kind: str, value: str) -> str:
        """Equal values give equal hashes, so a number can be found without being stored."""
        message = kind.encode() + b"\x00" + value.encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def account(self, channel: str, user_id: str) -> tuple[str, str]:
        """How a chat account is known to the booking domain: an SMS user id is a phone
        number, and the accounts table must not hold one in clear."""
        return channel, self.lookup_hash("account", f"{channel}\x00{user_id}")

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def seal(self, value: str, now: datetime) -> str:
        """An opaque, URL-safe token holding `value`, readable by `unseal` for a while (a
        search carried from page to page without its ID or phone number in the address)."""
        return self._sealer.encrypt_at_time(value.encode(), int(now.timestamp())).decode()

    def unseal(self, token: str, now: datetime, ttl: timedelta) -> str | None:
        """The value sealed, or None when the token is forged, damaged or older than `ttl`."""
        try:
            value = self._sealer.decrypt_at_time(
                token.encode(), int(ttl.total_seconds()), int(now.timestamp())
            )
        except (InvalidToken, ValueError):
            return None
        return value.decode()
