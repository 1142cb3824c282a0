"""Token registry: hashed storage, roles, open mode."""

from __future__ import annotations

import json

import pytest

from domain.roles import Role
from streams.auth import ANONYMOUS_READER, AuthError, TokenRegistry, create_token, token_hash


def test_created_tokens_are_stored_hashed_and_authenticate(tmp_path):
    path = tmp_path / "tokens.json"
    admin = create_token(path, Role.ADMIN, "alice", None)
    distributor = create_token(path, Role.DISTRIBUTOR, "d01-it", "D01")
    stored = path.read_text()
    assert admin not in stored and distributor not in stored
    assert token_hash(admin) in stored
    registry = TokenRegistry.from_env({"CHANNELFLOW_TOKENS_FILE": str(path)})
    assert registry.authenticate(f"Bearer {admin}").role is Role.ADMIN
    principal = registry.authenticate(f"bearer {distributor}")
    assert (principal.role, principal.distributor_id) == (Role.DISTRIBUTOR, "D01")
    assert principal.may_read("D01") and not principal.may_read("D02")
    assert not principal.may_read(None)


def test_bad_headers_and_unknown_tokens_are_401():
    registry = TokenRegistry([{"sha256": token_hash("t"), "role": "auditor", "actor": "a"}])
    for header in (None, "t", "Basic t", "Bearer ", "Bearer other"):
        with pytest.raises(AuthError):
            registry.authenticate(header)


def test_open_mode_reads_anonymously_only_without_tokens():
    assert TokenRegistry([]).authenticate(None) is ANONYMOUS_READER


@pytest.mark.parametrize(
    "entry",
    [
        {"sha256": "x", "role": "king", "actor": "a"},
        {"sha256": "x", "role": "distributor", "actor": "a"},
        {"sha256": "x", "role": "admin", "actor": "a", "distributor_id": "D1"},
        {"role": "admin", "actor": "a"},
    ],
)
def test_invalid_entries_are_refused_with_their_number(entry):
    with pytest.raises(ValueError, match="token entry 1"):
        TokenRegistry([entry])


def test_inline_tokens_from_the_environment():
    entries = [{"sha256": token_hash("s3cret"), "role": "channel_manager", "actor": "cm"}]
    registry = TokenRegistry.from_env({"CHANNELFLOW_TOKENS": json.dumps(entries)})
    assert registry.authenticate("Bearer s3cret").actor == "cm"
