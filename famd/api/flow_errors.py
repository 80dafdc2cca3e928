"""
How the self-service flows' refusals (L{famd.flows}) become HTTP answers.

Routes that call a flow are wrapped with L{refusals_as_http}: the flows
stay free of HTTP, and each refusal gets its status here, once.
"""

import functools

from twisted.internet.defer import maybeDeferred

from famd.api.http import HTTPError, ValidationError
from famd.flows import Context, Forbidden, Invalid, NotFound, Unavailable
from famd.ratelimit import TooManyAttempts

TOO_MANY = "Too Many Attempts."

_STATUSES = ((NotFound, 404), (Forbidden, 403), (Unavailable, 503))


def as_http(failure):
    """An errback: the L{HTTPError} matching a flow's refusal."""
    error = failure.value
    if isinstance(error, Invalid):
        raise ValidationError(error.errors)
    if isinstance(error, TooManyAttempts):
        raise HTTPError(
            429, TOO_MANY, headers=[(b"Retry-After", str(error.retry_after).encode("ascii"))]
        )
    for kind, status in _STATUSES:
        if isinstance(error, kind):
            raise HTTPError(status, error.message)
    return failure


def refusals_as_http(route):
    """Decorate a route so that the flows' refusals become their statuses."""

    @functools.wraps(route)
    def wrapper(*args, **kwargs):
        return maybeDeferred(route, *args, **kwargs).addErrback(as_http)

    return wrapper


def flow_context(api):
    """The L{famd.flows.Context} of an L{famd.api.app.Api}."""
    services = api.services
    return Context(
        config=api.config,
        storage=api.storage,
        now=api.now,
        email=services.get("email"),
        sms=services.get("sms"),
        push=services.get("push"),
    )
