"""
DIGEST nonces that need no state to issue.

A nonce is the time of its challenge, random bytes and an HMAC of both and
of the account's id under a key kept once in ``famd_settings``: every famd
process sharing the database mints and recognises the same nonces, and a
challenge writes nothing.  Only a used nonce gets a row (see
L{famd.interfaces.INonceStore.use_nonce}), which refuses replays and stale
counts; a nonce without one is good only for its first use, within
C{first_use_window} seconds of its challenge.
"""

import hashlib
import hmac
from datetime import datetime, timezone

from famd.credentials import random_string

KEY_SETTING = "digest_nonce_key"
KEY_LENGTH = 64
_TIME = 8
_RANDOM = 16
_MAC = 32
LENGTH = _TIME + _RANDOM + _MAC
SKEW = 5
"""Seconds a nonce's time may be ahead of this process's clock (other processes' clocks)."""


def new_key():
    """A fresh HMAC key (for L{KEY_SETTING})."""
    return random_string(KEY_LENGTH)


def _mac(key, account_id, stamp):
    message = ("%d:%s" % (account_id, stamp)).encode("ascii")
    return hmac.new(key.encode("ascii"), message, hashlib.sha256).hexdigest()[:_MAC]


def mint(key, account_id, now):
    """A new nonce for the account, challenged at C{now} (an aware datetime)."""
    stamp = "%08x%s" % (int(now.timestamp()) & 0xFFFFFFFF, random_string(_RANDOM))
    return stamp + _mac(key, account_id, stamp)


def issued_at(key, account_id, nonce):
    """
    The aware UTC time famd issued C{nonce} for the account at, or None
    when famd did not issue it (another format, another account, a forged
    HMAC).
    """
    if len(nonce) != LENGTH or not nonce.isascii():
        return None
    stamp, mac = nonce[: _TIME + _RANDOM], nonce[_TIME + _RANDOM :]
    if not hmac.compare_digest(mac, _mac(key, account_id, stamp)):
        return None
    try:
        seconds = int(stamp[:_TIME], 16)
    except ValueError:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc)


def first_use(key, account_id, nonce, now, window):
    """
    When C{nonce} may still be used a first time (famd issued it for the
    account no more than C{window} seconds before C{now}): its issue time;
    else None.
    """
    issued = issued_at(key, account_id, nonce)
    if issued is None:
        return None
    age = now.timestamp() - issued.timestamp()
    return issued if -SKEW <= age <= window else None
