"""The back office's secret key, its cookies and the sign-in form's CSRF token (no session exists yet then)."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from config.settings import Settings

SESSION_COOKIE = "aap_session"
PRE_COOKIE = "aap_connexion"  # ties the sign-in form to the browser that asked for it


def secret_key(settings: Settings) -> bytes:
    """AAP_WEB_SECRET, else a random key created once in ``web_secret_file`` (owner-only), never in the code."""
    if settings.web_secret:
        return settings.web_secret.encode()
    path = Path(settings.web_secret_file)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def sign_in_token(key: bytes, browser_nonce: str) -> str:
    """The hidden field of the sign-in form: an HMAC of the nonce held in this browser's cookie."""
    return hmac.new(key, f"connexion:{browser_nonce}".encode(), hashlib.sha256).hexdigest()


def sign_in_token_ok(key: bytes, browser_nonce: str | None, token: str | None) -> bool:
    if not browser_nonce or not token:
        return False
    return hmac.compare_digest(sign_in_token(key, browser_nonce), token)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
