"""Token registry: hashed storage, roles, open mode, a token file followed while serving."""

from __future__ import annotations

import json

import pytest

from domain.roles import Role
from streams.auth import (
    ANONYMOUS_READER,
    AuthError,
    TokenRegistry,
    TokensUnavailable,
    create_token,
    revoke_tokens,
    token_hash,
)


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


def test_a_registry_follows_its_file_without_a_restart(tmp_path, caplog):
    path = tmp_path / "tokens.json"
    alice = create_token(path, Role.ADMIN, "alice", None)
    registry = TokenRegistry.from_env({"CHANNELFLOW_TOKENS_FILE": str(path)})
    assert registry.authenticate(f"Bearer {alice}").actor == "alice"
    bob = create_token(path, Role.AUDITOR, "bob", None)  # created while serving
    assert registry.authenticate(f"Bearer {bob}").actor == "bob"
    assert revoke_tokens(path, "alice") == 1  # revoked while serving
    with pytest.raises(AuthError, match="unknown token"):
        registry.authenticate(f"Bearer {alice}")
    assert (path.stat().st_mode & 0o777) == 0o600
    path.unlink()  # no file: no file tokens, and still closed
    with pytest.raises(AuthError):
        registry.authenticate(f"Bearer {bob}")
    with pytest.raises(AuthError, match="missing bearer token"):
        registry.authenticate(None)


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ('[{"sha256": ', "not JSON"),  # half edited by hand
        ('{"sha256": "x"}', "expected a JSON list"),
        ('[{"sha256": "x", "role": "king", "actor": "a"}]', "token entry 1"),
        ('["x"]', "token entry 1: not a JSON object"),
    ],
)
def test_a_token_file_that_cannot_be_used_refuses_every_token(tmp_path, caplog, broken, problem):
    path = tmp_path / "tokens.json"
    alice = create_token(path, Role.ADMIN, "alice", None)
    inline = [{"sha256": token_hash("inline"), "role": "auditor", "actor": "ci"}]
    registry = TokenRegistry(inline, path)
    assert registry.authenticate(f"Bearer {alice}").actor == "alice"
    good = path.read_text()
    path.write_text(broken)
    for header in (f"Bearer {alice}", "Bearer inline", None):
        with pytest.raises(TokensUnavailable, match=f"token file \\(tokens.json\\).*{problem}"):
            registry.authenticate(header)
    assert "cannot be used, every token refused" in caplog.text
    path.write_text(good)  # fixed: the file's tokens count again
    assert registry.authenticate(f"Bearer {alice}").actor == "alice"
    assert registry.authenticate("Bearer inline").actor == "ci"


def test_a_server_started_with_a_broken_token_file_refuses_every_token(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text("[")
    registry = TokenRegistry.from_env({"CHANNELFLOW_TOKENS_FILE": str(path)})
    with pytest.raises(TokensUnavailable, match="not JSON"):
        registry.authenticate(None)
    path.write_text("[]")
    with pytest.raises(AuthError, match="missing bearer token"):
        registry.authenticate(None)


def test_a_configured_token_file_closes_the_api_even_when_empty(tmp_path):
    registry = TokenRegistry.from_env({"CHANNELFLOW_TOKENS_FILE": str(tmp_path / "none.json")})
    assert not registry.open_mode
    with pytest.raises(AuthError):
        registry.authenticate(None)


def test_revoking_removes_every_token_of_the_actor_only(tmp_path):
    path = tmp_path / "tokens.json"
    for _ in range(2):
        create_token(path, Role.DISTRIBUTOR, "d01-it", "D01")
    kept = create_token(path, Role.CHANNEL_MANAGER, "cm", None)
    assert revoke_tokens(path, "d01-it") == 2
    assert revoke_tokens(path, "d01-it") == 0
    registry = TokenRegistry.from_env({"CHANNELFLOW_TOKENS_FILE": str(path)})
    assert registry.authenticate(f"Bearer {kept}").actor == "cm"
    assert [entry["actor"] for entry in json.loads(path.read_text())] == ["cm"]


def test_a_token_file_others_may_write_refuses_every_token_until_made_private(tmp_path, caplog):
    """Whoever may write the file may add an admin token to it: a server refuses such a file
    (503, naming the fix) as soon as a chmod opens it, and takes it again once closed."""
    path = tmp_path / "tokens.json"
    alice = create_token(path, Role.ADMIN, "alice", None)
    registry = TokenRegistry.from_env({"CHANNELFLOW_TOKENS_FILE": str(path)})
    path.chmod(0o644)  # readable by others: it holds hashes only
    assert registry.authenticate(f"Bearer {alice}").actor == "alice"
    for mode in (0o666, 0o620):
        path.chmod(mode)
        with pytest.raises(TokensUnavailable, match=r"writable by group or others.*chmod 600"):
            registry.authenticate(f"Bearer {alice}")
    assert "cannot be used, every token refused" in caplog.text
    path.chmod(0o600)
    assert registry.authenticate(f"Bearer {alice}").actor == "alice"
    path.chmod(0o666)
    with pytest.raises(ValueError, match="writable by group or others"):
        create_token(path, Role.ADMIN, "mallory", None)
