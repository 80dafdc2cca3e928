"""
The human check of the request-token page: an ALTCHA proof of work
(https://altcha.org, the ``altcha`` package; no third-party service), and
the page form's CSRF token.

A challenge is signed with the deployment's secret (a setting in storage,
shared by every famd process) and carries the request token it is for and
when it expires, by famd's clock: a solution is accepted for that token
only, before then, and only once, since validating a request token is a
single use (L{famd.interfaces.ISignUpStore.validate_request_token}).  The
challenge is SHA-256 in deterministic mode: the server draws the counter
the browser must find, between half of ``signup.human_check_max_number``
and it, so the work is known (about 100,000 hashes by default: a second or
two in a phone's browser).  The CSRF token is an HMAC of the request token
under the same secret.
"""

import hashlib
import hmac
import secrets

import altcha

from famd.credentials import random_string, same

SECRET_SETTING = "creation_page_secret"
CHALLENGE_LIFETIME = 600
"""Seconds a challenge may be solved in."""
ALGORITHM = "SHA-256"


def csrf_token(secret, request_token):
    """The form's CSRF token for C{request_token}."""
    return hmac.new(secret.encode("utf-8"), b"csrf:" + request_token.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def csrf_valid(secret, request_token, given):
    """Whether C{given} is the CSRF token of C{request_token}."""
    return isinstance(given, str) and same(given, csrf_token(secret, request_token))


def new_secret():
    """A new deployment secret."""
    return random_string(48)


def challenge(secret, request_token, now, max_number):
    """
    A signed challenge (a dict, the JSON the widget reads) for
    C{request_token}, expiring C{CHALLENGE_LIFETIME} seconds after C{now}.
    """
    low = max_number // 2
    counter = low + secrets.randbelow(max_number - low + 1)
    made = altcha.create_challenge(
        ALGORITHM, 1, counter=counter, hmac_secret=secret,
        data={"token": request_token, "expires": int(now.timestamp()) + CHALLENGE_LIFETIME},
    )
    return made.to_dict()


def verified(secret, request_token, payload, now):
    """
    Whether C{payload} (the widget's base64 answer) solves a challenge of
    ours for C{request_token} that has not expired at C{now}.
    """
    if not isinstance(payload, str) or not payload or len(payload) > 4096:
        return False
    try:
        parsed = altcha.Payload.from_base64(payload)
        data = parsed.challenge.parameters.data
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    if not isinstance(data, dict) or not isinstance(data.get("expires"), int):
        return False
    if not same(str(data.get("token")), request_token) or data["expires"] < now.timestamp():
        return False
    if parsed.challenge.parameters.algorithm != ALGORITHM:
        return False
    result = altcha.verify_solution(payload, secret)
    return bool(result.verified)
