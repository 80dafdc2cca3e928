"""
The installed famd a browser journey talks to: ``twistd -n famd`` on a free
real port (L{famd.testing.daemon}), on the test's storage engine (a fresh
SQLite file, MariaDB or PostgreSQL database), with its outside world in the
test's own reactor: e-mail through Twisted's SMTP server (L{Mailbox}), the
``flexisip-cli`` registrar on the fake Flexisip CLI socket (it speaks
Flexisip's protocol), SMS through the fake OVH API, push notifications run
by a fake ``flexisip_pusher`` executable.  L{Famd} also reads and
writes the same database as the daemon, runs the ``famd`` command and runs
Flexisip's own password request.
"""

import email
import os
import re
import shutil
import sqlite3
import tempfile
from datetime import datetime, timezone
from email import policy

import yaml
from twisted.internet import defer, reactor, task, threads

from famd.accounts import new_account
from famd.config import from_mapping
from famd.testing.daemon import run_famd, start_daemon
from famd.testing.databases import SERVERS, fresh_database, open_server_storage
from famd.testing.flexisip_cli import FakeFlexisipCLI, Registration
from famd.testing.loopback import listen
from famd.testing.ovh_api import FakeOVH, serve_ovh
from famd.testing.pusher import FakePusher
from famd.testing.smtp_server import RecordingDelivery, SMTPServerFactory
from famd.testing.storage import open_sqlite
from tests.flows_fixtures import OVH_KEYS, OVH_SERVICE
from tests.test_flexisip_request import REQUEST as FLEXISIP_REQUEST, pyformat

DOMAIN = "sip.example.org"
SENDER = "famd@example.org"
MAIL_TIMEOUT = 15
"""Seconds L{Mailbox.wait} waits for a message before failing."""

SOCKET_FOLDER_PREFIX = "famd-cli-"
"""Unix socket paths are ~107 bytes at most: the fake CLI listens in a short /tmp folder."""

_URL = re.compile(r"https?://[^\s<>\"']+")


def merged(base, extra):
    """C{base} with C{extra} laid over it, nested mappings merged key by key."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


class Mailbox:
    """The messages famd sent through the test's SMTP server."""

    def __init__(self, delivery):
        self.delivery = delivery

    @property
    def messages(self):
        """Every message received: (envelope sender, recipient, L{email.message.EmailMessage})."""
        return [(sender, to, email.message_from_bytes(raw, policy=policy.default))
                for sender, to, raw in self.delivery.messages]

    @defer.inlineCallbacks
    def wait(self, to, count=1, timeout=MAIL_TIMEOUT):
        """Fire with the C{count}th message to C{to} (an EmailMessage), once it arrived."""
        deadline = reactor.seconds() + timeout
        while True:
            received = [m for _, recipient, m in self.messages if recipient == to]
            if len(received) >= count:
                return received[count - 1]
            if reactor.seconds() > deadline:
                raise AssertionError("no message %d to %s within %s s (got %d)"
                                     % (count, to, timeout, len(received)))
            yield task.deferLater(reactor, 0.05, lambda: None)


def text_of(message):
    """The plain-text part of C{message}."""
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(message):
    """The http(s) URLs of C{message}'s plain-text part, in order."""
    return _URL.findall(text_of(message))


class Famd:
    """
    A running famd and its surroundings.

    @ivar url: its base URL, C{http://127.0.0.1:PORT} (also its public_url).
    @ivar daemon: the L{famd.testing.daemon.Daemon} (its C{log()} is the daemon's output).
    @ivar config: the parsed L{famd.config.Config} it runs with.
    @ivar mail: the L{Mailbox} of its e-mails.
    @ivar cli: the L{FakeFlexisipCLI} its registrar asks (seed devices with L{register_device}).
    @ivar ovh: the L{FakeOVH} its SMS go to (C{ovh.jobs}).
    @ivar pusher: the L{FakePusher} its push notifications run (C{pusher.pushed()}).
    @ivar storage: a storage of the test's own on the daemon's database.
    """

    def __init__(self, engine, daemon, config, mail, cli, ovh, pusher, storage, database):
        self.engine = engine
        self.daemon = daemon
        self.url = daemon.url
        self.config = config
        self.mail = mail
        self.cli = cli
        self.ovh = ovh
        self.pusher = pusher
        self.storage = storage
        self.database = database

    def famd(self, *arguments):
        """Run the installed ``famd`` command on this configuration; fire with (stdout, stderr, code)."""
        return run_famd(self.daemon.config_path, *arguments)

    @defer.inlineCallbacks
    def create_admin(self, username, password):
        """Make an administrator with ``famd create-admin``; fire with its API key."""
        out, err, code = yield self.famd("create-admin", username, "--password", password)
        if code != 0:
            raise AssertionError("famd create-admin failed: %s" % (err.decode(),))
        return out.decode().strip().splitlines()[-1]

    @defer.inlineCallbacks
    def create_account(self, username, password, algorithm="SHA-256", activated=True,
                       blocked=False, **fields):
        """
        Store an account directly (as famd's API would make it); fire with its id.
        C{fields}: admin, email, phone, domain (L{famd.accounts.new_account}).
        """
        now = datetime.now(timezone.utc)
        account_id = yield self.storage.create_account(new_account(
            self.config, now, username, password, algorithm, activated=activated, **fields))
        if blocked:
            yield self.storage.set_blocked(account_id, True)
        return account_id

    def account(self, username, domain=DOMAIN):
        """Fire with the stored account C{username} (a L{famd.model.Account}) or None."""
        return self.storage.find_account(username, domain)

    def register_device(self, username, unique_id, user_agent="Linphone/5.2 (browser test)",
                        domain=DOMAIN, expires_in=3600):
        """Give C{username} a registered device in the fake Flexisip registrar."""
        now = int(datetime.now(timezone.utc).timestamp())
        self.cli.records.register("%s@%s" % (username, domain), Registration(
            unique_id='"<urn:uuid:%s>"' % (unique_id,), user_agent=user_agent,
            expires_at=now + expires_in, update_time=now))

    def flexisip_passwords(self, username, domain=DOMAIN):
        """Fire with the sorted (HA1, algorithm) rows Flexisip's request returns for C{username}."""
        return threads.deferToThread(self._flexisip_blocking, username, domain)

    def _flexisip_blocking(self, username, domain):
        params = {"id": username, "domain": domain}
        if self.engine == "sqlite":
            connection = sqlite3.connect(self.database, timeout=5)
            try:
                rows = connection.execute(FLEXISIP_REQUEST, params).fetchall()
            finally:
                connection.close()
        else:
            request = pyformat(FLEXISIP_REQUEST)
            connection = SERVERS[self.engine].connect(self.database)
            try:
                cursor = connection.cursor()
                cursor.execute(request, params)
                rows = cursor.fetchall()
            finally:
                connection.close()
        return sorted(tuple(row) for row in rows)


@defer.inlineCallbacks
def start_famd(test_case, engine="sqlite", settings=None):
    """
    Start the installed famd for C{test_case} on C{engine} ('sqlite',
    'mysql' or 'postgresql'), with e-mail, registrar, SMS and push wired
    to fakes; stopped (and its database dropped) at cleanup; fire
    with a L{Famd}.  C{settings}: famd.yaml keys laid over the defaults
    (e.g. C{{"signup": {"human_check_max_number": 5000}}}).
    """
    delivery = RecordingDelivery()
    smtp_port = listen(test_case, SMTPServerFactory(delivery))
    cli = FakeFlexisipCLI(reactor)
    folder = tempfile.mkdtemp(prefix=SOCKET_FOLDER_PREFIX)
    test_case.addCleanup(shutil.rmtree, folder, True)
    socket = os.path.join(folder, "cli")
    yield cli.listen(socket)
    test_case.addCleanup(cli.stop)
    ovh = FakeOVH(OVH_KEYS["application_key"], OVH_KEYS["application_secret"],
                  OVH_KEYS["consumer_key"], OVH_SERVICE)
    ovh_endpoint = serve_ovh(test_case, ovh)
    pusher = FakePusher(os.path.join(folder, "pusher"))

    if engine == "sqlite":
        storage_section = {"backend": "sqlite", "path": "famd.sqlite"}
        database = None
    else:
        database = yield fresh_database(test_case, SERVERS[engine])
        storage_section = {"backend": engine, "url": SERVERS[engine].database_url(database)}
    mapping = merged({
        "listen": "tcp:{port}:interface=127.0.0.1",
        "public_url": "http://127.0.0.1:{port}",
        "sip_domain": DOMAIN,
        "storage": storage_section,
        "email": {"backend": "smtp", "host": "127.0.0.1", "port": smtp_port,
                  "from": "famd <%s>" % (SENDER,), "tls": "none", "timeout": 10},
        "sms": dict(OVH_KEYS, backend="ovh", service_name=OVH_SERVICE, sender="famd",
                    endpoint=ovh_endpoint, timeout=10),
        "push": {"backend": "flexisip-pusher", "path": pusher.path, "timeout": 20},
        "registrar": {"backend": "flexisip-cli", "socket": socket, "timeout": 5},
    }, settings or {})
    daemon = yield start_daemon(test_case, yaml.safe_dump(mapping, sort_keys=False))
    folder = os.path.dirname(daemon.config_path)
    with open(daemon.config_path, encoding="utf-8") as f:
        config = from_mapping(yaml.safe_load(f), folder)
    if engine == "sqlite":
        database = os.path.join(folder, "famd.sqlite")
        storage = yield open_sqlite(test_case, path=database)
    else:
        storage = yield open_server_storage(test_case, engine, database=database)
    return Famd(engine, daemon, config, Mailbox(delivery), cli, ovh, pusher, storage, database)
