"""
Tests for the linphonerc reader and the provisioning document builder.
"""

import hashlib
from datetime import datetime, timezone
from xml.etree import ElementTree

from twisted.trial.unittest import TestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from famd import backends
from famd.interfaces import IProvisioningHook
from famd.model import Account, Password
from famd.options import parse as parse_options
from famd.provisioning import ProvisioningRequest, document, rcfile
from famd.provisioning.hooks import QueryParamsHook

NS = "{http://www.linphone.org/xsds/lpconfig.xsd}"


def sections_of(body):
    """The (name, [(key, value, overwrite attribute)]) list of a document."""
    root = ElementTree.fromstring(body)
    assert root.tag == NS + "config", root.tag
    return [
        (
            section.get("name"),
            [
                (entry.get("name"), entry.text or "", entry.get("overwrite"))
                for entry in section.findall(NS + "entry")
            ],
        )
        for section in root.findall(NS + "section")
    ]


def values_of(body):
    """The document as a dict of section name -> dict of key -> value."""
    return {
        name: {key: value for key, value, _ in entries}
        for name, entries in sections_of(body)
    }


def account(passwords=(("secret", "CLRTXT"),), username="alice", domain="sip.example.org"):
    """An account with the given (password, algorithm) rows."""
    return Account(
        id=7,
        username=username,
        domain=domain,
        email=None,
        activated=False,
        confirmation_key=None,
        ip_address="127.0.0.1",
        user_agent="test",
        creation_time=datetime(2026, 1, 1, tzinfo=timezone.utc),
        passwords=tuple(Password(p, a) for p, a in passwords),
    )


def hexdigest(function, text):
    """The hex digest of C{text} encoded as UTF-8."""
    return function(text.encode("utf-8")).hexdigest()


def build(defaults=(), acct=None, realm=None, overwrite_all=False, hooks=(), request=None):
    """The document with the given inputs."""
    return document.build(
        defaults, acct, realm, overwrite_all, hooks, request or ProvisioningRequest()
    )


class RcFileTests(TestCase):
    """The linphonerc reader follows liblinphone's LpConfig rules."""

    def test_order(self):
        """Sections and keys come back in file order."""
        text = "[sip]\nb=2\na=1\n[misc]\nz=26\n"
        self.assertEqual(
            rcfile.parse(text),
            (("sip", (("b", "2"), ("a", "1"))), ("misc", (("z", "26"),))),
        )

    def test_values(self):
        """A value runs from the first '=' to the end of line, trailing spaces removed, case kept."""
        text = "[proxy_0]\nreg_proxy = <sip:p.example.org;transport=tls>  \r\nRealM=X\n"
        self.assertEqual(
            rcfile.parse(text),
            (("proxy_0", (("reg_proxy", " <sip:p.example.org;transport=tls>"), ("RealM", "X"))),),
        )

    def test_comments_and_noise(self):
        """Comments, empty values, section parameters and keys outside sections are ignored."""
        text = "orphan=1\n# [nope]\n[sip param=1]\n  # x=1\nempty=\nnoequal\nk=v\n"
        self.assertEqual(rcfile.parse(text), (("sip", (("k", "v"),)),))

    def test_repeats(self):
        """A repeated key keeps its first position with the last value; a repeated section continues the first."""
        text = "[a]\nx=1\ny=2\n[b]\nz=3\n[a]\nx=4\nw=5\n"
        self.assertEqual(
            rcfile.parse(text),
            (("a", (("x", "4"), ("y", "2"), ("w", "5"))), ("b", (("z", "3"),))),
        )

    def test_load(self):
        """load reads a UTF-8 file."""
        path = self.mktemp()
        with open(path, "wb") as rc:
            rc.write("[app]\nname=Café\n".encode("utf-8"))
        self.assertEqual(rcfile.load(path), (("app", (("name", "Café"),)),))

    def test_load_missing(self):
        """A missing file raises RcFileError naming the file."""
        path = self.mktemp()
        error = self.assertRaises(rcfile.RcFileError, rcfile.load, path)
        self.assertIn(path, str(error))

    def test_load_not_utf8(self):
        """A file that is not UTF-8 raises RcFileError."""
        path = self.mktemp()
        with open(path, "wb") as rc:
            rc.write(b"[app]\nname=\xff\n")
        self.assertRaises(rcfile.RcFileError, rcfile.load, path)


DEFAULTS = rcfile.parse(
    "[sip]\ntransport=<tls> & \"more\"\n[proxy_0]\nreg_identity=sip:shared@sip.example.org\n"
    "[proxy_2]\nreg_sendregister=0\n[auth_info_0]\nusername=shared\n"
)


class DefaultsTests(TestCase):
    """The operator's defaults open every document."""

    def test_prolog(self):
        """The document starts with the XML declaration and the lpconfig namespace."""
        body = build()
        self.assertTrue(
            body.startswith(
                b'<?xml version="1.0" encoding="UTF-8"?>\n'
                b'<config xmlns="http://www.linphone.org/xsds/lpconfig.xsd">'
            )
        )
        self.assertEqual(sections_of(body), [])

    def test_defaults_in_order_escaped(self):
        """Every section and key of the rc file is served in order, values escaped."""
        self.assertEqual(
            sections_of(build(DEFAULTS)),
            [
                ("sip", [("transport", '<tls> & "more"', None)]),
                ("proxy_0", [("reg_identity", "sip:shared@sip.example.org", None)]),
                ("proxy_2", [("reg_sendregister", "0", None)]),
                ("auth_info_0", [("username", "shared", None)]),
            ],
        )

    def test_unrepresentable_characters_dropped(self):
        """Characters XML cannot carry are removed instead of breaking the document."""
        body = build((("app", (("name", "a\x01b\x1f"),)),))
        self.assertEqual(values_of(body), {"app": {"name": "ab"}})

    def test_overwrite_all(self):
        """overwrite_all marks every entry, and only then."""
        acct = account()
        marked = sections_of(build(DEFAULTS, acct, overwrite_all=True))
        plain = sections_of(build(DEFAULTS, acct))
        self.assertEqual(
            {o for _, entries in marked for _, _, o in entries}, {"true"}
        )
        self.assertEqual({o for _, entries in plain for _, _, o in entries}, {None})


class AccountTests(TestCase):
    """The provisioned account's proxy and auth_info sections."""

    def test_sections(self):
        """A CLRTXT password gives one proxy section and the HA1s of both algorithms."""
        body = build((), account())
        md5 = hexdigest(hashlib.md5, "alice:sip.example.org:secret")
        sha = hexdigest(hashlib.sha256, "alice:sip.example.org:secret")
        self.assertEqual(
            sections_of(body),
            [
                (
                    "proxy_0",
                    [
                        ("reg_identity", "sip:alice@sip.example.org", None),
                        ("reg_sendregister", "1", None),
                        ("refkey", "push_notification", None),
                    ],
                ),
                (
                    "auth_info_0",
                    [
                        ("username", "alice", None),
                        ("domain", "sip.example.org", None),
                        ("ha1", md5, None),
                        ("realm", "sip.example.org", None),
                        ("algorithm", "MD5", None),
                    ],
                ),
                (
                    "auth_info_1",
                    [
                        ("username", "alice", None),
                        ("domain", "sip.example.org", None),
                        ("ha1", sha, None),
                        ("realm", "sip.example.org", None),
                        ("algorithm", "SHA-256", None),
                    ],
                ),
            ],
        )
        self.assertNotIn(b"secret", body)

    def test_configured_realm(self):
        """A configured realm is used for the HA1 and the realm entry."""
        values = values_of(build((), account(), realm="Example"))
        self.assertEqual(values["auth_info_0"]["realm"], "Example")
        self.assertEqual(
            values["auth_info_0"]["ha1"],
            hexdigest(hashlib.md5, "alice:Example:secret"),
        )

    def test_stored_ha1(self):
        """Stored HA1 rows are served as they are, one section each."""
        acct = account((("a" * 32, "MD5"), ("b" * 64, "SHA-256")))
        values = values_of(build((), acct))
        self.assertEqual(
            [(values[s]["algorithm"], values[s]["ha1"]) for s in ("auth_info_0", "auth_info_1")],
            [("MD5", "a" * 32), ("SHA-256", "b" * 64)],
        )

    def test_stored_ha1_wins_over_clear(self):
        """A CLRTXT row only fills the algorithms no HA1 row covers."""
        acct = account((("secret", "CLRTXT"), ("a" * 32, "MD5")))
        values = values_of(build((), acct))
        self.assertEqual(
            sorted((v["algorithm"], v["ha1"]) for k, v in values.items() if k.startswith("auth")),
            [("MD5", "a" * 32), ("SHA-256", hexdigest(hashlib.sha256, "alice:sip.example.org:secret"))],
        )

    def test_numbering_after_defaults(self):
        """Account sections are numbered after the rc file's proxy and auth_info sections."""
        names = [name for name, _ in sections_of(build(DEFAULTS, account()))]
        self.assertEqual(
            names,
            ["sip", "proxy_0", "proxy_2", "auth_info_0", "proxy_3", "auth_info_1", "auth_info_2"],
        )

    def test_escaped_account(self):
        """Account values are escaped like any other."""
        acct = account(username="a&b", domain="x<y")
        self.assertEqual(
            values_of(build((), acct))["proxy_0"]["reg_identity"], "sip:a&b@x<y"
        )


@implementer(IProvisioningHook)
class RecordingHook:
    """A hook adding fixed entries and recording the calls it receives."""

    def __init__(self):
        self.calls = []

    def proxy_entries(self, request, account):
        self.calls.append(("proxy", account.id))
        return [("reg_expires", 600), ("refkey", "custom")]

    def auth_entries(self, request, account, password):
        self.calls.append(("auth", password.algorithm))
        return [("tls_cert_path", "/c/%s" % (password.algorithm,))]

    def extra_sections(self, request, account):
        self.calls.append(("extra", account.id if account else None))
        return [("app", [("hooked", "yes & more")])]


class HookTests(TestCase):
    """Provisioning hooks extend the document."""

    def test_recording_hook_provides(self):
        """The test hook provides IProvisioningHook."""
        verifyObject(IProvisioningHook, RecordingHook())

    def test_entries_and_sections(self):
        """Hook entries join the account sections (replacing same-named ones) and extra sections come last."""
        hook = RecordingHook()
        sections = sections_of(build((), account(), hooks=[hook], overwrite_all=True))
        self.assertEqual(
            sections[0],
            (
                "proxy_0",
                [
                    ("reg_identity", "sip:alice@sip.example.org", "true"),
                    ("reg_sendregister", "1", "true"),
                    ("refkey", "custom", "true"),
                    ("reg_expires", "600", "true"),
                ],
            ),
        )
        self.assertEqual(sections[1][1][-1], ("tls_cert_path", "/c/MD5", "true"))
        self.assertEqual(sections[2][1][-1], ("tls_cert_path", "/c/SHA-256", "true"))
        self.assertEqual(sections[3], ("app", [("hooked", "yes & more", "true")]))
        self.assertEqual(
            hook.calls, [("proxy", 7), ("auth", "MD5"), ("auth", "SHA-256"), ("extra", 7)]
        )

    def test_extra_sections_without_account(self):
        """Without an account only extra_sections is asked, with None."""
        hook = RecordingHook()
        self.assertEqual(values_of(build((), None, hooks=[hook])), {"app": {"hooked": "yes & more"}})
        self.assertEqual(hook.calls, [("extra", None)])


class QueryParamsHookTests(TestCase):
    """The example hook copies chosen query arguments into the proxy section."""

    def test_provides(self):
        """The example hook provides IProvisioningHook."""
        verifyObject(IProvisioningHook, QueryParamsHook(["a"]))

    def test_copies_listed_arguments(self):
        """Listed arguments present in the request are copied in option order, first value only."""
        hook = QueryParamsHook(["reg_proxy", "missing", "reg_expires"])
        request = ProvisioningRequest(
            args={
                "reg_expires": ("60", "70"),
                "reg_proxy": ("<sip:p.example.org;transport=tls>",),
                "other": ("x",),
            }
        )
        proxy = sections_of(build((), account(), hooks=[hook], request=request))[0][1]
        self.assertEqual(
            proxy[3:],
            [
                ("reg_proxy", "<sip:p.example.org;transport=tls>", None),
                ("reg_expires", "60", None),
            ],
        )

    def test_plugin(self):
        """The query-params plugin is found by name and builds the hook from its options."""
        backend = backends.find("provisioning", "query-params")
        options, errors = parse_options({"params": ["a", "b"]}, backend.options, "h", "/")
        self.assertEqual(errors, [])
        hook = backend.build(options, None)
        verifyObject(IProvisioningHook, hook)
        self.assertEqual(hook.params, ("a", "b"))

    def test_plugin_options_checked(self):
        """The params option must be a list of strings."""
        backend = backends.find("provisioning", "query-params")
        _, errors = parse_options({"params": [1]}, backend.options, "h", "/")
        self.assertEqual(errors, ["h.params: must be a list of strings"])


class ProvisioningRequestTests(TestCase):
    """The request hooks see."""

    def test_from_linphone(self):
        """X-Linphone-Provisioning: 1 marks a Linphone app."""
        self.assertTrue(ProvisioningRequest(headers={"x-linphone-provisioning": "1"}).from_linphone)
        self.assertFalse(ProvisioningRequest(headers={"x-linphone-provisioning": "0"}).from_linphone)
        self.assertFalse(ProvisioningRequest().from_linphone)
