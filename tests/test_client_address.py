"""
famd.client_address: the peer, or the address a trusted proxy saw, read
from the right of X-Forwarded-For.
"""

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.trial import unittest
from twisted.web.test.requesthelper import DummyRequest

from famd.api.http import origin
from famd.client_address import TrustedProxies, client_address


def request(peer, *forwarded):
    """A request from C{peer} carrying these X-Forwarded-For header values."""
    made = DummyRequest([b""])
    made.client = (IPv6Address if ":" in peer else IPv4Address)("TCP", peer, 40000)
    for value in forwarded:
        made.requestHeaders.addRawHeader(b"X-Forwarded-For", value.encode())
    return made


class ClientAddressTests(unittest.TestCase):
    """client_address with and without trusted proxies."""

    def test_peer(self):
        """Without trusted proxies the peer is the client, whatever X-Forwarded-For says."""
        self.assertEqual(client_address(request("192.0.2.7", "198.51.100.1"), []), "192.0.2.7")

    def test_untrusted_peer(self):
        """A peer that is not a trusted proxy is the client even if proxies are configured."""
        found = client_address(request("192.0.2.7", "198.51.100.1"), ["10.0.0.1"])
        self.assertEqual(found, "192.0.2.7")

    def test_right_most_untrusted(self):
        """Behind trusted proxies the right-most entry that is not one of them is the client."""
        req = request("10.0.0.1", "6.6.6.6, 198.51.100.1, 10.0.0.2")
        self.assertEqual(client_address(req, ["10.0.0.1", "10.0.0.2"]), "198.51.100.1")

    def test_networks_and_headers(self):
        """Proxies may be networks, and several X-Forwarded-For headers read as one list."""
        req = request("10.1.2.3", "6.6.6.6", "198.51.100.1, 10.9.9.9")
        self.assertEqual(client_address(req, ["10.0.0.0/8"]), "198.51.100.1")

    def test_only_proxies(self):
        """When every entry is a trusted proxy the left-most one is the client."""
        req = request("10.0.0.1", "10.0.0.3, 10.0.0.2")
        self.assertEqual(client_address(req, TrustedProxies(["10.0.0.0/8"])), "10.0.0.3")

    def test_ports_brackets_and_garbage(self):
        """Ports and brackets are dropped; an unreadable entry stops the walk at the last proxy."""
        req = request("10.0.0.1", "[2001:db8::1]:443")
        self.assertEqual(client_address(req, ["10.0.0.1"]), "2001:db8::1")
        req = request("10.0.0.1", "198.51.100.1:5060")
        self.assertEqual(client_address(req, ["10.0.0.1"]), "198.51.100.1")
        req = request("10.0.0.1", "198.51.100.1, unknown")
        self.assertEqual(client_address(req, ["10.0.0.1"]), "10.0.0.1")

    def test_ipv6_and_mapped(self):
        """IPv6 peers are compared as addresses; IPv4-mapped ones as their IPv4 address."""
        self.assertEqual(client_address(request("::ffff:192.0.2.7"), []), "192.0.2.7")
        req = request("2001:db8::5", "198.51.100.1")
        self.assertEqual(client_address(req, ["2001:db8::/32"]), "198.51.100.1")

    def test_no_address(self):
        """A peer without an IP (a UNIX socket) counts as 127.0.0.1."""
        req = DummyRequest([b""])
        req.client = None
        self.assertEqual(client_address(req, []), "127.0.0.1")


class OriginTests(unittest.TestCase):
    """famd.api.http.origin: the (address, User-Agent) kept with a token or a code."""

    def test_address_and_agent(self):
        """The client's address (behind trusted proxies) and the User-Agent, decoded."""
        req = request("10.0.0.1", "198.51.100.1")
        req.requestHeaders.addRawHeader(b"User-Agent", "Linphone/5.2 (caf\u00e9)".encode("utf-8"))
        self.assertEqual(origin(req, ["10.0.0.1"]), ("198.51.100.1", "Linphone/5.2 (caf\u00e9)"))

    def test_no_agent(self):
        """Without the header the agent is None; an empty header stays ''."""
        self.assertEqual(origin(request("192.0.2.7"), []), ("192.0.2.7", None))
        req = request("192.0.2.7")
        req.requestHeaders.addRawHeader(b"User-Agent", b"")
        self.assertEqual(origin(req, []), ("192.0.2.7", ""))

    def test_clipped_and_replaced(self):
        """A User-Agent is clipped to the column's 255 characters; bytes that are not UTF-8 are replaced."""
        req = request("192.0.2.7")
        req.requestHeaders.addRawHeader(b"User-Agent", b"\xff" + b"a" * 300)
        agent = origin(req, [])[1]
        self.assertEqual((len(agent), agent[:2]), (255, "\ufffda"))
