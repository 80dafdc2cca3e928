"""
What a route says about itself: the one source of famd's API description.

A route's handler carries a L{Declaration}, set by L{declare} placed
directly below ``@app.route(...)`` (above ``inlineCallbacks``): Klein copies
the handler's attributes onto its executor, so the router's endpoints carry
it too, and L{declaration_of} finds it there.  L{famd.api.openapi} builds
the OpenAPI document from the routers' url maps and these declarations; the
request body of a declaration is the same L{famd.api.fields.Body} the route
validates with, so the description and the 422s cannot drift apart.

Response schemas are JSON Schema dicts, or the name of a shared component
(L{COMPONENTS}): ``"Laravel422"``, ``"Message"``, ``"TooMany"`` (429 and
``Retry-After``), ``"Unavailable"`` (503), ``"Unauthorized"`` (401 and
``WWW-Authenticate``).
"""

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple

AUTHS = ("public", "account", "linking", "admin")
"""Who may call a route: anyone, an activated account, an account activated or not, an administrator."""
GENERATIONS = ("2021", "2.x", "both")
COMPONENTS = ("Laravel422", "Message", "TooMany", "Unavailable", "Unauthorized")
"""The shared responses a declaration names instead of a L{Response}."""
ATTRIBUTE = "__famd_declaration__"


@dataclass(frozen=True)
class Response:
    """
    One answer of a route.

    @ivar schema: its body's JSON Schema (a dict), or None for no schema
        (an empty or binary body).
    @ivar media: its Content-Type.
    @ivar headers: (name, description) of the headers it carries.
    """

    description: str
    schema: Optional[Any] = None
    media: str = "application/json"
    headers: Tuple[Tuple[str, str], ...] = ()
    links: Tuple[Tuple[str, str, str], ...] = ()
    """(link name, operationId, path parameter) triples: the operations this
    answer's ``id`` leads to (OpenAPI links, followed by stateful tests)."""


@dataclass(frozen=True)
class Query:
    """A query parameter: its name, what it means, its JSON Schema."""

    name: str
    description: str
    schema: Mapping = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Declaration:
    """Everything a route says about itself besides its method and path (which its rule gives)."""

    summary: str
    description: str
    auth: str
    generation: str
    users: Tuple[str, ...]
    body: Any = None
    query: Tuple[Query, ...] = ()
    responses: Mapping = field(default_factory=dict)
    deprecated: bool = False
    tags: Tuple[str, ...] = ()


def declare(summary, description, auth, generation, users, body=None, query=(),
            responses={}, deprecated=False, tags=()):
    """
    Declare the route whose handler this decorates (see the module's
    docstring for where it goes).  C{users}: who calls it (the README's
    "Two API generations" table); C{responses}: {status: L{Response} or a
    component name}; C{deprecated}: a 2021 form FAM 2.x removed.

    @raise ValueError: an unknown auth, generation or component.
    """
    if auth not in AUTHS:
        raise ValueError("auth %r is not one of %s" % (auth, ", ".join(AUTHS)))
    if generation not in GENERATIONS:
        raise ValueError("generation %r is not one of %s" % (generation, ", ".join(GENERATIONS)))
    for status, response in responses.items():
        if not isinstance(response, Response) and response not in COMPONENTS:
            raise ValueError("response %s: %r is neither a Response nor a component" % (status, response))
    declaration = Declaration(
        summary=summary,
        description="\n\n".join(
            " ".join(part.split()) for part in description.strip().split("\n\n") if part.strip()),
        auth=auth,
        generation=generation,
        users=tuple(users),
        body=body,
        query=tuple(query),
        responses=dict(responses),
        deprecated=deprecated,
        tags=tuple(tags),
    )

    def decorate(handler):
        setattr(handler, ATTRIBUTE, declaration)
        return handler

    return decorate


def declaration_of(endpoint):
    """
    The L{Declaration} of a route's handler, of Klein's executor of it, or
    of L{famd.web.mount}'s wrapper of that executor; None when undeclared.
    """
    seen = 0
    while endpoint is not None and seen < 8:
        found = getattr(endpoint, ATTRIBUTE, None)
        if found is not None:
            return found
        endpoint = (getattr(endpoint, "func", None) or getattr(endpoint, "__wrapped__", None)
                    or getattr(endpoint, "__original__", None))
        seen += 1
    return None
