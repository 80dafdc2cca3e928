"""
A hand-written OpenAPI 3.1 document of a few famd-like routes, and a tiny
Klein application that serves it and answers those routes: what the page
(L{famd.api.docs_page}) and the schemathesis harness are tested against
without famd's generated document.
"""

import json

from klein import Klein

LARAVEL_422 = {
    "type": "object", "required": ["message", "errors"],
    "properties": {"message": {"type": "string"},
                   "errors": {"type": "object", "additionalProperties": {
                       "type": "array", "items": {"type": "string"}}}},
}
ACCOUNT = {
    "type": "object", "required": ["id", "username", "domain", "activated"],
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                   "domain": {"type": "string"}, "activated": {"type": "boolean"}},
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "famd <test> API", "version": "0.1.0",
             "description": "A fixture.\n\nIts second paragraph & an <em>escaped</em> tag."},
    "tags": [{"name": "2021", "description": "The routes of the 2021 specification."},
             {"name": "2.x", "description": "The FAM 2.x routes."},
             {"name": "both", "description": "Routes of both generations."}],
    "security": [{"apiKey": [], "from": []}, {"digest": []}],
    "paths": {
        "/api/ping": {"get": {
            "summary": "Liveness", "tags": ["both"], "security": [],
            "responses": {"200": {"description": "pong", "content": {
                "text/plain": {"schema": {"type": "string", "const": "pong"}}}}}}},
        "/api/accounts": {"post": {
            "summary": "Create an account", "tags": ["both", "tools"],
            "description": "An administrator creates an account.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["username", "password", "algorithm"],
                "properties": {
                    "username": {"type": "string", "minLength": 3, "maxLength": 64,
                                 "pattern": "^[a-z0-9_.-]+$", "description": "The user part."},
                    "password": {"type": "string", "minLength": 6, "maxLength": 255},
                    "algorithm": {"type": "string", "enum": ["MD5", "SHA-256"]},
                    "activated": {"type": "boolean", "default": False},
                }}}}},
            "responses": {"200": {"description": "The account.", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Account"}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "422": {"$ref": "#/components/responses/Laravel422"}}}},
        "/api/accounts/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1}}],
            "get": {
                "summary": "Show an account", "tags": ["both"],
                "responses": {"200": {"description": "The account.", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Account"}}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": {"$ref": "#/components/responses/Message"}}}},
        "/api/tokens": {"post": {
            "summary": "Send a creation token by push", "tags": ["2021"], "deprecated": True,
            "security": [],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["pn_provider", "pn_param", "pn_prid"],
                "properties": {"pn_provider": {"type": "string", "maxLength": 255},
                               "pn_param": {"type": "string", "maxLength": 255},
                               "pn_prid": {"type": "string", "maxLength": 255}}}}}},
            "responses": {"200": {"description": "Sent (no body)."},
                          "422": {"$ref": "#/components/responses/Laravel422"}}}},
    },
    "components": {
        "schemas": {"Account": ACCOUNT, "Laravel422": LARAVEL_422,
                    "Message": {"type": "object", "required": ["message"],
                                "properties": {"message": {"type": "string"}}}},
        "responses": {
            "Laravel422": {"description": "Invalid fields (Laravel's shape).", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Laravel422"}}}},
            "Message": {"description": "Refused.", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}},
            "Unauthorized": {"description": "No or wrong credentials; DIGEST challenges.",
                             "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                             "content": {"application/json": {
                                 "schema": {"$ref": "#/components/schemas/Message"}}}},
        },
        "securitySchemes": {
            "digest": {"type": "http", "scheme": "digest",
                       "description": "RFC 7616 DIGEST, qop=auth, MD5 or SHA-256."},
            "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key",
                       "description": "An account's API key."},
            "from": {"type": "apiKey", "in": "header", "name": "From",
                     "description": "The account's SIP address."},
        },
    },
}

KEY = "standinkey"
ADMIN = "sip:admin@sip.example.org"


class StandIn:
    """Serves L{DOCUMENT} at /api/openapi.json and answers its routes as it says."""

    app = Klein()

    def __init__(self):
        self.accounts = {}

    def _json(self, request, data, status=200):
        request.setResponseCode(status)
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps(data).encode("utf-8")

    def _admin(self, request):
        return (request.getHeader(b"x-api-key") == KEY.encode()
                and request.getHeader(b"from") == ADMIN.encode())

    @app.route("/api/openapi.json", methods=["GET"])
    def document(self, request):
        return self._json(request, DOCUMENT)

    @app.route("/api/ping", methods=["GET"])
    def ping(self, request):
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return b"pong"

    @app.route("/api/accounts", methods=["POST"])
    def create(self, request):
        if not self._admin(request):
            request.setHeader(b"WWW-Authenticate", b'Digest realm="x"')
            return self._json(request, {"message": "Unauthenticated request"}, 401)
        try:
            body = json.loads(request.content.read())
            username, password = body["username"], body["password"]
            assert isinstance(username, str) and 3 <= len(username) <= 64
            assert isinstance(password, str) and 6 <= len(password) <= 255
            assert body["algorithm"] in ("MD5", "SHA-256")
        except Exception:
            return self._json(request, {"message": "The given data was invalid.",
                                        "errors": {"username": ["Invalid."]}}, 422)
        account = {"id": len(self.accounts) + 1, "username": username,
                   "domain": "sip.example.org", "activated": body.get("activated") is True}
        self.accounts[account["id"]] = account
        return self._json(request, account)

    @app.route("/api/accounts/<int:id>", methods=["GET"])
    def show(self, request, id):
        if not self._admin(request):
            request.setHeader(b"WWW-Authenticate", b'Digest realm="x"')
            return self._json(request, {"message": "Unauthenticated request"}, 401)
        if id not in self.accounts:
            return self._json(request, {"message": "No such account."}, 404)
        return self._json(request, self.accounts[id])

    @app.route("/api/tokens", methods=["POST"])
    def tokens(self, request):
        try:
            body = json.loads(request.content.read())
            assert all(isinstance(body[k], str) and len(body[k]) <= 255
                       for k in ("pn_provider", "pn_param", "pn_prid"))
        except Exception:
            return self._json(request, {"message": "The given data was invalid.",
                                        "errors": {"pn_provider": ["Invalid."]}}, 422)
        return b""
