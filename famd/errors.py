"""
Refusals: how authentication, the flows and the routes say no, without
knowing HTTP.

Each refusal carries a C{message} safe to show to the client and what else
its answer needs (challenges, field errors, a delay).  L{famd.web} holds the
one table that turns them, and the storage's and registrar's
unavailability, into statuses, headers and JSON bodies.
"""

VALIDATION_MESSAGE = "The given data was invalid."
TOO_MANY_MESSAGE = "Too Many Attempts."
NO_ACCOUNT = "No query results for model [App\\Account]."
"""FAM's text for an account that does not exist (Laravel's ModelNotFoundException)."""
ODD_TEXT = "The request holds a character famd does not accept."
"""The 400 of a body or path holding text no database stores (a NUL, a lone UTF-16 surrogate)."""

BLOCKED = "Account blocked"
"""FAM 2.x's text for a blocked account, which authenticates nowhere and is provisioned by no token."""


class Refusal(Exception):
    """A request was refused; C{message} is safe to show to the client."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class BadRequest(Refusal):
    """The request cannot be read (a body that is not a JSON object, a path that is not UTF-8)."""


class Unauthorized(Refusal):
    """
    The caller did not prove who they are.  C{challenges} are the DIGEST
    challenges (str) to answer with, one per stored password.
    """

    def __init__(self, message, challenges=()):
        super().__init__(message)
        self.challenges = tuple(challenges)


class Forbidden(Refusal):
    """The request is understood and refused (expired, wrong code, not an admin)."""


class NotFound(Refusal):
    """No such account, route, pending change, code or device."""


class Gone(Refusal):
    """A code or token that existed has expired (FAM 2.x's 410)."""


class NotAllowed(Refusal):
    """The route exists but not for this method; C{allowed} lists the methods it takes."""

    def __init__(self, message, allowed):
        super().__init__(message)
        self.allowed = tuple(allowed)


class TooLarge(Refusal):
    """The request body is over the configured size."""


class UnsupportedMedia(Refusal):
    """The body is not in the one form the API reads (JSON)."""


class Invalid(Refusal):
    """
    The input breaks a rule; C{errors} maps each field to its messages.

    @ivar laravel: whether the answer carries Laravel's ``message`` beside
        ``errors`` (True, the usual shape); the 2021 wrong-old-password
        answer was ``errors`` alone.
    """

    def __init__(self, errors, laravel=True):
        super().__init__(VALIDATION_MESSAGE)
        self.errors = errors
        self.laravel = laravel


class Conflict(Refusal):
    """
    A uniqueness rule refused a write.  C{field} names the request field
    that clashed ('username', 'phone', 'token').
    """

    def __init__(self, field):
        super().__init__("The %s has already been taken." % (field,))
        self.field = field


class TooMany(Refusal):
    """
    A limit was reached; C{retry_after} is the number of whole seconds (at
    least 1) until it may be tried again.
    """

    def __init__(self, retry_after, message=TOO_MANY_MESSAGE):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(Refusal):
    """A feature is turned off, or the service it needs failed to answer or deliver."""
