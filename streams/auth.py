"""Bearer-token authentication with the roles of DESIGN.md; tokens are stored hashed.

Tokens come from a JSON file (CHANNELFLOW_TOKENS_FILE) or the CHANNELFLOW_TOKENS variable:
a list of {"sha256": "<hex of the token>", "role": "...", "actor": "...",
"distributor_id": "..." (distributor role only)}. `channelflow token create` makes one.
With no tokens configured the API is open for reading only (the embedded demo).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.roles import Role


class AuthError(Exception):
    """401: no or unknown token."""


class Forbidden(Exception):
    """403: a known token whose role may not do this."""


@dataclass(frozen=True)
class Principal:
    actor: str
    role: Role
    distributor_id: str | None = None

    def may_read(self, distributor_id: str | None) -> bool:
        return self.role is not Role.DISTRIBUTOR or distributor_id == self.distributor_id


#: Who reads when no tokens are configured (demo): everything, and nothing else.
ANONYMOUS_READER = Principal("anonymous", Role.CHANNEL_MANAGER)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRegistry:
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self._by_hash: dict[str, Principal] = {}
        for number, entry in enumerate(entries, start=1):
            try:
                role = Role(entry["role"])
                principal = Principal(str(entry["actor"]), role, entry.get("distributor_id"))
                digest = str(entry["sha256"]).lower()
            except (KeyError, ValueError) as exc:
                raise ValueError(f"token entry {number}: {exc}") from None
            if (role is Role.DISTRIBUTOR) != (principal.distributor_id is not None):
                raise ValueError(f"token entry {number}: distributor_id goes with role distributor")
            self._by_hash[digest] = principal

    @property
    def open_mode(self) -> bool:
        return not self._by_hash

    def authenticate(self, authorization: str | None) -> Principal:
        if authorization is None:
            if self.open_mode:
                return ANONYMOUS_READER
            raise AuthError("missing bearer token (Authorization: Bearer <token>)")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("use Authorization: Bearer <token>")
        principal = self._by_hash.get(token_hash(token.strip()))
        if principal is None:
            raise AuthError("unknown token")
        return principal

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> TokenRegistry:
        env = os.environ if environ is None else environ
        entries: list[dict[str, Any]] = []
        path = env.get("CHANNELFLOW_TOKENS_FILE")
        if path:
            entries += load_entries(Path(path))
        inline = env.get("CHANNELFLOW_TOKENS")
        if inline:
            entries += json.loads(inline)
        return cls(entries)


def load_entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of token entries")
    return data


def create_token(path: Path, role: Role, actor: str, distributor_id: str | None) -> str:
    """Add a new token to the file (only its hash is stored) and return it."""
    token = secrets.token_urlsafe(32)
    entries = load_entries(path)
    entry: dict[str, Any] = {"sha256": token_hash(token), "role": role.value, "actor": actor}
    if distributor_id is not None:
        entry["distributor_id"] = distributor_id
    TokenRegistry([*entries, entry])  # validate before writing
    path.write_text(json.dumps([*entries, entry], indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return token
