"""
Tests for reading Flexisip's registrar formats: CLI replies of both JSON
generations, Redis contact values, Redis URLs, and the shared helpers of
L{famd.registrar}.
"""

from twisted.trial.unittest import TestCase

from famd.api.render import devices as render_devices
from famd.interfaces import RegistrarUnavailable
from famd.registrar import Device, address_of_record, iso_time, public_id, sip_user
from famd.registrar.cli_reply import Binding, parse_reply
from famd.registrar.redis import RedisTarget, parse_url, url_problem
from famd.registrar.redis_contact import parse_contact

NEW_REPLY = (
    b'{"contacts":[{"accept":["application/sdp"],"alias":false,'
    b'"call-id":"2jDKWQbNxA","contact":"sip:alice@192.0.2.33:41234;transport=tls",'
    b'"contact-id":"4b1f","cseq":21,"expires-at":1764343970,'
    b'"path":["sip:192.0.2.1:5061;transport=tls;lr"],"q":1.0,'
    b'"unique-id":"\\"<urn:uuid:0d2e6f3a-5b1c>\\"","update-time":1764340370,'
    b'"user-agent":"LinphoneAndroid/5.0 (belle-sip/4.5)"},'
    b'{"accept":[],"alias":false,"call-id":"x","contact":"sip:1001@192.0.2.77",'
    b'"cseq":1,"expires-at":1764343970,"path":[],"q":1.0,'
    b'"unique-id":"fs-gen-6c3b2a1f0e","update-time":1764340370,"user-agent":""}]}'
)

OLD_REPLY = (
    b'{"contacts":[{"path":["sip:192.0.2.1:5061;transport=tls;lr"],'
    b'"acceptHeaders":[],"uri":"sip:alice@192.0.2.33:41234;transport=tls",'
    b'"expires_at":1764343970,"q":1,'
    b'"line_value_copy":"\\"<urn:uuid:0d2e6f3a-5b1c>\\"","contact_id":"4b1f",'
    b'"user_agent":"LinphoneiOS/4.5 (iPhone) LinphoneSDK/4.5",'
    b'"update_time":1764340370,"call_id":"2jDKWQbNxA","cseq":21,"alias":0}]}'
)


class CLIReplyTests(TestCase):
    """parse_reply reads both JSON generations and refuses the rest."""

    def test_new_generation(self):
        """A 2.1+ record gives each binding with its raw unique id."""
        self.assertEqual(
            parse_reply(NEW_REPLY),
            [
                Binding(
                    '"<urn:uuid:0d2e6f3a-5b1c>"',
                    Device(
                        "urn:uuid:0d2e6f3a-5b1c",
                        "LinphoneAndroid/5.0 (belle-sip/4.5)",
                        "2025-11-28T15:32:50Z",
                        "2025-11-28T14:32:50Z",
                    ),
                ),
                Binding(
                    "fs-gen-6c3b2a1f0e",
                    Device(
                        "fs-gen-6c3b2a1f0e",
                        None,
                        "2025-11-28T15:32:50Z",
                        "2025-11-28T14:32:50Z",
                    ),
                ),
            ],
        )

    def test_old_generation(self):
        """A 2021 record uses line_value_copy as the unique id."""
        self.assertEqual(
            parse_reply(OLD_REPLY),
            [
                Binding(
                    '"<urn:uuid:0d2e6f3a-5b1c>"',
                    Device(
                        "urn:uuid:0d2e6f3a-5b1c",
                        "LinphoneiOS/4.5 (iPhone) LinphoneSDK/4.5",
                        "2025-11-28T15:32:50Z",
                        "2025-11-28T14:32:50Z",
                    ),
                )
            ],
        )

    def test_old_generation_without_line_value(self):
        """A 2021 contact without line_value_copy falls back to contact_id."""
        reply = b'{"contacts":[{"contact_id":"abc","expires_at":0,"update_time":0}]}'
        self.assertEqual(
            parse_reply(reply), [Binding("abc", Device("abc", None, None, None))]
        )

    def test_not_found_is_empty(self):
        """Flexisip's 404 line for an unknown address is an empty record."""
        reply = (
            b"Error - 404 Not Found: "
            b"the registrar database does not contain the requested AOR"
        )
        self.assertEqual(parse_reply(reply), [])

    def test_empty_records(self):
        """An empty contacts list, an empty object and null contacts are empty."""
        for reply in (
            b'{"contacts":[]}',
            b"{}",
            b'{"contacts":null}',
            b' {"contacts":[]}\n',
        ):
            self.assertEqual(parse_reply(reply), [], reply)

    def test_contact_without_id_skipped(self):
        """A contact without any id cannot be addressed and is left out."""
        self.assertEqual(parse_reply(b'{"contacts":[{"user-agent":"x"}]}'), [])

    def test_error_lines(self):
        """Error, ERROR and INVALID lines make the registrar unavailable."""
        for reply in (
            b"Error - Failed to connect to the registrar database",
            b"Error - Invalid record",
            b"ERROR",
            b"INVALID",
            b"Error - Unknown command: REGISTRAR_GET",
        ):
            error = self.assertRaises(RegistrarUnavailable, parse_reply, reply)
            self.assertIn(reply.decode(), str(error))

    def test_unusable(self):
        """Empty, garbage and foreign JSON replies make the registrar unavailable."""
        for reply in (
            b"",
            b"  \n",
            b"\x00\xff garbage",
            b'{"contacts":[',
            b"[]",
            b'{"aors":[]}',
            b'{"contacts":{}}',
            b'{"contacts":["x"]}',
            b"42",
        ):
            self.assertRaises(RegistrarUnavailable, parse_reply, reply)

    def test_odd_numbers(self):
        """Missing, zero, boolean or string times give null, not an error."""
        reply = (
            b'{"contacts":[{"unique-id":"<urn:uuid:a>","expires-at":true,'
            b'"update-time":"1764340370"}]}'
        )
        self.assertEqual(
            parse_reply(reply),
            [Binding("<urn:uuid:a>", Device("urn:uuid:a", None, None, None))],
        )


class RedisContactTests(TestCase):
    """parse_contact reads Flexisip's serialized contacts."""

    VALUE = (
        "<sip:alice@192.0.2.33:41234;transport=tls;pn-prid=abc%3Adef"
        ";callid=2jDKWQbNxA%3B1;expires=3600;cseq=21;updatedAt=1764340370;alias=no"
        ";usedAsRoute=no?path=%3Csip%3A192.0.2.1%3A5061%3Btransport%3Dtls%3Blr%3E"
        "&accept=application%2Fsdp"
        "&user-agent=LinphoneAndroid%2F5.0%20%28belle-sip%2F4.5%29>"
        ';+sip.instance="<urn:uuid:0d2e6f3a-5b1c>";+org.linphone.specs="a;b,c"'
    )

    def test_flexisip_value(self):
        """User agent, instance, update time and expiry are read and unescaped."""
        contact = parse_contact(self.VALUE)
        self.assertEqual(contact.user_agent, "LinphoneAndroid/5.0 (belle-sip/4.5)")
        self.assertEqual(contact.instance, '"<urn:uuid:0d2e6f3a-5b1c>"')
        self.assertEqual(contact.updated_at, 1764340370)
        self.assertEqual(contact.expires, 3600)
        self.assertEqual(contact.expires_at, 1764343970)
        self.assertTrue(contact.uri.startswith("sip:alice@192.0.2.33:41234;"))

    def test_without_instance(self):
        """A contact without +sip.instance has no instance, the rest is read."""
        contact = parse_contact(
            "<sip:1001@192.0.2.77:5060;callid=x;expires=600;cseq=3;updatedAt=100"
            ";alias=no;usedAsRoute=no?user-agent=Grandstream%20GXP2170>"
        )
        self.assertEqual(
            (contact.instance, contact.user_agent, contact.expires_at),
            (None, "Grandstream GXP2170", 700),
        )

    def test_display_name(self):
        """A display name holding '<' does not hide the URI."""
        contact = parse_contact(
            '"Bob <desk>" <sip:bob@192.0.2.8;updatedAt=5;expires=10>'
            ';+sip.instance="<urn:uuid:b>"'
        )
        self.assertEqual((contact.instance, contact.expires_at), ('"<urn:uuid:b>"', 15))

    def test_header_names_any_case(self):
        """Header and parameter names are matched without regard to case."""
        contact = parse_contact("<sip:a@b;UPDATEDAT=7;Expires=1?User-Agent=X%2FY>")
        self.assertEqual((contact.user_agent, contact.expires_at), ("X/Y", 8))

    def test_plus_is_not_space(self):
        """A '+' in a header value stays a '+' (URI escaping, not form encoding)."""
        contact = parse_contact("<sip:a@b?user-agent=A+B%2BC>")
        self.assertEqual(contact.user_agent, "A+B+C")

    def test_unreadable(self):
        """Garbage gives a contact with nothing known, not an exception."""
        for value in ("", "garbage", "<sip:a@b;updatedAt=soon;expires=", "<<>>"):
            contact = parse_contact(value)
            self.assertEqual(
                (contact.instance, contact.user_agent, contact.expires_at),
                (None, None, None),
                value,
            )

    def test_negative_expires(self):
        """An old Flexisip's negative remaining time gives an expiry in the past."""
        contact = parse_contact("<sip:a@b;expires=-5;updatedAt=100>")
        self.assertEqual(contact.expires_at, 95)


class RedisURLTests(TestCase):
    """parse_url reads redis:// and unix:// URLs."""

    def test_defaults(self):
        """A bare redis:// URL is 127.0.0.1:6379, database 0, no password."""
        self.assertEqual(
            parse_url("redis://"), RedisTarget("127.0.0.1", 6379, None, 0, None, None)
        )

    def test_full(self):
        """User, password (unescaped), host, port and database are read."""
        self.assertEqual(
            parse_url("redis://famd:p%40ss@redis.example.org:6380/3"),
            RedisTarget("redis.example.org", 6380, None, 3, "famd", "p@ss"),
        )

    def test_password_only(self):
        """A password without a user is the default user's."""
        self.assertEqual(parse_url("redis://:pw@h/1").password, "pw")
        self.assertIsNone(parse_url("redis://:pw@h/1").username)

    def test_unix(self):
        """A unix:// URL names the socket and takes the database from ?db=."""
        self.assertEqual(
            parse_url("unix:///run/redis/redis.sock?db=2"),
            RedisTarget(None, 0, "/run/redis/redis.sock", 2, None, None),
        )

    def test_problems(self):
        """Unusable URLs are explained, never with their password."""
        self.assertEqual(url_problem("http://x"), "must start with redis:// or unix://")
        self.assertEqual(
            url_problem("rediss://x"), "must start with redis:// or unix://"
        )
        self.assertEqual(url_problem("redis://h/zero"), "the database must be a number")
        self.assertEqual(
            url_problem("redis://:secret@h:99999/0"),
            "the port must be a number from 0 to 65535",
        )
        self.assertEqual(url_problem("unix://"), "a unix:// URL needs the socket path")
        self.assertIsNone(url_problem("redis://127.0.0.1:6379/0"))

    def test_target_text(self):
        """A target prints as host, port and database, without the password."""
        self.assertEqual(str(parse_url("redis://:secret@h:7/2")), "h:7 (db 2)")


class HelperTests(TestCase):
    """The shared helpers of famd.registrar."""

    def test_public_id(self):
        """Quotes, then angle brackets, are removed; a generated key is kept."""
        self.assertEqual(public_id('"<urn:uuid:a>"'), "urn:uuid:a")
        self.assertEqual(public_id("<urn:uuid:a>"), "urn:uuid:a")
        self.assertEqual(public_id("urn:uuid:a"), "urn:uuid:a")
        self.assertEqual(public_id("fs-gen-1a2b"), "fs-gen-1a2b")
        self.assertEqual(public_id('"'), '"')

    def test_sip_user(self):
        """Usual usernames are unchanged; others are %-escaped."""
        self.assertEqual(sip_user("alice.b-c_d+33"), "alice.b-c_d+33")
        self.assertEqual(sip_user('a b"@:%é'), "a%20b%22%40%3A%25%C3%A9")

    def test_address_of_record(self):
        """The address is user@domain; a domain that is not a host is refused."""
        self.assertEqual(
            address_of_record("alice", "sip.example.org"), "alice@sip.example.org"
        )
        self.assertEqual(address_of_record("a", "[2001:db8::1]"), "a@[2001:db8::1]")
        for domain in ("", "a b", "x\n", "a@b"):
            self.assertRaises(RegistrarUnavailable, address_of_record, "alice", domain)

    def test_iso_time(self):
        """Epoch seconds become ISO 8601 UTC; zero and non-numbers become None."""
        self.assertEqual(iso_time(1764340370), "2025-11-28T14:32:50Z")
        self.assertEqual(iso_time(1764340370.9), "2025-11-28T14:32:50Z")
        for value in (0, -1, None, True, "1764340370", 10**20):
            self.assertIsNone(iso_time(value), value)

    def test_rendered(self):
        """Devices render as an object keyed by uuid."""
        devices = [
            Device("urn:uuid:a", "UA", "2100-01-01T00:00:00Z", None),
            Device("fs-gen-b", None, None, None),
        ]
        self.assertEqual(
            render_devices(devices),
            {
                "urn:uuid:a": {
                    "uuid": "urn:uuid:a",
                    "user_agent": "UA",
                    "expires_at": "2100-01-01T00:00:00Z",
                    "update_time": None,
                },
                "fs-gen-b": {
                    "uuid": "fs-gen-b",
                    "user_agent": None,
                    "expires_at": None,
                    "update_time": None,
                },
            },
        )
        self.assertEqual(render_devices([]), {})
