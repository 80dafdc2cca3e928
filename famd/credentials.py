"""
Secrets: HA1 hashes, random keys and codes, constant-time comparison.

Passwords are never stored: a ``passwords`` row holds the DIGEST HA1,
H(username:realm:password) in lowercase hex, with H the row's algorithm.
"""

import hashlib
import hmac
import secrets
import string

ALPHANUMERIC = string.ascii_letters + string.digits

_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def digest_hash(algorithm, text):
    """H(text) in lowercase hex for a DIGEST algorithm name."""
    return _HASHES[algorithm](text.encode("utf-8")).hexdigest()


def ha1(username, realm, password, algorithm):
    """The HA1 Flexisip and famd check DIGEST responses against."""
    return digest_hash(algorithm, "%s:%s:%s" % (username, realm, password))


def realm_for(config_realm, domain):
    """The configured realm, or the account's domain when none is configured."""
    return config_realm if config_realm else domain


def random_string(length, alphabet=ALPHANUMERIC):
    """
    A random string from a cryptographic source, each character uniform
    over C{alphabet} (at most 256 characters).  The bytes come from one
    read of the source, not one per character: a byte is kept when it falls
    below the largest multiple of the alphabet's size, so that every
    character stays equally likely.
    """
    size = len(alphabet)
    limit = 256 - 256 % size
    chosen = []
    while len(chosen) < length:
        chosen.extend(alphabet[byte % size] for byte in secrets.token_bytes(length + 8) if byte < limit)
    return "".join(chosen[:length])


def confirmation_key():
    """A 13-character ``[A-Za-z0-9]`` key (e-mail activation, tokens)."""
    return random_string(13)


def digits(length=4):
    """A random numeric code (SMS codes)."""
    return random_string(length, string.digits)


def api_key():
    """A new API key: 40 random characters."""
    return random_string(40)


def same(given, expected):
    """
    Constant-time equality of two secrets (str or bytes); False on None.
    A str is compared as its UTF-8 bytes, a lone surrogate included
    (``surrogatepass``: distinct strings stay distinct, none raises).
    """
    if given is None or expected is None:
        return False
    if isinstance(given, str):
        given = given.encode("utf-8", "surrogatepass")
    if isinstance(expected, str):
        expected = expected.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(given, expected)


def exact(rows, given, at):
    """
    The rows whose C{row[at]} (a column index or key) is exactly C{given},
    every row compared in constant time (L{same}): a database's query by a
    secret may return rows whose text only its collation finds equal
    (MariaDB folds case), and a secret is never compared with C{==}.
    """
    return [row for row in rows if same(given, row[at])]


def first_exact(rows, given, at):
    """The first of L{exact}'s rows, or None."""
    found = exact(rows, given, at)
    return found[0] if found else None
