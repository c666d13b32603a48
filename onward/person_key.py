"""The pseudonymous person key: HMAC-SHA256 of the UPN with a deployment secret (docs/contracts.md, Kafka keys)."""
from __future__ import annotations

import hashlib
import hmac


def person_key(secret: str, upn: str) -> str:
    """Same young person, same key, in every service; the key reveals nothing without the secret."""
    return hmac.new(secret.encode(), f"upn:{upn.upper()}".encode(), hashlib.sha256).hexdigest()
