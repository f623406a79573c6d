"""Users and passwords (argon2 hashes)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.models import User

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def random_password() -> str:
    return secrets.token_urlsafe(18)


async def get_user(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def create_user(session: AsyncSession, username: str, password: str, *, superuser: bool = False) -> User:
    user = User(username=username, password=hash_password(password), is_superuser=superuser, is_staff=superuser)
    session.add(user)
    await session.flush()
    return user


async def set_password(session: AsyncSession, username: str, password: str) -> User | None:
    user = await get_user(session, username)
    if user is not None:
        user.password = hash_password(password)
    return user


async def ensure_admin(session: AsyncSession, password: str | None) -> str | None:
    """Create the `admin` superuser on first start; returns a generated password to print once."""
    if await get_user(session, "admin") is not None:
        return None
    generated = None
    if not password:
        password = generated = random_password()
    await create_user(session, "admin", password, superuser=True)
    return generated
