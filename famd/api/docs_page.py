"""
The documentation page of the API (``GET /api``), rendered from the OpenAPI
document alone.

L{render} reads nothing but the document it is given (and the examples
recorded from the test suite, L{load_examples}): the routes grouped by
generation, each with its method, path, authentication, request fields and
their bounds, statuses, examples, and a mark on the deprecated ones; the
authentication section shows a worked DIGEST exchange that famd's own
L{famd.digest} computes for both algorithms.  Everything is built with
L{twisted.web.template}, which escapes every text and attribute: the page
holds no script, and its one stylesheet (L{STYLESHEET}) is served by famd
under the page's Content-Security-Policy (L{CSP}).
"""

import json
import re
from importlib import resources

from klein import Klein
from twisted.web.template import Tag, flattenString, tags

from famd import digest
from famd.api.declare import Response, declare
from famd.model import ALGORITHMS

STYLESHEET_PATH = "/api/docs.css"
CSP = (b"default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       b"form-action 'none'; frame-ancestors 'none'")
"""The page's Content-Security-Policy: no script at all, styles from famd only."""

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
GENERATIONS = ("2021", "2.x", "both")
OTHER = "Other routes"

WORKED_USER = "alice"
WORKED_DOMAIN = "sip.example.org"
WORKED_PASSWORD = "wonderland"
WORKED_URI = "/api/accounts/me"
WORKED_NONCE = "Z2V0dGluZy1zdGFydGVkLjE3MDAwMDAwMDA"
WORKED_OPAQUE = "5ccc069c403ebaf9f0171e9517f40e41"
WORKED_CNONCE = "0a4f113b"
"""The worked DIGEST exchange's values: a made-up account, nonce and opaque."""


def load_examples():
    """The committed examples (``famd/api/examples.json``): {"METHOD path status": exchange}."""
    text = resources.files("famd.api").joinpath("examples.json").read_text("utf-8")
    return json.loads(text)


def stylesheet():
    """The page's stylesheet (``famd/api/docs.css``), as bytes."""
    return resources.files("famd.api").joinpath("docs.css").read_bytes()


def render(document, examples=None):
    """
    The HTML page (UTF-8 bytes) of the API that C{document} (an OpenAPI
    3.1 dict) describes, showing C{examples} ({"METHOD path status":
    exchange}, the committed L{load_examples} when None).
    """
    if examples is None:
        examples = load_examples()
    page = _Page(document, examples)
    flattened = []
    flattenString(None, page.html()).addBoth(flattened.append)
    result = flattened[0]
    if not isinstance(result, bytes):  # pure tags flatten at once; anything else is a bug
        result.raiseException()
    return b"<!DOCTYPE html>\n" + result


def slug(text):
    """An id fragment of C{text}: lower-case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def example_key(method, path, status):
    """The key of an exchange in the examples: ``POST /api/accounts 200``."""
    return "%s %s %s" % (method.upper(), path, status)


class _Page:
    """One rendering of the page: the document, its references and the ids given so far."""

    def __init__(self, document, examples):
        self.document = document
        self.examples = examples
        self.ids = set()

    # -------------------------------------------------------------- helpers

    def unique_id(self, text):
        base = slug(text)
        candidate, n = base, 1
        while candidate in self.ids:
            n += 1
            candidate = "%s-%d" % (base, n)
        self.ids.add(candidate)
        return candidate

    def resolve(self, node, seen=()):
        """C{node} with its local ``$ref`` followed (once per reference, no loops)."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                return node
            seen = seen + (ref,)
            target = self.document
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    return node
                target = target[part]
            node = target
        return node

    def operations(self):
        """(method, path, operation) of every operation, in the document's order."""
        for path, item in (self.document.get("paths") or {}).items():
            item = self.resolve(item)
            for method in METHODS:
                if method in item:
                    yield method, path, item[method]

    def generation(self, operation):
        """The group an operation is shown in: its generation, else its first tag."""
        if operation.get("x-famd-generation"):
            return str(operation["x-famd-generation"])
        tags_ = [str(t) for t in operation.get("tags") or ()]
        for tag in tags_:
            for generation in GENERATIONS:
                if tag == generation or tag.lower().endswith(" " + generation.lower()):
                    return tag
        return tags_[0] if tags_ else OTHER

    def tag_descriptions(self):
        return {t.get("name"): t.get("description") for t in self.document.get("tags") or ()
                if isinstance(t, dict)}

    # ---------------------------------------------------------------- page

    def html(self):
        info = self.document.get("info") or {}
        title = "%s %s" % (info.get("title") or "API", info.get("version") or "")
        groups = {}
        for method, path, operation in self.operations():
            groups.setdefault(self.generation(operation), []).append((method, path, operation))
        order = [t.get("name") for t in self.document.get("tags") or () if isinstance(t, dict)]
        names = sorted(groups, key=lambda g: (order.index(g) if g in order else len(order), g))
        group_ids = {name: self.unique_id("group " + name) for name in names}
        self.ids.update(("contents", "authentication", "digest-exchange"))
        sections = [self.group(name, group_ids[name], groups[name]) for name in names]
        contents = tags.nav(**{"aria-labelledby": "contents"})(
            tags.h2("Contents", id="contents"),
            tags.ul(
                tags.li(tags.a("Authentication", href="#authentication")),
                [tags.li(tags.a(name, href="#" + group_ids[name]),
                         " (%d routes)" % (len(groups[name]),)) for name in names],
            ),
        )
        return tags.html(lang="en")(
            tags.head(
                tags.meta(charset="utf-8"),
                tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
                tags.title(title.strip()),
                tags.link(rel="stylesheet", href=STYLESHEET_PATH),
            ),
            tags.body(
                tags.header(tags.h1(title.strip()), self.paragraphs(info.get("description"))),
                contents,
                Tag("main")(self.authentication(), sections)  # a tag twisted's list lacks,
            ),
        )

    def paragraphs(self, text):
        """C{text}'s paragraphs (split on blank lines), `back-quoted` spans as code."""
        if not text:
            return []
        return [tags.p(*inline(part.strip())) for part in str(text).split("\n\n") if part.strip()]

    # ------------------------------------------------------ authentication

    def authentication(self):
        schemes = (self.document.get("components") or {}).get("securitySchemes") or {}
        items = []
        for name, scheme in schemes.items():
            scheme = self.resolve(scheme)
            kind = scheme.get("type", "")
            if kind == "http":
                kind = "HTTP %s" % (scheme.get("scheme", ""),)
            elif kind == "apiKey":
                kind = "header %s" % (scheme.get("name", ""),) if scheme.get("in") == "header" else kind
            items.append(tags.dt(tags.code(name), " (", kind, ")"))
            items.append(tags.dd(self.paragraphs(scheme.get("description")) or "No description."))
        return tags.section(**{"aria-labelledby": "authentication"})(
            tags.h2("Authentication", id="authentication"),
            tags.p("Routes marked ", tags.em("public"), " need nothing. The others name their "
                   "account in the ", tags.code("From"), " header (", tags.code("sip:user@domain"),
                   ") and prove it with that account's API key (", tags.code("x-api-key"),
                   ") or with an HTTP DIGEST answer (RFC 7616, ", tags.code("qop=auth"),
                   ", MD5 or SHA-256); ", tags.em("linking"), " routes take a not yet activated "
                   "account too, ", tags.em("admin"), " routes an administrator."),
            tags.dl(items) if items else [],
            self.digest_exchange(),
        )

    def digest_exchange(self):
        """The worked exchange, computed by L{famd.digest} for each algorithm."""
        sip = "sip:%s@%s" % (WORKED_USER, WORKED_DOMAIN)
        challenges = [digest.challenge(WORKED_DOMAIN, algorithm, WORKED_NONCE, WORKED_OPAQUE)
                      for algorithm in ALGORITHMS]
        first = "\n".join(
            ["GET %s HTTP/1.1" % (WORKED_URI,), "From: %s" % (sip,), "Accept: application/json"])
        refused = "\n".join(
            ["HTTP/1.1 401 Unauthorized", "Content-Type: application/json"]
            + ["WWW-Authenticate: %s" % (c,) for c in challenges]
            + ["", json.dumps({"message": "Unauthenticated request"}, separators=(",", ":"))])
        answers = []
        for algorithm in ALGORITHMS:
            response = digest.client_response(
                algorithm, WORKED_USER, WORKED_DOMAIN, WORKED_PASSWORD, WORKED_NONCE, "00000001",
                WORKED_CNONCE, "GET", WORKED_URI)
            header = digest.authorization(
                WORKED_USER, WORKED_DOMAIN, WORKED_NONCE, WORKED_URI, algorithm, "00000001",
                WORKED_CNONCE, response, WORKED_OPAQUE)
            answers.append(tags.h4("Answer with %s" % (algorithm,)))
            answers.append(tags.pre(tags.code("\n".join([
                "GET %s HTTP/1.1" % (WORKED_URI,), "From: %s" % (sip,),
                "Authorization: %s" % (header,)]))))
        return tags.section(**{"aria-labelledby": "digest-exchange"})(
            tags.h3("A worked DIGEST exchange", id="digest-exchange"),
            tags.p("The account ", tags.code(sip), " with the password ", tags.code(WORKED_PASSWORD),
                   " asks for itself without credentials; famd refuses with one challenge per "
                   "algorithm the account's stored passwords can answer (here both):"),
            tags.pre(tags.code(first)),
            tags.pre(tags.code(refused)),
            tags.p("The client picks a challenge and answers it: HA1 = H(username:realm:password), "
                   "HA2 = H(method:uri), response = H(HA1:nonce:nc:cnonce:qop:HA2), where H is "
                   "the challenge's algorithm and uri the request target exactly as sent. "
                   "The values below were computed by famd's own DIGEST module:"),
            answers,
            tags.p("An accepted answer's response repeats the challenge; the next request "
                   "answers the same nonce with the next count (", tags.code("nc=00000002"),
                   "). A replayed count, or a nonce famd no longer knows, is answered 401 with "
                   "a fresh challenge."),
        )

    # -------------------------------------------------------------- groups

    def group(self, name, group_id, operations):
        description = self.tag_descriptions().get(name)
        return tags.section(**{"aria-labelledby": group_id})(
            tags.h2(name, id=group_id),
            self.paragraphs(description),
            [self.operation(method, path, operation) for method, path, operation in operations],
        )

    def auth_of(self, operation):
        if operation.get("x-famd-auth"):
            return str(operation["x-famd-auth"])
        security = operation.get("security", self.document.get("security"))
        if not security:
            return "public"
        alternatives = []
        for requirement in security:
            alternatives.append(" + ".join(requirement) if requirement else "none")
        return " or ".join(alternatives)

    def operation(self, method, path, operation):
        op_id = self.unique_id("op %s %s" % (method, path))
        deprecated = bool(operation.get("deprecated"))
        heading = tags.h3(id=op_id)(
            tags.span(method.upper(), class_="method"), " ", tags.code(path),
            [" ", tags.span("deprecated", class_="deprecated")] if deprecated else [],
        )
        facts = [
            tags.dt("Authentication"), tags.dd(self.auth_of(operation)),
        ]
        other_tags = [t for t in operation.get("tags") or () if t != self.generation(operation)]
        if other_tags:
            facts += [tags.dt("Tags"), tags.dd(", ".join(str(t) for t in other_tags))]
        if deprecated:
            facts += [tags.dt("Deprecated"),
                      tags.dd("Yes: FAM 2.x no longer serves this form; famd still does.")]
        return tags.article(class_="operation deprecated-operation" if deprecated else "operation")(
            heading,
            tags.p(tags.strong(operation["summary"])) if operation.get("summary") else [],
            self.paragraphs(operation.get("description")),
            tags.dl(class_="facts")(facts),
            self.parameters(operation),
            self.fields(operation),
            self.responses(method, path, operation),
            self.examples_of(method, path, operation),
        )

    # ---------------------------------------------------------- parameters

    def parameters(self, operation):
        rows = []
        for parameter in operation.get("parameters") or ():
            parameter = self.resolve(parameter)
            schema = self.resolve(parameter.get("schema") or {})
            rows.append(tags.tr(
                tags.td(tags.code(parameter.get("name", ""))), tags.td(parameter.get("in", "")),
                tags.td(self.type_of(schema)),
                tags.td("yes" if parameter.get("required") else "no"),
                tags.td(self.bounds(schema), " ", parameter.get("description") or ""),
            ))
        if not rows:
            return []
        return self.table("Parameters", ("name", "in", "type", "required", "bounds and meaning"), rows)

    def fields(self, operation):
        body = self.resolve(operation.get("requestBody") or {})
        content = body.get("content") or {}
        if not content:
            return []
        media, chosen = next(iter(content.items()))
        schema = self.resolve(chosen.get("schema") or {})
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        rows = []
        for name, field in properties.items():
            field = self.resolve(field)
            rows.append(tags.tr(
                tags.td(tags.code(name)), tags.td(self.type_of(field)),
                tags.td("yes" if name in required else "no"),
                tags.td(self.bounds(field), " ", field.get("description") or ""),
            ))
        caption = "Request body (%s%s)" % (media, "" if body.get("required") else ", optional")
        if not rows:
            return tags.p(caption, ": ", self.type_of(schema), ".")
        return self.table(caption, ("field", "type", "required", "bounds and meaning"), rows)

    def table(self, caption, headings, rows):
        return tags.div(class_="scroll")(tags.table(
            tags.caption(caption),
            tags.thead(tags.tr([tags.th(h, scope="col") for h in headings])),
            tags.tbody(rows),
        ))

    def type_of(self, schema):
        schema = self.resolve(schema)
        kind = schema.get("type")
        if isinstance(kind, list):
            text = " or ".join(str(k) for k in kind)
        elif kind:
            text = str(kind)
        elif "anyOf" in schema or "oneOf" in schema:
            text = " or ".join(self.type_of(s) for s in schema.get("anyOf", schema.get("oneOf")))
        elif "const" in schema:
            text = json.dumps(schema["const"])
        else:
            text = "any"
        if schema.get("format"):
            text += " (%s)" % (schema["format"],)
        if kind == "array" and isinstance(schema.get("items"), dict):
            text += " of " + self.type_of(schema["items"])
        return text

    def bounds(self, schema):
        schema = self.resolve(schema)
        said = []
        for key, words in (("minLength", "at least %s characters"),
                           ("maxLength", "at most %s characters"),
                           ("minimum", "at least %s"), ("maximum", "at most %s"),
                           ("exclusiveMinimum", "more than %s"), ("exclusiveMaximum", "less than %s"),
                           ("minItems", "at least %s items"), ("maxItems", "at most %s items"),
                           ("pattern", "matches %s")):
            if key in schema:
                said.append(words % (schema[key],))
        if "enum" in schema:
            said.append("one of " + ", ".join(json.dumps(v) for v in schema["enum"]))
        if "default" in schema:
            said.append("default %s" % (json.dumps(schema["default"]),))
        return ("%s." % ("; ".join(said),)) if said else ""

    # ----------------------------------------------------------- responses

    def responses(self, method, path, operation):
        rows = []
        for status, response in (operation.get("responses") or {}).items():
            ref = response.get("$ref", "") if isinstance(response, dict) else ""
            response = self.resolve(response)
            content = response.get("content") or {}
            shape = []
            for media, body in content.items():
                schema = body.get("schema")
                shape.append("%s: %s" % (media, self.type_of(schema) if schema else "any"))
            headers = ", ".join((response.get("headers") or {}).keys())
            rows.append(tags.tr(
                tags.td(tags.code(str(status))),
                tags.td(response.get("description") or "",
                        [" (", ref.rsplit("/", 1)[-1], ")"] if ref else []),
                tags.td("; ".join(shape) or "no body", [" (headers: ", headers, ")"] if headers else []),
            ))
        if not rows:
            return []
        return self.table("Statuses", ("status", "meaning", "body"), rows)

    def examples_of(self, method, path, operation):
        prefix = example_key(method, path, "")
        statuses = sorted(key[len(prefix):] for key in self.examples if key.startswith(prefix))
        shown = [self.exchange(status, self.examples[prefix + status]) for status in statuses]
        if not shown:
            return []
        return tags.div(class_="examples")(tags.h4("Examples"), shown)

    def exchange(self, status, exchange):
        request, answer = exchange.get("request") or {}, exchange.get("response") or {}
        lines = ["%s %s" % (request.get("method", ""), request.get("target", ""))]
        lines += ["%s: %s" % (k, v) for k, v in (request.get("headers") or {}).items()]
        if request.get("body") is not None:
            lines += ["", _shown(request["body"])]
        answered = ["%s" % (answer.get("status", status),)]
        answered += ["%s: %s" % (k, v) for k, v in (answer.get("headers") or {}).items()]
        if answer.get("body") is not None:
            answered += ["", _shown(answer["body"])]
        return tags.figure(
            tags.figcaption("Answered %s" % (status,)),
            tags.pre(tags.code("\n".join(lines))),
            tags.pre(tags.code("\n".join(answered))),
        )


def _shown(body):
    """A recorded body as shown: JSON indented, text as it is."""
    if isinstance(body, str):
        return body
    return json.dumps(body, indent=2, ensure_ascii=False)


_CODE_SPAN = re.compile(r"`([^`]+)`")


def inline(text):
    """C{text} as template content: its `back-quoted` spans as code elements, the rest as text."""
    parts = _CODE_SPAN.split(text)
    return [tags.code(part) if index % 2 else part for index, part in enumerate(parts) if part]


class DocsPage:
    """
    ``GET /api`` (and ``/api/``): the page; ``GET /api/docs.css``: its stylesheet.

    @param describe: a callable returning the OpenAPI document (called at
        the first request for the page, whose rendering is then kept: the
        routes do not change while famd runs).
    """

    app = Klein()

    def __init__(self, describe, examples=None):
        self._describe = describe
        self._examples = examples
        self._page = None

    @app.route("/", methods=["GET", "HEAD"], strict_slashes=False)  # /api and /api/
    @declare(
        "This documentation",
        """The page you may be reading: every route of both API generations, its fields,
        statuses and examples, and how to authenticate, rendered from famd's OpenAPI
        description (`/api/openapi.json`), with no script.""",
        auth="public", generation="both", users=("a browser",),
        responses={200: Response("The page.", None, media="text/html")},
    )
    def page(self, request):
        if self._page is None:
            self._page = render(self._describe(), self._examples)
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        request.setHeader(b"Content-Security-Policy", CSP)
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Referrer-Policy", b"no-referrer")
        return self._page

    @app.route("/docs.css", methods=["GET", "HEAD"])
    @declare(
        "The documentation's style sheet",
        """The style sheet of the page at `/api`, served by famd itself.""",
        auth="public", generation="both", users=("a browser",),
        responses={200: Response("The style sheet.", None, media="text/css")},
    )
    def css(self, request):
        request.setHeader(b"Content-Type", b"text/css; charset=utf-8")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Cache-Control", b"public, max-age=3600")
        return stylesheet()
