"""
HTTP DIGEST (RFC 7616, qop=auth) as pure functions.

Parsing an ``Authorization: Digest ...`` header into its parameters,
formatting ``WWW-Authenticate`` challenges the way the 2021 account manager
wrote them, and computing the expected response from a stored HA1.  Nothing
here touches storage, the clock or a request: L{famd.auth} does.
"""

import re

from famd.credentials import digest_hash, ha1, same
from famd.model import ALGORITHMS  # famd challenges with them, in the order a CLRTXT row offers them

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(
    r'\s*(%s)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(%s))\s*(,|$)' % (_TOKEN, _TOKEN), re.S
)
_NC = re.compile(r"^[0-9A-Fa-f]{1,8}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPED = re.compile(r"\\(.)", re.S)


class DigestError(Exception):
    """The Authorization header is not a usable DIGEST answer."""


def parse_authorization(header):
    """
    The parameters of an ``Authorization: Digest ...`` header value.

    @param header: the header value (str).
    @return: a dict of lower-cased parameter name to unquoted value.
    @raise DigestError: not the Digest scheme, or malformed parameters
        (bad quoting, a repeated name, trailing garbage).
    """
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError("not the Digest scheme")
    params = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None:
            raise DigestError("malformed Digest parameters")
        name = match.group(1).lower()
        if name in params:
            raise DigestError("repeated Digest parameter")
        quoted = match.group(2)
        if quoted is None:
            value = match.group(3)
        elif "\\" in quoted:
            value = _ESCAPED.sub(r"\1", quoted)
        else:
            value = quoted
        if _CONTROL.search(value):
            raise DigestError("control character in a Digest parameter")
        params[name] = value
        position = match.end()
        if match.group(4) == "" and position < len(rest):
            raise DigestError("malformed Digest parameters")
    if not params:
        raise DigestError("no Digest parameters")
    return params


def challenge(realm, algorithm, nonce, opaque):
    """One ``WWW-Authenticate`` value, exactly as the 2021 account manager wrote it."""
    return 'Digest realm="%s",qop="auth",algorithm=%s,nonce="%s",opaque="%s"' % (
        _quote(realm),
        algorithm,
        nonce,
        opaque,
    )


def _quote(value):
    return value.replace("\\", "\\\\").replace('"', '\\"')


def offered_algorithms(stored_algorithms):
    """
    The algorithms to challenge with, one per stored password row in row
    order (a CLRTXT row offers MD5 and SHA-256), without repeats.
    """
    offered = []
    for algorithm in stored_algorithms:
        for choice in ALGORITHMS if algorithm == "CLRTXT" else (algorithm,):
            if choice in ALGORITHMS and choice not in offered:
                offered.append(choice)
    return offered


def parse_nc(value):
    """The nonce count (1 to 8 hex digits) as an int; None when malformed."""
    if value is None or not _NC.match(value):
        return None
    return int(value, 16)


def stored_ha1(password, algorithm, username, realm):
    """
    The HA1 for C{algorithm} from one ``passwords`` row, or None when that
    row cannot answer for that algorithm.  A CLRTXT row is hashed here.
    """
    if password.algorithm == algorithm:
        return password.password.lower()
    if password.algorithm == "CLRTXT":
        return ha1(username, realm, password.password, algorithm)
    return None


def expected_response(algorithm, ha1_value, nonce, nc, cnonce, qop, method, uri):
    """The ``response`` a client holding C{ha1_value} computes (qop=auth)."""
    ha2 = digest_hash(algorithm, "%s:%s" % (method, uri))
    return digest_hash(algorithm, ":".join((ha1_value, nonce, nc, cnonce, qop, ha2)))


_REQUIRED = ("username", "realm", "nonce", "uri", "response", "nc", "cnonce", "qop", "opaque")


def check(params, method, uri, username, realm, opaque, passwords):
    """
    Verify a parsed DIGEST answer against the request and the account.

    Every field must match: username, realm, uri (the request target),
    opaque, qop=auth, an MD5 or SHA-256 algorithm (MD5 when absent), a
    well-formed nc, a cnonce, and the response computed from one of the
    stored C{passwords} (L{famd.model.Password}).  The nonce itself is
    checked by the caller, against storage.

    @return: the nonce count as an int when everything matches, else None.
    """
    if any(not params.get(name) for name in _REQUIRED):
        return None
    algorithm = params.get("algorithm", "MD5")
    if algorithm not in ALGORITHMS or params["qop"] != "auth":
        return None
    if params.get("userhash", "false").lower() != "false":
        return None
    if params["username"] != username or params["realm"] != realm or params["uri"] != uri:
        return None
    nc = parse_nc(params["nc"])
    if nc is None or not same(params["opaque"], opaque):
        return None
    matched = False
    for password in passwords:
        secret = stored_ha1(password, algorithm, username, realm)
        if secret is None:
            continue
        expected = expected_response(
            algorithm, secret, params["nonce"], params["nc"], params["cnonce"], "auth", method, uri
        )
        matched = same(params["response"].lower(), expected) or matched
    return nc if matched else None


def client_response(algorithm, username, realm, password, nonce, nc, cnonce, method, uri):
    """
    What an RFC 7616 client sends as ``response`` for a clear password
    (for tests and tools; famd itself never sees clear passwords here).
    """
    return expected_response(
        algorithm, ha1(username, realm, password, algorithm), nonce, nc, cnonce, "auth", method, uri
    )


def authorization(username, realm, nonce, uri, algorithm, nc, cnonce, response, opaque):
    """An ``Authorization`` header value as clients send it (tests and tools)."""
    return (
        'Digest username="%s",realm="%s",nonce="%s",uri="%s",algorithm=%s,qop=auth,'
        'nc=%s,cnonce="%s",response="%s",opaque="%s"'
        % (username, realm, nonce, uri, algorithm, nc, cnonce, response, opaque)
    )
