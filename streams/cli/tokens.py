"""`channelflow token`: create, list or revoke API bearer tokens (only hashes are stored)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from domain.permissions import is_scoped
from domain.roles import Role
from streams.cli.support import Subcommands, UserError, identifier


def register(sub: Subcommands) -> None:
    token = sub.add_parser(
        "token",
        help="create, list or revoke API bearer tokens (only hashes are stored)",
        description="create (the default): a new token, printed once; list: who has tokens; "
        "revoke: remove every token of --actor. Running servers follow the file: a change "
        "counts from their next request.",
    )
    token.add_argument("action", nargs="?", default="create", choices=["create", "list", "revoke"])
    token.add_argument("--role", choices=[r.value for r in Role], help="create: its role")
    token.add_argument(
        "--actor", help="create: who uses it (recorded on every step); revoke: whose"
    )
    token.add_argument(
        "--distributor", type=identifier, help="create: the distributor id (role distributor only)"
    )
    token.add_argument(
        "--file",
        default=os.environ.get("CHANNELFLOW_TOKENS_FILE") or "channelflow-tokens.json",
        help="token file (default: CHANNELFLOW_TOKENS_FILE, else channelflow-tokens.json)",
    )
    token.set_defaults(func=cmd_token)


def cmd_token(args: argparse.Namespace) -> int:
    try:
        return _token_command(args, Path(args.file))
    except ValueError as exc:
        raise UserError(f"token file {args.file}: {exc}") from None


def _token_command(args: argparse.Namespace, path: Path) -> int:
    from domain.roles import Role
    from streams.auth import create_token, load_entries, revoke_tokens

    if args.action == "list":
        if not path.exists():  # a mistyped path is not a file without tokens
            raise UserError(f"no token file {path} (`channelflow token` creates it)")
        entries = load_entries(path)
        print(f"{'actor':<24} {'role':<16} {'distributor':<14} sha256")
        for entry in entries:
            distributor = entry.get("distributor_id") or "-"
            digest = entry["sha256"][:12]
            print(f"{entry['actor']:<24} {entry['role']:<16} {distributor:<14} {digest}…")
        print(f"{len(entries)} tokens in {path}", file=sys.stderr)
        return 0
    if not args.actor:
        raise UserError(f"token {args.action} needs --actor")
    if args.action == "revoke":
        removed = revoke_tokens(path, args.actor)
        if not removed:
            raise UserError(f"{args.actor!r} has no token in {path}")
        print(f"revoked {removed} token(s) of {args.actor} in {path}", file=sys.stderr)
        return 0
    if args.role is None:
        raise UserError("token create needs --role")
    if is_scoped(Role(args.role)) != (args.distributor is not None):
        raise UserError("--distributor is required for, and only for, role distributor")
    token = create_token(path, Role(args.role), args.actor, args.distributor)
    print(token)
    print(f"stored its hash in {path}; the token is shown only once", file=sys.stderr)
    return 0
