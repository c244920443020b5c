"""Invitation tokens and links.

The token is ``secrets.token_urlsafe(32)``; only its SHA-256 (hex) is stored, the token
itself only travels in the email's link."""

from __future__ import annotations

import hashlib
import secrets

from portal import links


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token and the digest the database keeps."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def mask_email(email: str) -> str:
    """ana.souza@example.com → a•••••••a@example.com: enough to recognize, not to harvest."""
    local, _, domain = email.partition("@")
    if len(local) <= 2:
        masked = local[:1] + "•" * max(len(local) - 1, 1)
    else:
        masked = local[0] + "•" * (len(local) - 2) + local[-1]
    return f"{masked}@{domain}"


def invitation_link(token: str) -> str:
    """The absolute link in the email (the request's host, or PORTAL_BASE_URL outside one)."""
    return links.external("invitations.landing", token=token)
