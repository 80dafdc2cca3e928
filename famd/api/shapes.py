"""
FAM's JSON answers as JSON Schema, for the routes' declarations.

One schema per shape L{famd.api.render} (2021) and L{famd.api.render2}
(FAM 2.x) write, and the small bodies of the other routes; the refusals'
shapes are the shared components of L{famd.api.openapi}.  Keys are listed
as required where every answer carries them; extra keys are allowed, as
clients read keys by name.
"""

from famd.api.declare import Response


def nullable(kind):
    return {"type": [kind, "null"]}


def obj(required=(), optional=(), description=""):
    """An object whose C{required} (name, schema) pairs are always present, C{optional} sometimes."""
    schema = {"type": "object", "properties": dict(list(required) + list(optional))}
    if required:
        schema["required"] = [name for name, _ in required]
    if description:
        schema["description"] = description
    return schema


TIME = {"type": ["string", "null"], "description": "UTC, Y-m-d H:i:s; null when unknown."}
STAMP = {"type": ["string", "null"], "description": "A Laravel timestamp, 2021-06-01T10:00:00.000000Z."}
TEXT = nullable("string")
PASSWORDS = {"type": "array", "items": obj([("algorithm", {"type": "string", "enum": ["MD5", "SHA-256"]})])}

ACCOUNT_2021 = obj(
    [("id", {"type": "integer"}), ("username", {"type": "string"}), ("domain", {"type": "string"}),
     ("email", TEXT), ("activated", {"type": "boolean"}), ("ip_address", TEXT), ("user_agent", TEXT),
     ("creation_time", TIME), ("realm", TEXT), ("phone", TEXT), ("confirmation_key_expires", TIME),
     ("email_changed", {"type": ["object", "null"]}), ("activation_expiration", {"type": ["object", "null"]})],
    [("confirmation_key", TEXT), ("passwords", PASSWORDS), ("admin", {"type": ["object", "null"]})],
    description="The 2021 account object: passwords (algorithms only) and admin except in the admin "
                "listing and show; confirmation_key in the admin create and show answers only.",
)
PAGE_2021 = obj(
    [("current_page", {"type": "integer"}), ("data", {"type": "array", "items": ACCOUNT_2021}),
     ("first_page_url", {"type": "string"}), ("from", nullable("integer")),
     ("last_page", {"type": "integer"}), ("last_page_url", {"type": "string"}),
     ("links", {"type": "array", "items": obj([("url", TEXT), ("label", {"type": "string"}),
                                                 ("active", {"type": "boolean"})])}),
     ("next_page_url", TEXT), ("path", {"type": "string"}), ("per_page", {"type": "integer"}),
     ("prev_page_url", TEXT), ("to", nullable("integer")), ("total", {"type": "integer"})],
    description="Laravel's length-aware pagination of 2021 account objects.",
)
INFO = obj([("activated", {"type": "boolean"}), ("realm", TEXT)])
DEVICE = obj([("uuid", {"type": "string"}), ("user_agent", TEXT), ("expires_at", TEXT),
              ("update_time", TEXT)])
DEVICES = {"type": "object", "additionalProperties": DEVICE,
           "description": "The registered devices keyed by uuid ({} when none)."}
PENDING = {"type": ["object", "null"]}
ACCOUNT_2X = obj(
    [("id", {"type": "integer"}), ("username", {"type": "string"}), ("domain", {"type": "string"}),
     ("email", TEXT), ("activated", {"type": "boolean"}), ("ip_address", TEXT), ("user_agent", TEXT),
     ("created_at", STAMP), ("display_name", TEXT), ("dtmf_protocol", TEXT), ("updated_at", STAMP),
     ("blocked", {"type": "boolean"}), ("admin", {"type": "boolean"}), ("phone", TEXT),
     ("provisioning_token", TEXT), ("provisioning_token_expire_at", STAMP),
     ("dictionary", {"type": "object"}), ("sip_uri", {"type": "string"}),
     ("email_change_code", PENDING), ("types", {"type": "array"}), ("actions", {"type": "array"}),
     ("carddav_servers", {"type": "array"})],
    [("passwords", PASSWORDS), ("phone_change_code", PENDING),
     ("call_forwardings", {"type": "array"})],
    description="FAM 2.x's account object.",
)
FRESH_TOKEN = obj([("token", {"type": "string"}), ("ip", TEXT), ("user_agent", TEXT),
                   ("expire_at", STAMP)])
STORED_TOKEN = obj([("token", {"type": "string"}), ("pn_provider", TEXT), ("pn_param", TEXT),
                    ("pn_prid", TEXT), ("used", {"type": "integer", "enum": [0, 1]}),
                    ("account_id", nullable("integer")), ("ip", TEXT), ("user_agent", TEXT),
                    ("expire_at", STAMP)])
AUTH_TOKEN = obj([("token", {"type": "string"}), ("ip", TEXT), ("user_agent", TEXT),
                  ("updated_at", STAMP), ("created_at", STAMP), ("id", {"type": "integer"})])
REQUEST_TOKEN = obj([("token", {"type": "string"}), ("validation_url", {"type": "string"})])
API_KEY = obj([("api_key", {"type": "string"})])
EMAIL_CONFIRMED = obj([("message", {"type": "string"}), ("email", {"type": "string"})])


def constant(body):
    """The schema of an answer that is always C{body}, an object of strings (the route's own constant)."""
    return obj([(key, {"type": "string", "enum": [value]}) for key, value in body.items()])


EMPTY_OBJECT = {"type": "object", "maxProperties": 0}
EMPTY_LIST = {"type": "array", "maxItems": 0}
def wrong_old_password(text):
    """The 2021 answer to a wrong old password (C{text}): errors alone (no message), the text not in a list."""
    return obj([("errors", constant({"old_password": text}))],
               description="The 2021 answer to a wrong old password: errors alone (no message), "
                           "the text not in a list.")

EMPTY_HTML = Response("Done; an empty text/html body, as FAM (a controller returning nothing).",
                      {"type": "string", "maxLength": 0}, media="text/html")
XML = Response("The provisioning document (lpconfig XML).", {"type": "string"},
               media="application/xml")
