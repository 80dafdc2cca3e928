"""
famd's OpenAPI 3.1 document, built from what the routes declare.

L{document} walks the url map of each application's router (the routers
L{famd.web.mount} returns) and the L{famd.api.declare.Declaration} of each
endpoint: the path and method come from the routing rule, everything else
from the declaration, the request body from the same L{famd.api.fields.Body}
the route validates with.  Nothing here knows a particular route.
"""

import re

import famd
from famd.api.declare import Response, declaration_of
from famd.errors import VALIDATION_MESSAGE

PARAMETER = re.compile(r"<(?:(?P<converter>[A-Za-z_]\w*)(?:\([^)]*\))?:)?(?P<name>[A-Za-z_]\w*)>")
"""A werkzeug rule's variable: ``<int:account_id>``, ``<string:sip>``, ``<key>``."""
CONVERTERS = {"int": {"type": "integer", "minimum": 0}, "string": {"type": "string"},
              "default": {"type": "string"}, "path": {"type": "string"}}
SKIPPED_METHODS = ("HEAD", "OPTIONS")
"""Methods werkzeug adds to a rule (HEAD beside GET): not operations of their own."""
GENERATION_TAGS = {"2021": "2021", "2.x": "FAM 2.x", "both": "2021 and FAM 2.x"}
"""The tag of each generation."""

DIGEST = (
    "HTTP DIGEST (RFC 7616) with MD5 and SHA-256: famd answers 401 with one challenge per "
    "algorithm of the account's stored passwords (realm, nonce, opaque, qop=auth), and the "
    "client repeats the request with its Authorization. Every authenticated request also "
    "carries a From header naming the account (sip:user@domain), as the Linphone apps send it; "
    "it tells famd which account's passwords to challenge with."
)
API_KEY = (
    "The account's API key in the x-api-key header (from `famd api-key`, `famd create-admin` "
    "or GET /api/accounts/me/api_key), with the From header naming that key's account: "
    "without From the answer is 422, a From naming another account 401, one naming no "
    "account 404. FAM 2.0 administrators may use either scheme."
)
MESSAGE = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
LARAVEL_422 = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "enum": [VALIDATION_MESSAGE]},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["message", "errors"],
    "description": "Laravel's validation answer: every failing field's messages, in rule order.",
}


FROM = {
    "name": "From", "in": "header", "required": True,
    "description": "The account the request is for, as a SIP address (sip:user@domain), as the "
                   "Linphone apps send it: a missing or malformed From is 422.",
    "schema": {"type": "string", "pattern": "^sip:", "examples": ["sip:alice@sip.example.org"]},
}
"""The From header every authenticated operation takes (DIGEST or API key alike)."""


def _refusal(description, headers=()):
    response = {"description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}}
    if headers:
        response["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                               for name, text in headers}
    return response


def components():
    """The shared schemas, responses and security schemes."""
    return {
        "schemas": {"Message": MESSAGE, "Laravel422": LARAVEL_422},
        "responses": {
            "Laravel422": {
                "description": "A field breaks a rule (Laravel's 422).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Laravel422"}}},
            },
            "Message": _refusal("Refused; the message says why."),
            "TooMany": _refusal(
                "A limit was reached (wrong secrets of the address, anonymous writes, pushes, e-mails).",
                [("Retry-After", "Whole seconds until it may be tried again.")]),
            "Unavailable": _refusal(
                "The account database, the registrar or a notifier (push, e-mail, SMS) is "
                "unavailable or turned off."),
            "Unauthorized": _refusal(
                "Not authenticated: the WWW-Authenticate headers carry one DIGEST challenge per "
                "stored password algorithm.",
                [("WWW-Authenticate", "Digest realm=..., nonce=..., algorithm=MD5 or SHA-256")]),
        },
        "securitySchemes": {
            "digest": {"type": "http", "scheme": "digest", "description": DIGEST},
            "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": API_KEY},
        },
    }


def openapi_path(prefix, rule):
    """(OpenAPI path, path parameters) of a werkzeug rule under C{prefix}."""
    parameters = []

    def variable(match):
        schema = dict(CONVERTERS.get(match.group("converter") or "default", {"type": "string"}))
        parameters.append({"name": match.group("name"), "in": "path", "required": True, "schema": schema})
        return "{%s}" % (match.group("name"),)

    path = PARAMETER.sub(variable, rule)
    return (prefix if path == "/" else prefix + path), parameters


def _response(response):
    if isinstance(response, str):
        return {"$ref": "#/components/responses/%s" % (response,)}
    built = {"description": response.description}
    media = {}
    if response.schema is not None:
        media["schema"] = response.schema
    built["content"] = {response.media: media}
    if response.headers:
        built["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                            for name, text in response.headers}
    if response.links:
        built["links"] = {
            name: {"operationId": operation_id, "parameters": {parameter: "$response.body#/id"}}
            for name, operation_id, parameter in response.links
        }
    return built


def operation(declaration, endpoint, parameters):
    """The OpenAPI operation of one declared route."""
    tags = [GENERATION_TAGS[declaration.generation]] + list(declaration.users) + list(declaration.tags)
    result = {
        "operationId": endpoint.replace(".", "_"),
        "summary": declaration.summary,
        "description": declaration.description,
        "tags": tags,
        "x-famd-generation": declaration.generation,
        "x-famd-auth": declaration.auth,
        "x-famd-users": list(declaration.users),
    }
    query = [{"name": q.name, "in": "query", "required": False, "description": q.description,
              "schema": dict(q.schema)} for q in declaration.query]
    sender = []
    if declaration.auth != "public":
        sender = [FROM]
    if parameters or query or sender:
        result["parameters"] = list(parameters) + query + sender
    if declaration.auth == "public":
        result["security"] = []
    else:
        result["security"] = [{"digest": []}, {"apiKey": []}]
    responses = {}
    body = declaration.body
    if body is not None:
        schema = body.schema()
        result["requestBody"] = {"required": bool(schema.get("required")),
                                 "content": {"application/json": {"schema": schema}}}
        responses["415"] = Response("A form body: the API reads JSON only.", {"$ref": "#/components/schemas/Message"})
    if body is not None:
        responses["400"] = Response(
            "The body is not a JSON object, or the body or path holds a NUL or a lone surrogate.",
            {"$ref": "#/components/schemas/Message"})
    elif parameters:
        responses["400"] = Response(
            "The path holds a NUL, or is not UTF-8 once %-decoded.",
            {"$ref": "#/components/schemas/Message"})
    if declaration.auth != "public":
        responses["401"] = "Unauthorized"
        responses["422"] = "Laravel422"
        responses["404"] = Response(
            "The From header names no account (FAM answers 404, not 401), or what the path names does not exist.",
            {"$ref": "#/components/schemas/Message"})
    responses["503"] = "Unavailable"
    for status, response in declaration.responses.items():
        responses[str(status)] = response
    result["responses"] = {status: _response(responses[status]) for status in sorted(responses)}
    if declaration.deprecated:
        result["deprecated"] = True
    return result


def routes(applications):
    """(prefix, rule, method, endpoint name, declaration or None) of every operation of C{applications}."""
    for prefix, router in applications.items():
        for rule in router.url_map.iter_rules():
            declaration = declaration_of(router.endpoints[rule.endpoint])
            for method in sorted(rule.methods or ("GET",)):
                if method not in SKIPPED_METHODS:
                    yield prefix, rule, method, rule.endpoint, declaration


def document(applications, config):
    """
    The OpenAPI 3.1 document of C{applications} ({prefix: Klein router},
    e.g. C{{"/api": ..., "/provisioning": ...}}) served at C{config.public_url}.

    @raise ValueError: a route has no declaration.
    """
    paths, tags = {}, {}
    for prefix, rule, method, endpoint, declaration in routes(applications):
        if declaration is None:
            raise ValueError("%s %s%s has no declaration" % (method, prefix, rule.rule))
        path, parameters = openapi_path(prefix, rule.rule)
        paths.setdefault(path, {})[method.lower()] = operation(declaration, endpoint, parameters)
        tags.setdefault(GENERATION_TAGS[declaration.generation], "generation")
        for user in declaration.users:
            tags.setdefault(user, "caller")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "famd",
            "version": famd.__version__,
            "summary": "Flexisip account manager daemon: the FAM REST API and Linphone provisioning.",
            "description": (
                "famd serves every route of the 2021 Flexisip account manager API and the FAM 2.x "
                "routes Linphone apps and tools call, on the same accounts, tokens and codes, and "
                "the provisioning documents Linphone reads. Deprecated operations are the 2021 "
                "forms FAM 2.x removed: they work with famd, not with FAM 2.x. JSON answers have "
                "Content-Type application/json exactly; bodies sent with GET and DELETE are ignored."
            ),
        },
        "servers": [{"url": config.public_url}],
        "tags": [{"name": name, "description": _tag_description(name, kind)}
                 for name, kind in sorted(tags.items(), key=lambda item: (item[1] != "generation", item[0]))],
        "paths": dict(sorted(paths.items())),
        "components": components(),
    }


def _tag_description(name, kind):
    if kind == "generation":
        return "Routes of the %s API." % (name,)
    return "Routes called by %s." % (name,)
