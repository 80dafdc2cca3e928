"""
The account panel tested in-process: L{serve_panel} serves a seeded famd in
memory (L{tests.serving.serve}: the daemon's site, the test's storage
engine, a L{task.Clock}), and a L{Browser} keeps its cookies and sends each
form's CSRF field back, as a browser does.  Pages are read with html5lib.
"""

import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import html5lib
from twisted.internet import defer

from tests.serving import serve

CSRF = "__csrf_protection__"
HTML = "{http://www.w3.org/1999/xhtml}"


class Page:
    """One answer: status, headers, the HTML text and its parsed tree."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", "replace")
        self._tree = None

    @property
    def tree(self):
        if self._tree is None:
            self._tree = html5lib.parse(self.body)
        return self._tree

    def header(self, name):
        values = self.headers.getRawHeaders(name)
        return values[-1] if values else None

    def csrf(self):
        """The CSRF field's value of the page's first form posting (None without one)."""
        for element in self.tree.iter(HTML + "input"):
            if element.get("name") == CSRF:
                return element.get("value")
        return None

    def title(self):
        """The text of the page's h1."""
        found = self.tree.find(".//%smain/%sh1" % (HTML, HTML))
        return "".join(found.itertext()) if found is not None else None

    def main_text(self):
        """The text of the page's main, spaces squeezed."""
        found = self.tree.find(".//%smain" % (HTML,))
        return re.sub(r"\s+", " ", "".join(found.itertext())).strip() if found is not None else ""


class Browser:
    """
    A client of one served famd that keeps cookies (C{cookies}: name ->
    value, with each Set-Cookie's attributes in C{attributes}) and the
    CSRF field of the last page that had one.
    """

    def __init__(self, served, base="http://famd.test"):
        self.served = served
        self.base = base
        self.cookies = {}
        self.attributes = {}
        self.csrf = None

    @defer.inlineCallbacks
    def request(self, method, path, fields=None, headers=None):
        all_headers = {b"User-Agent": [b"panel-test"]}
        if self.cookies:
            all_headers[b"Cookie"] = [
                "; ".join("%s=%s" % pair for pair in self.cookies.items()).encode("ascii")]
        body = None
        if fields is not None:
            all_headers[b"Content-Type"] = [b"application/x-www-form-urlencoded"]
            body = urlencode(fields).encode("utf-8")
        all_headers.update(headers or {})
        status, answer_headers, content = yield self.served.client.plain_request(
            method, self.base + path, all_headers, body)
        for line in answer_headers.getRawHeaders(b"set-cookie") or ():
            self._keep(line.decode("latin-1"))
        page = Page(status, answer_headers, content)
        token = page.csrf() if content and b"<html" in content[:200].lower() else None
        if token is not None:
            self.csrf = token
        return page

    def _keep(self, line):
        cookie = SimpleCookie()
        cookie.load(line)
        for name, morsel in cookie.items():
            self.attributes[name] = line
            if morsel["max-age"] == "0" or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields=None, csrf=True):
        """POST C{fields} to C{path}, with the last CSRF field seen unless C{csrf} is false."""
        fields = dict(fields or {})
        if csrf and self.csrf is not None:
            fields.setdefault(CSRF, self.csrf)
        return self.request("POST", path, fields)

    @defer.inlineCallbacks
    def log_in(self, identifier="user", password="secret"):
        """Open the login page and log in; fire with the answer to the POST."""
        yield self.get("/login")
        return (yield self.post("/login", {"identifier": identifier, "password": password}))


@defer.inlineCallbacks
def serve_panel(test_case, **kwargs):
    """A seeded famd in memory (L{tests.serving.serve}) and a L{Browser} of it."""
    served = yield serve(test_case, **kwargs)
    return served, Browser(served)
