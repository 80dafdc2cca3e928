"""
The ``famd`` admin command: the counterpart of the 2021 artisan commands.

``famd --config FILE SUBCOMMAND ...``; every subcommand reads the same
famd.yaml as the daemon and works on the same storage.
"""

import argparse
import getpass
import json
import sys

from twisted.internet import defer, task

from famd import credentials
from famd.accounts import new_account
from famd.backends import BackendContext
from famd.clock import ago, text, utcnow
from famd.config import ConfigError, load
from famd.errors import Conflict
from famd.model import ALGORITHMS
from famd.sip import MalformedAddress, parse_address


class CommandError(Exception):
    """A subcommand failed; the message is printed and the exit status is 1."""


def parser():
    top = argparse.ArgumentParser(prog="famd", description=__doc__.strip().splitlines()[0])
    top.add_argument("--config", "-c", default="famd.yaml", help="famd.yaml to read")
    sub = top.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    sub.add_parser("check-config", help="validate the configuration")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    sub.add_parser("openapi", help="print the OpenAPI 3.1 description of the API as JSON")
    admin = sub.add_parser("create-admin", help="create an activated admin account with an API key")
    admin.add_argument("username")
    given = admin.add_mutually_exclusive_group()
    given.add_argument("--password-file", metavar="FILE",
                       help="read the password from the first line of FILE")
    given.add_argument("--password", help="the password itself (scripts only: ps shows it)")
    admin.add_argument("--domain", default=None, help="default: sip_domain")
    admin.add_argument("--algorithm", choices=ALGORITHMS, default="SHA-256")
    key = sub.add_parser("api-key", help="create or replace an account's API key")
    key.add_argument("sip_address", help="user@domain (a sip: prefix is accepted)")
    for name, description in (("set-admin", "give admin rights"), ("unset-admin", "remove admin rights")):
        command = sub.add_parser(name, help=description)
        command.add_argument("id", type=int, help="account id")
    nonces = sub.add_parser("clear-nonces", help="delete DIGEST nonces unused for MINUTES")
    nonces.add_argument("minutes", type=int)
    unconfirmed = sub.add_parser("clear-unconfirmed", help="list (and delete) accounts not activated after DAYS")
    unconfirmed.add_argument("days", type=int)
    unconfirmed.add_argument("--apply", action="store_true", help="delete them")
    return top


def read_password(args, stdin=None, ask=getpass.getpass):
    """
    create-admin's password: C{--password}, the first line of
    C{--password-file}, or else asked twice at the terminal without echo
    (or the first line of standard input, when it is not a terminal).
    """
    stdin = stdin or sys.stdin
    if args.password is not None:
        password = args.password
    elif args.password_file is not None:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                password = f.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError("cannot read the password file: %s" % (error,)) from None
    elif stdin.isatty():
        try:
            password = ask("Password: ")
            if ask("Password (again): ") != password:
                raise CommandError("the two passwords differ")
        except EOFError:
            raise CommandError("no password given") from None
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("empty password")
    return password


def split_address(address):
    """'sip:user@domain' or 'user@domain' -> (user, domain)."""
    try:
        return parse_address(address)
    except MalformedAddress:
        raise CommandError("not a SIP address: %r (expected user@domain)" % (address,)) from None


@defer.inlineCallbacks
def create_admin(config, storage, args, out):
    now = utcnow()
    key = credentials.api_key()
    account = new_account(
        config, now, args.username, args.password, args.algorithm,
        domain=args.domain, activated=True, admin=True, api_key=key,
    )
    try:
        account_id = yield storage.create_account(account)
    except Conflict:
        raise CommandError("%s@%s already exists" % (account.username, account.domain))
    out.write("created admin account %d: %s@%s\n" % (account_id, account.username, account.domain))
    out.write(key + "\n")


@defer.inlineCallbacks
def api_key(config, storage, args, out):
    username, domain = split_address(args.sip_address)
    account = yield storage.find_account(username, domain)
    if account is None:
        raise CommandError("no account %s@%s" % (username, domain))
    key = credentials.api_key()
    yield storage.set_api_key(account.id, key, utcnow())
    out.write(key + "\n")


@defer.inlineCallbacks
def set_admin(storage, account_id, admin, out):
    found = yield storage.set_admin(account_id, admin, utcnow())
    if not found:
        raise CommandError("no account with id %d" % (account_id,))
    out.write("account %d is %s an admin\n" % (account_id, "now" if admin else "no longer"))


@defer.inlineCallbacks
def clear_nonces(storage, minutes, out):
    count = yield storage.delete_nonces(ago(utcnow(), minutes * 60))
    out.write("deleted %d nonces\n" % (count,))


@defer.inlineCallbacks
def clear_unconfirmed(storage, days, apply, out):
    accounts = yield storage.list_unconfirmed(ago(utcnow(), days * 86400))
    for account in accounts:
        created = text(account.creation_time)
        out.write("%d %s created %s\n" % (account.id, account.sip_address, created))
    if apply:
        count = yield storage.delete_accounts([account.id for account in accounts])
        out.write("deleted %d accounts\n" % (count,))
    else:
        out.write("%d accounts not activated; run again with --apply to delete them\n" % (len(accounts),))


def openapi(config):
    """The OpenAPI document of the routes C{config} mounts, as JSON text (nothing is opened or sent)."""
    from twisted.internet import reactor

    from famd.api.openapi import document
    from famd.service import build_applications, build_components

    applications, _ = build_applications(config, build_components(config, reactor))
    return json.dumps(document(applications, config), indent=2, ensure_ascii=False)


def dispatch(config, storage, args, out):
    command = args.command
    if command == "create-admin":
        return create_admin(config, storage, args, out)
    if command == "api-key":
        return api_key(config, storage, args, out)
    if command in ("set-admin", "unset-admin"):
        return set_admin(storage, args.id, command == "set-admin", out)
    if command == "clear-nonces":
        return clear_nonces(storage, args.minutes, out)
    return clear_unconfirmed(storage, args.days, args.apply, out)


def run(reactor, config, args, out):
    """Run a storage subcommand with the storage opened; fire when done."""
    storage = config.storage.build(BackendContext(reactor, config))
    d = storage.open()
    d.addCallback(lambda _: dispatch(config, storage, args, out))
    d.addBoth(lambda result: storage.close().addCallback(lambda _: result))
    return d


def main(argv=None, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    args = parser().parse_args(argv)
    try:
        config = load(args.config)
    except ConfigError as error:
        err.write("invalid configuration %s:\n  %s\n" % (args.config, "\n  ".join(error.errors)))
        return 1
    if args.command == "check-config":
        out.write("configuration OK: %s\n" % (args.config,))
        return 0
    if args.command == "openapi":
        out.write(openapi(config) + "\n")
        return 0
    if args.command == "create-admin":
        try:
            args.password = read_password(args)
        except CommandError as error:
            err.write("famd: %s\n" % (error,))
            return 1
    if args.command == "migrate":
        from twisted.internet import reactor

        try:
            version = config.storage.build(BackendContext(reactor, config)).migrate_blocking()
        except Exception as error:
            err.write("famd: %s\n" % (error,))
            return 1
        out.write("schema version %d\n" % (version,))
        return 0
    status = []

    def command(reactor):
        d = run(reactor, config, args, out)

        def failed(failure):
            failure.trap(CommandError)
            err.write("famd: %s\n" % (failure.value,))
            status.append(1)

        return d.addErrback(failed)

    try:
        task.react(command)
    except SystemExit as exit:
        if exit.code:
            return exit.code
    return status[0] if status else 0


if __name__ == "__main__":
    sys.exit(main())
