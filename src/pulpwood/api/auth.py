"""HTTP Basic authentication against stored users.

Verifying an argon2 hash costs tens of milliseconds by design, so a successful check is
remembered for a short while, keyed by a fast digest of the credentials: lists stay fast
under load without weakening what is stored.
"""

from __future__ import annotations

import base64
import hashlib
import time

from starlette.requests import Request

from pulpwood.errors import PulpwoodError
from pulpwood.services.users import check_password, get_user

CACHE_SECONDS = 60.0
_verified: dict[str, tuple[float, int, bool]] = {}


class NotAuthenticated(PulpwoodError):
    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def _credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise NotAuthenticated("Invalid username/password.")
    try:
        username, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        raise NotAuthenticated("Invalid basic header. Credentials not correctly base64 encoded.") from None
    return username, password


async def authenticate(request: Request, session) -> tuple[int, bool]:
    """(user id, is_superuser) of the caller, or NotAuthenticated."""
    credentials = _credentials(request)
    if credentials is None:
        raise NotAuthenticated("Authentication credentials were not provided.")
    key = hashlib.sha256("\0".join(credentials).encode()).hexdigest()
    cached = _verified.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1], cached[2]
    user = await get_user(session, credentials[0])
    if user is None or not user.is_active or not check_password(user.password, credentials[1]):
        raise NotAuthenticated("Invalid username/password.")
    _verified[key] = (time.monotonic() + CACHE_SECONDS, user.id, user.is_superuser)
    return user.id, user.is_superuser


def forget_all() -> None:
    """Drop remembered credentials (after a password change)."""
    _verified.clear()
