"""Operator commands of the identity service (moderators are never self-registered).

    python -m services.identity.admin create-moderator --email E --password P \\
        --first-name F --last-name L [--patronymic P]
    python -m services.identity.admin verify-email --email E

verify-email confirms an account's address by hand (a person who cannot receive the link; the demo
accounts): the operator vouches for it as the link would.

The database is IDENTITY_DATABASE_URL, else DATABASE_URL, else the local default (the master key of the
persons' keys IDENTITY_PERSON_KEYS_MASTER_KEY, as the service's); it is
created and migrated if needed. Without --password the password is read from the
terminal (asked twice) or, when stdin is not a terminal, from its first line, which
keeps it out of the shell history and the process list.

Exit status: 0 created (verified); 1 the e-mail is already registered (verify-email: has no account);
2 invalid input; 3 the database is unreachable.
"""

import argparse
import getpass
import os
import sys

import psycopg2

from contracts.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from contracts.rpc_identity import RegisterSchema
from contracts.validation import load
from services.common import migrations
from services.common.db import PostgresStore
from services.identity import repository, sealing, sessions
from services.identity.accounts import EMAIL_TAKEN, new_user, normalize_email, user_view
from services.identity.passwords import PasswordHashing

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/mentor_identity"


def database_url(environ=None):
    environ = os.environ if environ is None else environ
    return environ.get("IDENTITY_DATABASE_URL") or environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def master_key(environ=None):
    """The service's PERSON_KEYS_MASTER_KEY, as its config.yaml reads it (the development default without)."""
    environ = os.environ if environ is None else environ
    return environ.get("IDENTITY_PERSON_KEYS_MASTER_KEY") or sealing.DEVELOPMENT_MASTER_KEY


def open_store(url):
    """The identity database, brought to the head of its history first (a no-op, taking no lock, when the
    migrate step or the running service already did)."""
    migrations.apply(url, migrations.history_directory("identity"))
    return PostgresStore(url, 1)


def create_moderator(store, form, hashing=None, vault=None):
    """Validate ``form`` (the registration form without a role) and store a moderator account, sealed
    with ``vault`` (else the one of the environment's master key)."""
    data = load(RegisterSchema(exclude=("role",)), form, what="moderator form")
    email = normalize_email(data["email"])
    vault = vault or sealing.Vault(master_key())
    with store.transaction() as cur:
        if repository.user_by_email(cur, vault, email) is not None:
            raise Conflict(EMAIL_TAKEN, {"email": [EMAIL_TAKEN]})
    # the operator vouches for the address: a moderator needs no verification link
    user = new_user(data, (hashing or PasswordHashing()).hash(data["password"]), role="moderator", verified=True)
    with store.transaction() as cur:
        row = repository.insert_user(cur, vault, user)
        if row is None:
            raise Conflict(EMAIL_TAKEN, {"email": [EMAIL_TAKEN]})
    return user_view(row)


def verify_email(store, email, vault=None):
    """Mark the account of ``email`` verified (already verified: unchanged); NotFound without one."""
    vault = vault or sealing.Vault(master_key())
    with store.transaction() as cur:
        user = repository.user_by_email(cur, vault, normalize_email(email))
        if user is None:
            raise NotFound("No account has this e-mail.")
        # the running identity's relay publishes it: the gateways believe the account's tokens verified
        sessions.email_verified(cur, user["id"], repository.mark_email_verified(cur, user["id"]))
        repository.use_all_tokens(cur, user["id"], "verify_email")
    return str(user["id"])


def _read_password(stdin):
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != first:
            raise InvalidInput("The passwords do not match.", {"password": ["The passwords do not match."]})
        return first
    return stdin.readline().rstrip("\r\n")


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m services.identity.admin", description="Operator commands of the identity service."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-moderator", help="create a moderator account")
    create.add_argument("--email", required=True)
    create.add_argument("--password", help="omit to type it, or to pipe it on stdin")
    create.add_argument("--first-name", required=True)
    create.add_argument("--last-name", required=True)
    create.add_argument("--patronymic", default="")
    verify = commands.add_parser("verify-email", help="confirm an account's e-mail address by hand")
    verify.add_argument("--email", required=True)
    return parser


def main(argv=None, environ=None, stdin=None, stdout=None, stderr=None):
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    if args.command == "verify-email":
        return _verify(args, environ, stdout, stderr)
    store = None
    try:
        password = args.password if args.password is not None else _read_password(stdin)
        form = {
            "email": args.email,
            "password": password,
            "first_name": args.first_name,
            "last_name": args.last_name,
            "patronymic": args.patronymic,
        }
        store = open_store(database_url(environ))
        user = create_moderator(store, form, vault=sealing.Vault(master_key(environ)))
    except Conflict:
        print(
            f"error: an account with the e-mail {args.email.strip().lower()} already exists; nothing was changed.",
            file=stderr,
        )
        return 1
    except InvalidInput as exc:
        problems = "; ".join(
            f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for field, msgs in exc.fields.items()
        )
        print(f"error: {exc.message} {problems}", file=stderr)
        return 2
    except (ServiceUnavailable, psycopg2.OperationalError) as exc:
        print(f"error: the identity database is unreachable: {exc}", file=stderr)
        return 3
    finally:
        if store is not None:
            store.close()
    print(f"created moderator {user['id']} <{user['email']}>", file=stdout)
    return 0


def _verify(args, environ, stdout, stderr):
    store = None
    try:
        store = open_store(database_url(environ))
        user_id = verify_email(store, args.email, vault=sealing.Vault(master_key(environ)))
    except NotFound:
        print(f"error: no account has the e-mail {args.email.strip().lower()}; nothing was changed.", file=stderr)
        return 1
    except (ServiceUnavailable, psycopg2.OperationalError) as exc:
        print(f"error: the identity database is unreachable: {exc}", file=stderr)
        return 3
    finally:
        if store is not None:
            store.close()
    print(f"verified the e-mail of {user_id}", file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
