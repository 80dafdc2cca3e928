"""
Who is on the other end of a request: the peer's IP address, or, when the
peer is a proxy the operator trusts (``trusted_proxies`` in famd.yaml), the
address that proxy saw.

A proxy appends the address of its own peer to ``X-Forwarded-For``, so the
list is read from the right: every entry added by a trusted proxy is
skipped, and the first one that is not a trusted proxy is the client.
Entries on its left were written by the client itself and are ignored.
``trusted_proxies`` holds addresses or networks (``10.0.0.0/8``).
"""

import ipaddress

ADDRESS_LENGTH = 39
"""The width of ``accounts.ip_address``."""


def _address(text):
    """An ipaddress object for an X-Forwarded-For entry or a peer, or None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` famd believes."""

    def __init__(self, entries):
        self._networks = []
        for entry in entries:
            try:
                self._networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                continue

    def __contains__(self, address):
        return address is not None and any(
            address.version == network.version and address in network
            for network in self._networks
        )

    def __bool__(self):
        return bool(self._networks)


def _peer(request):
    host = getattr(request.getClientAddress(), "host", None)
    return host if isinstance(host, str) else None


def forwarded_entries(request):
    """Every ``X-Forwarded-For`` entry, in order, over all such headers."""
    entries = []
    for value in request.requestHeaders.getRawHeaders(b"x-forwarded-for") or ():
        text = value.decode("latin-1")
        entries.extend(entry for entry in text.split(",") if entry.strip())
    return entries


def client_address(request, trusted_proxies):
    """
    The client's IP address as text (at most 39 characters).

    @param trusted_proxies: a L{TrustedProxies}, or a sequence of
        addresses and networks.
    """
    if not isinstance(trusted_proxies, TrustedProxies):
        trusted_proxies = TrustedProxies(trusted_proxies)
    peer_text = _peer(request)
    client = _address(peer_text) if peer_text else None
    if client is None:
        return (peer_text or "127.0.0.1")[:ADDRESS_LENGTH]
    if client in trusted_proxies:
        for entry in reversed(forwarded_entries(request)):
            hop = _address(entry)
            if hop is None:
                break
            client = hop
            if hop not in trusted_proxies:
                break
    return str(client)[:ADDRESS_LENGTH]
