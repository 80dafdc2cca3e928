"""
The API describes itself: every route is declared, the OpenAPI document
validates, a body's schema agrees with its check, and the document is
served at ``GET /api/openapi.json`` and printed by ``famd openapi``.
"""

import importlib
import json
import pkgutil

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from twisted.internet import defer
from twisted.trial import unittest

import famd.api
from famd.api import fields
from famd.api.declare import declaration_of
from famd.api.openapi import document, routes
from famd.service import build_applications
from famd.testing.daemon import run_famd, write_config
from famd.testing.memory import MemoryStorage
from tests.api_helpers import make_config
from tests.serving import clock_at, components, serve

CONFIG = "sip_domain: sip.example.org\nstorage: {backend: sqlite, path: openapi.sqlite}\n"
ROUTE_MODULES = ["famd.provisioning.web"] + [
    "famd.api." + info.name for info in pkgutil.iter_modules(famd.api.__path__)]
CANDIDATES = [
    "alice1", "abcdefghijklm", "1234", "+33612345678", "a@example.org", "2030-01-01 00:00:00",
    "sip.example.org", "fcm", "SHA-256", "sipinfo", True, None,
]
"""Values tried, in order, for a field's minimal valid example: the first its schema takes."""
VIOLATIONS = ["ab", "a b", "-abc", "+33612345678", "nope", "!", "a" * 300, "1", "", 12]
"""Values tried against each field: those its schema refuses must get a 422 from its check."""


def applications(config=None):
    """The /api and /provisioning routers, built as the daemon builds them."""
    config = config or make_config()
    built, _ = build_applications(config, components(MemoryStorage(), clock_at()))
    return built, config


def route_classes():
    """Every Klein route class of famd's /api and /provisioning modules."""
    for name in ROUTE_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == name and hasattr(value, "app"):
                yield value


def declared_bodies():
    """(operation, Body) of every declaration with a request body."""
    built, _ = applications()
    for prefix, rule, method, endpoint, declaration in routes(built):
        if declaration is not None and declaration.body is not None:
            yield "%s %s%s" % (method, prefix, rule.rule), declaration.body


def judged(field):
    """Whether the route checks this field itself (not a flow, which the base L{fields.Field} leaves it to)."""
    return type(field) is not fields.Field


class RoutesDeclaredTests(unittest.TestCase):
    """Klein's routing maps and the declarations match one for one."""

    def test_every_route_declared(self):
        """Every rule of the /api and /provisioning routers has a declaration."""
        built, _ = applications()
        missing = ["%s %s%s" % (method, prefix, rule.rule)
                   for prefix, rule, method, _, declaration in routes(built) if declaration is None]
        self.assertEqual(missing, [])
        self.assertGreater(len(list(routes(built))), 45)

    def test_every_declaration_routed(self):
        """Every declaration in a route module is on a handler the mounted routers serve."""
        built, _ = applications()
        mounted = {id(declaration_of(router.endpoints[rule.endpoint]))
                   for router in built.values() for rule in router.url_map.iter_rules()}
        found = []
        for cls in route_classes():
            for name, value in vars(cls).items():
                declaration = declaration_of(value) if callable(value) else None
                if declaration is not None and id(declaration) not in mounted:
                    found.append("%s.%s" % (cls.__name__, name))
        self.assertEqual(found, [])
        self.assertTrue(any(True for _ in route_classes()))


class DocumentTests(unittest.TestCase):
    """The document is valid OpenAPI 3.1 and says what the brief asks."""

    def test_validates(self):
        """openapi-spec-validator accepts the document."""
        built, config = applications()
        validate(document(built, config))

    def test_shape(self):
        """Paths in OpenAPI form, typed path parameters, both security schemes, shared components."""
        built, config = applications()
        described = document(built, config)
        self.assertEqual(described["openapi"], "3.1.0")
        self.assertEqual(described["info"]["version"], famd.__version__)
        show = described["paths"]["/api/accounts/{account_id}"]
        self.assertEqual(show["get"]["parameters"][0]["schema"]["type"], "integer")
        self.assertIn("put", show)
        info = described["paths"]["/api/accounts/{sip}/info"]["get"]
        self.assertEqual(info["parameters"][0]["schema"], {"type": "string"})
        self.assertTrue(info["deprecated"])
        self.assertEqual(info["security"], [])
        schemes = described["components"]["securitySchemes"]
        self.assertEqual((schemes["digest"]["type"], schemes["digest"]["scheme"]), ("http", "digest"))
        self.assertIn("RFC 7616", schemes["digest"]["description"])
        self.assertIn("From", schemes["digest"]["description"])
        self.assertEqual((schemes["apiKey"]["in"], schemes["apiKey"]["name"]), ("header", "x-api-key"))
        responses = described["components"]["responses"]
        self.assertIn("Retry-After", responses["TooMany"]["headers"])
        self.assertIn("WWW-Authenticate", responses["Unauthorized"]["headers"])
        self.assertIn("/provisioning", described["paths"])
        self.assertIn("/api/openapi.json", described["paths"])
        wrong_old = described["paths"]["/api/accounts/me/password"]["post"]["responses"]["422"]
        self.assertIn("errors alone", wrong_old["description"])

    def test_tags(self):
        """Every operation is tagged by generation and by its callers."""
        built, config = applications()
        described = document(built, config)
        for path, item in described["paths"].items():
            for method, op in item.items():
                self.assertIn(op["tags"][0], ("2021", "FAM 2.x", "2021 and FAM 2.x"), (path, method))
                self.assertTrue(op["x-famd-users"], (path, method))
                self.assertEqual(op["tags"][1:len(op["x-famd-users"]) + 1], op["x-famd-users"])


class BodySchemaTests(unittest.TestCase):
    """Each declared body's JSON Schema and its check agree."""

    def test_minimal_example_passes(self):
        """A value of each field that its schema takes passes that field's check."""
        for operation, body in declared_bodies():
            example = {}
            for field in body.fields:
                validator = Draft202012Validator(field.schema())
                accepted = [value for value in CANDIDATES if validator.is_valid(value)]
                if accepted:
                    example[field.name] = accepted[0]
            Draft202012Validator(body.schema()).validate(example)
            # A Rule's verdict needs storage (a stored token): its schema only describes it.
            plain = [field.name for field in body.fields if not isinstance(field, fields.Rule)]
            _, errors = body.check(example, only=plain, default_domain="sip.example.org")
            self.assertEqual(errors.fields, {}, (operation, example))

    def test_refused_by_schema_refused_by_check(self):
        """A value a field's schema refuses (length, pattern, enum, type) is a 422 of its check."""
        tried = 0
        for operation, body in declared_bodies():
            for field in body.fields:
                if not judged(field):
                    continue
                validator = Draft202012Validator(field.schema())
                for value in VIOLATIONS:
                    if validator.is_valid(value) or (value == "" and not field.required):
                        continue
                    errors = body.check({field.name: value}, only=(field.name,),
                                        stored=None, context=None)[1]
                    self.assertIn(field.name, errors.fields, (operation, field.name, value))
                    tried += 1
        self.assertGreater(tried, 100)

    def test_bounds_written_once(self):
        """The schema reads the bounds the check uses: the password's minimum, the 2.x providers."""
        from famd.api import signup2, validation
        from famd.api.admin_accounts import NEW_ACCOUNT
        self.assertEqual(NEW_ACCOUNT.field("password").schema()["minLength"], validation.PASSWORD_LENGTH)
        self.assertEqual(signup2.DEVICE.field("pn_provider").schema()["enum"], list(signup2.PN_PROVIDERS))


class ServedTests(unittest.TestCase):
    """The document is served and printed."""

    @defer.inlineCallbacks
    def test_served(self):
        """GET /api/openapi.json answers the document as application/json, without credentials."""
        served = yield serve(self)
        status, headers, body = yield served.client.request(
            "GET", "http://famd.test/api/openapi.json")
        self.assertEqual(status, 200)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        described = json.loads(body)
        validate(described)
        built, _ = applications(served.config)
        self.assertEqual(described, json.loads(json.dumps(document(built, served.config))))

    @defer.inlineCallbacks
    def test_cli(self):
        """The installed `famd openapi` prints the document as JSON."""
        out, err, code = yield run_famd(write_config(CONFIG), "openapi")
        self.assertEqual(code, 0, err)
        described = json.loads(out)
        validate(described)
        self.assertIn("/api/accounts/me", described["paths"])


class ShapesFollowRenderTests(unittest.TestCase):
    """The answers' schemas name exactly the keys the renderers write: a key added to one is missed by none."""

    @defer.inlineCallbacks
    def test_account_objects(self):
        """Every key of a rendered account object is a property of its schema, and every property is rendered."""
        from famd.api import render, render2, shapes

        served = yield serve(self)
        account = yield served.storage.get_account(1)
        full = render.account(served.config, account, confirmation_key=True)
        self.assertEqual(set(full), set(shapes.ACCOUNT_2021["properties"]))
        self.assertTrue(set(shapes.ACCOUNT_2021["required"]) <= set(full))
        admin = render2.account(account, admin_view=True)
        # The search routes add call_forwardings (admin_accounts2._found).
        self.assertEqual(set(admin) | {"call_forwardings"}, set(shapes.ACCOUNT_2X["properties"]))
        self.assertTrue(set(shapes.ACCOUNT_2X["required"]) <= set(render2.account(account)))
