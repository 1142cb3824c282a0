"""Bearer-token authentication with the roles of docs/DESIGN.md ("Interfaces"); tokens are
stored hashed.

Tokens come from a JSON file (CHANNELFLOW_TOKENS_FILE) or the CHANNELFLOW_TOKENS variable:
a list of {"sha256": "<hex of the token>", "role": "...", "actor": "...",
"distributor_id": "..." (distributor role only)}. `channelflow token` creates, lists and
revokes them. A running server follows its token file: a token created or revoked counts
from the next request, without a restart. A file that cannot be used (not JSON, a wrong
shape) refuses every token until it is fixed (503): it fails closed. With no tokens
configured (no file, no variable) the API is open for reading only (the embedded demo); a
configured file, even empty or missing, closes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.permissions import is_scoped, may_read
from domain.roles import Role


class AuthError(Exception):
    """401: no or unknown token."""


class Forbidden(Exception):
    """403: a known token whose role may not do this."""


class TokensUnavailable(Exception):
    """503: the token file cannot be used, so no token is accepted until it is fixed."""


@dataclass(frozen=True)
class Principal:
    actor: str
    role: Role
    distributor_id: str | None = None

    def may_read(self, distributor_id: str | None) -> bool:
        """Whether this caller may read `distributor_id`'s rows (None: the whole channel's)."""
        return may_read(self.role, self.distributor_id, distributor_id)


#: Who reads when no tokens are configured (demo): everything, and nothing else.
ANONYMOUS_READER = Principal("anonymous", Role.CHANNEL_MANAGER)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


log = logging.getLogger("channelflow.auth")


def _principals(entries: list[dict[str, Any]]) -> dict[str, Principal]:
    """Token hash -> who; every entry checked, a bad one named by its number."""
    by_hash: dict[str, Principal] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"token entry {number}: not a JSON object")
        try:
            role = Role(entry["role"])
            principal = Principal(str(entry["actor"]), role, entry.get("distributor_id"))
            digest = str(entry["sha256"]).lower()
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"token entry {number}: {exc}") from None
        if is_scoped(role) != (principal.distributor_id is not None):
            raise ValueError(f"token entry {number}: distributor_id goes with role distributor")
        by_hash[digest] = principal
    return by_hash


class TokenRegistry:
    def __init__(self, entries: list[dict[str, Any]], path: Path | None = None) -> None:
        """`entries` (inline tokens) and, if given, the token file at `path`, read now and
        again whenever it changes."""
        self._inline = entries
        self._path = path
        self._by_hash = _principals(entries)
        self._problem: str | None = None
        self._stamp = None if path is None else _stamp(path)
        if path is not None:
            self._load(path)

    @property
    def open_mode(self) -> bool:
        return not self._by_hash and self._path is None

    def _follow_file(self) -> None:
        """Read the token file again if it changed."""
        if self._path is None:
            return
        stamp = _stamp(self._path)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        self._load(self._path)

    def _load(self, path: Path) -> None:
        """Take the file's tokens. A version that cannot be used (half edited by hand, a
        wrong shape) refuses every token until the file changes again: the tokens it held
        before may be the ones being revoked."""
        try:
            self._by_hash = _principals(self._inline) | _principals(load_entries(path))
        except (OSError, ValueError) as exc:
            self._by_hash = {}
            self._problem = (
                f"the server's token file ({path.name}) cannot be used: {exc}; every token "
                "is refused until it is fixed"
            )
            log.error("token file %s cannot be used, every token refused: %s", path, exc)
            return
        if self._problem is not None:
            log.warning("token file %s can be used again", path)
        self._problem = None

    def authenticate(self, authorization: str | None) -> Principal:
        self._follow_file()
        if self._problem is not None:
            raise TokensUnavailable(self._problem)
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
        path = env.get("CHANNELFLOW_TOKENS_FILE")
        inline = env.get("CHANNELFLOW_TOKENS")
        return cls(json.loads(inline) if inline else [], Path(path) if path else None)


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    """What tells one version of the file from the next (None: there is none): the inode
    too, as a rewrite replaces the file and two within one clock tick share an mtime; and
    its mode, which a chmod changes alone (`load_entries` refuses a file others may write)."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size, found.st_mode


def load_entries(path: Path) -> list[dict[str, Any]]:
    """The file's token entries ([] when there is no file). A file group or others may
    write is refused (ValueError): whoever can write it can give themselves an admin token."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o022:
            raise ValueError(
                f"writable by group or others (mode {mode:04o}): anyone who can write it can "
                f"give themselves a token; make it writable by its owner only (chmod 600 {path})"
            )
        text = handle.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of token entries")
    return data


def _write_entries(path: Path, entries: list[dict[str, Any]]) -> None:
    """Replace the file at once (a server reading it never sees half of it); owner only."""
    _principals(entries)  # validate before writing
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(json.dumps(entries, indent=2) + "\n")
    os.chmod(name, 0o600)
    os.replace(name, path)


def revoke_tokens(path: Path, actor: str) -> int:
    """Remove every token of `actor` from the file; returns how many there were."""
    entries = load_entries(path)
    kept = [entry for entry in entries if entry.get("actor") != actor]
    if len(kept) < len(entries):
        _write_entries(path, kept)
    return len(entries) - len(kept)


def create_token(path: Path, role: Role, actor: str, distributor_id: str | None) -> str:
    """Add a new token to the file (only its hash is stored) and return it."""
    token = secrets.token_urlsafe(32)
    entry: dict[str, Any] = {"sha256": token_hash(token), "role": role.value, "actor": actor}
    if distributor_id is not None:
        entry["distributor_id"] = distributor_id
    _write_entries(path, [*load_entries(path), entry])
    return token
