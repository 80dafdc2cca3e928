"""
The documentation page (L{famd.api.docs_page}): valid HTML rendered from an
OpenAPI document only, every route with its fields, statuses, examples and
deprecation, a worked DIGEST exchange famd itself verifies, and its serving
at ``GET /api`` under a policy that forbids any script.
"""

import copy
import re

import html5lib
from twisted.internet import defer
from twisted.trial import unittest

from famd import digest
from famd.api import docs_page
from famd.api.docs_page import DocsPage, render
from famd.model import Password
from famd.web import mount
from tests.openapi_fixture import DOCUMENT
from tests.serving import InMemoryClient, serve

EXAMPLES = {
    "POST /api/accounts 200": {
        "request": {"method": "POST", "target": "/api/accounts",
                    "headers": {"From": "sip:admin@sip.example.org", "x-api-key": "KEY"},
                    "body": {"username": "newuser", "password": "s3cret!", "algorithm": "SHA-256"}},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                     "body": {"id": 4, "username": "newuser"}},
    },
}

HTML = "{http://www.w3.org/1999/xhtml}"


def parsed(page):
    """The page parsed strictly by html5lib (a parse error raises)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(page), parser


def check_valid(test, page):
    """The checks an HTML page of famd passes: strict parse, ids, anchors, lang, title, one h1."""
    tree, parser = parsed(page)
    test.assertEqual(parser.errors, [])
    test.assertTrue(page.startswith(b"<!DOCTYPE html>\n"))
    test.assertEqual(tree.get("lang"), "en")
    titles = list(tree.iter(HTML + "title"))
    test.assertEqual(len(titles), 1)
    test.assertTrue(titles[0].text.strip())
    test.assertEqual(len(list(tree.iter(HTML + "h1"))), 1)
    ids = [e.get("id") for e in tree.iter() if e.get("id") is not None]
    test.assertEqual(len(ids), len(set(ids)), "repeated ids")
    for anchor in tree.iter(HTML + "a"):
        href = anchor.get("href", "")
        if href.startswith("#"):
            test.assertIn(href[1:], ids, "a link to a missing id")
    test.assertEqual(list(tree.iter(HTML + "script")), [])
    test.assertEqual([e for e in tree.iter() if any(k.startswith("on") for k in e.keys())], [])
    test.assertEqual([e for e in tree.iter() if "style" in e.keys()], [])
    return tree


def text_of(element):
    return "".join(element.itertext())


class RenderTests(unittest.TestCase):
    """The page rendered from the fixture document."""

    def setUp(self):
        self.page = render(DOCUMENT, EXAMPLES)
        self.tree = check_valid(self, self.page)
        self.text = text_of(self.tree)

    def test_escaped(self):
        """The document's texts are escaped, never markup: no tag comes from the document."""
        self.assertIn(b"famd &lt;test&gt; API", self.page)
        self.assertIn(b"an &lt;em&gt;escaped&lt;/em&gt; tag", self.page)
        self.assertEqual(list(self.tree.iter(HTML + "em")), [
            e for e in self.tree.iter(HTML + "em") if text_of(e) in ("public", "linking", "admin")])

    def test_code_spans(self):
        """Back-quoted spans of a description are code elements, escaped like the rest."""
        parts = docs_page.inline("send `x-api-key` and <b>`From`</b>")
        self.assertEqual([getattr(p, "tagName", None) for p in parts], [None, "code", None, "code", None])
        self.assertEqual(parts[2], " and <b>")

    def test_grouped_by_generation(self):
        """One section per generation, in the document's tag order, each in the contents."""
        headings = [text_of(h) for h in self.tree.iter(HTML + "h2")]
        self.assertEqual(headings, ["Contents", "Authentication", "2021", "both"])
        self.assertIn("The routes of the 2021 specification.", self.text)

    def test_every_operation(self):
        """Every operation has a heading with its method and path."""
        operations = [re.sub(r"\s+", " ", text_of(h)).strip() for h in self.tree.iter(HTML + "h3")
                      if (h.get("id") or "").startswith("op-")]
        self.assertEqual(sorted(operations), sorted([
            "POST /api/tokens deprecated", "GET /api/ping", "POST /api/accounts",
            "GET /api/accounts/{id}"]))

    def test_deprecated_marked(self):
        """A deprecated operation carries the mark, the others do not."""
        marks = [e for e in self.tree.iter(HTML + "span") if e.get("class") == "deprecated"]
        self.assertEqual(len(marks), 1)
        self.assertIn("FAM 2.x no longer serves this form", self.text)

    def test_fields_and_bounds(self):
        """A request body's fields with type, required and bounds (a $ref followed)."""
        rows = {}
        for row in self.tree.iter(HTML + "tr"):
            cells = [text_of(c).strip() for c in row]
            rows[cells[0]] = cells
        self.assertEqual(rows["username"], [
            "username", "string", "yes",
            "at least 3 characters; at most 64 characters; matches ^[a-z0-9_.-]+$. The user part."])
        self.assertEqual(rows["algorithm"][1:], ["string", "yes", 'one of "MD5", "SHA-256".'])
        self.assertEqual(rows["activated"][1:3], ["boolean", "no"])
        self.assertEqual(rows["422"][1], "Invalid fields (Laravel's shape). (Laravel422)")
        self.assertIn("(headers: WWW-Authenticate)", rows["401"][2])

    def test_authentication(self):
        """Public routes say so; the others list the security requirements; schemes are explained."""
        facts = [text_of(d) for d in self.tree.iter(HTML + "dd")]
        self.assertEqual(facts.count("public"), 2)
        self.assertIn("apiKey + from or digest", facts)
        self.assertIn("RFC 7616 DIGEST, qop=auth, MD5 or SHA-256.", facts)

    def test_examples(self):
        """An example of the examples file is shown under its operation and status."""
        figures = list(self.tree.iter(HTML + "figure"))
        self.assertEqual(len(figures), 1)
        shown = text_of(figures[0])
        self.assertIn("POST /api/accounts\nFrom: sip:admin@sip.example.org", shown)
        self.assertIn('"username": "newuser"', shown)

    def test_digest_exchange_verifies(self):
        """The worked answers, for both algorithms, are accepted by famd's DIGEST check."""
        answers = [text_of(c) for c in self.tree.iter(HTML + "code")
                   if "Authorization: Digest" in text_of(c)]
        self.assertEqual(len(answers), 2)
        realm = docs_page.WORKED_DOMAIN
        password = Password(docs_page.WORKED_PASSWORD, "CLRTXT")
        for shown, algorithm in zip(answers, ("MD5", "SHA-256")):
            header = shown.split("Authorization: ", 1)[1]
            params = digest.parse_authorization(header)
            self.assertEqual(params["algorithm"], algorithm)
            self.assertEqual(digest.check(params, "GET", docs_page.WORKED_URI, docs_page.WORKED_USER,
                                          realm, docs_page.WORKED_OPAQUE, [password]), 1)
        self.assertEqual(self.text.count("WWW-Authenticate: Digest"), 2)

    def test_unique_ids_for_clashing_paths(self):
        """Two paths with the same slug still get distinct ids."""
        document = copy.deepcopy(DOCUMENT)
        document["paths"]["/api/accounts/{id}/"] = document["paths"]["/api/accounts/{id}"]
        check_valid(self, render(document, {}))

    def test_committed_examples_load(self):
        """The committed examples file loads and renders with the fixture document."""
        self.assertIsInstance(docs_page.load_examples(), dict)
        check_valid(self, render(DOCUMENT))


class ServedTests(unittest.TestCase):
    """GET /api serves the page, its stylesheet beside it."""

    def setUp(self):
        router = mount(DocsPage(lambda: DOCUMENT, EXAMPLES))
        self.client = InMemoryClient({b"api": router.resource()})

    @defer.inlineCallbacks
    def test_both_spellings(self):
        """/api and /api/ answer the same page, with a policy forbidding scripts."""
        pages = []
        for path in ("/api", "/api/"):
            code, headers, body = yield self.client.request("GET", "http://famd.test" + path)
            self.assertEqual(code, 200)
            self.assertEqual(headers.getRawHeaders(b"content-type"), [b"text/html; charset=utf-8"])
            policy = headers.getRawHeaders(b"content-security-policy")[0]
            self.assertIn(b"default-src 'none'", policy)
            self.assertNotIn(b"script-src", policy)
            pages.append(body)
        self.assertEqual(pages[0], pages[1])
        self.assertEqual(pages[0], render(DOCUMENT, EXAMPLES))

    @defer.inlineCallbacks
    def test_stylesheet(self):
        """The stylesheet the page links to is served as CSS."""
        self.assertIn(b'href="%s"' % (docs_page.STYLESHEET_PATH.encode(),), render(DOCUMENT, {}))
        code, headers, body = yield self.client.request(
            "GET", "http://famd.test" + docs_page.STYLESHEET_PATH)
        self.assertEqual((code, headers.getRawHeaders(b"content-type")),
                         (200, [b"text/css; charset=utf-8"]))
        self.assertIn(b"@media", body)

    @defer.inlineCallbacks
    def test_famd_serves_it(self):
        """famd's /api serves a valid page of its own routes."""
        served = yield serve(self)
        code, headers, body = yield served.request("GET", "", sip=None)
        self.assertEqual(code, 200)
        tree = check_valid(self, body)
        self.assertIn("/api/accounts/me", text_of(tree))
