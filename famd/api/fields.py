"""
Request bodies as declarations: each field knows its check and its JSON Schema.

A L{Field} kind calls one helper of L{famd.api.validation} with the bounds
it holds (lengths, pattern, choices), and builds its JSON Schema from the
same bounds, so a bound is written once.  A L{Body} is a route's fields in
the order its rules run: the route checks a request with it (the 2021
texts, in the 2021 order) and declares it (L{famd.api.declare}), so the
description and the 422s come from one place.

A check takes the decoded JSON object, the L{validation.Errors} to add to,
and the route's context: C{taken} (the unique fields storage found taken),
C{stored}, C{expired}, C{current} and C{default_domain} where a rule needs
them.  A JSON Schema says what the check takes; where a rule needs storage
(uniqueness, a token's state) or a value the schema cannot hold (a date
that exists), the schema is looser and its description says so.
"""

from famd.api import validation
from famd.api.dtmf import DTMF_PROTOCOLS, dtmf_protocol
from famd.errors import Invalid
from famd.model import ALGORITHMS


def ecma(pattern):
    """The ECMA-262 form of a Python regex (compiled) JSON Schema's ``pattern`` takes: ``\\Z`` is ``$``."""
    return pattern.pattern.replace("\\Z", "$")


def whole(pattern):
    """The ECMA-262 form of a regex a rule matches whole (C{fullmatch})."""
    return "^(?:%s)$" % (pattern.pattern,)


def _nullable(schema):
    """C{schema} also taking null (an optional field sent as null counts as absent)."""
    schema = dict(schema)
    if "enum" in schema:
        schema["enum"] = list(schema["enum"]) + [None]
    kind = schema.get("type")
    if kind is not None:
        schema["type"] = [kind, "null"]
    return schema


class Field:
    """
    One field of a body.  The base kind has no rule of its own: the route
    hands the value to a flow, which judges it (its schema only describes).

    @ivar name: the JSON key.
    @ivar key: the key of its clean value in L{Body.check}'s values (None:
        no value kept).
    @ivar required: whether the schema lists it as required.
    """

    required = True

    def __init__(self, name, description="", key=None, schema=None, required=None):
        self.name = name
        self.description = description
        self.key = name if key is None else key
        self._schema = schema or {"type": "string"}
        if required is not None:
            self.required = required

    def check(self, data, errors, context):
        return data.get(self.name)

    def base_schema(self):
        return dict(self._schema)

    def schema(self):
        schema = self.base_schema()
        if self.description:
            schema["description"] = self.description
        return schema


class Text(Field):
    """
    Required text within length bounds (L{validation.required_text});
    C{optional}: a missing value (absent, null, blank) is None, not an error.
    """

    def __init__(self, name, minimum=None, maximum=None, optional=False, **options):
        super().__init__(name, **options)
        self.minimum = minimum
        self.maximum = maximum
        self.optional = optional
        if optional:
            self.required = False

    def check(self, data, errors, context):
        if self.optional and validation.missing(data.get(self.name)):
            return None
        return validation.required_text(data, self.name, errors, self.minimum, self.maximum)

    def base_schema(self):
        # Laravel's ``required``: not blank either (some character not a space).
        schema = {"type": "string", "minLength": max(1, self.minimum or 0), "pattern": "\\S"}
        if self.maximum is not None:
            schema["maxLength"] = self.maximum
        return _nullable(schema) if self.optional else schema


class OptionalText(Field):
    """Optional text of at most C{maximum} characters, written as sent (L{validation.optional_text})."""

    required = False

    def __init__(self, name, maximum=255, **options):
        super().__init__(name, **options)
        self.maximum = maximum

    def check(self, data, errors, context):
        return validation.optional_text(data, self.name, errors, self.maximum)

    def base_schema(self):
        return {"type": ["string", "null"], "maxLength": self.maximum}


class Username(Field):
    """
    The ``username`` (L{validation.username}): taken when C{context} says so;
    C{phone_shaped} False: not an E.164 number; C{keeps_current}: the
    account's current name (C{context['current']}) passes as it is.
    """

    def __init__(self, phone_shaped=True, keeps_current=False, **options):
        options.setdefault("description", "A SIP user part, unique on the domain.")
        super().__init__("username", **options)
        self.phone_shaped = phone_shaped
        self.keeps_current = keeps_current

    def check(self, data, errors, context):
        current = context.get("current")
        if self.keeps_current and current is not None and data.get("username") == current:
            return current
        return validation.username(data, errors, context.get("taken", ()), self.phone_shaped)

    def base_schema(self):
        minimum, maximum = validation.USERNAME_LENGTH
        schema = {"type": "string", "minLength": minimum, "maxLength": maximum,
                  "pattern": ecma(validation.SIP_USER)}
        if not self.phone_shaped:
            schema["not"] = {"pattern": ecma(validation.E164)}
        return schema


class Algorithm(Field):
    """
    The password ``algorithm`` (L{validation.algorithm}); C{default} makes it
    optional: absent when null (C{absent="null"}) or also when blank
    (C{absent="missing"}).
    """

    def __init__(self, default=None, absent="null", **options):
        options.setdefault("description", "How the password is hashed.")
        super().__init__("algorithm", **options)
        self.default = default
        self.absent = absent
        if default is not None:
            self.required = False

    def check(self, data, errors, context):
        value = data.get("algorithm")
        if self.default is not None:
            if value is None or (self.absent == "missing" and validation.missing(value)):
                return self.default
        return validation.algorithm(data, errors)

    def base_schema(self):
        schema = {"type": "string", "enum": list(ALGORITHMS)}
        if self.default is not None:
            schema = _nullable(schema)
            schema["default"] = self.default
        return schema


class Email(Field):
    """An e-mail address (L{validation.email}); optional unless C{required}."""

    def __init__(self, required=False, **options):
        super().__init__("email", required=required, **options)

    def check(self, data, errors, context):
        if self.required and validation.missing(data.get("email")):
            errors.add("email", "The email field is required.")
            return None
        return validation.email(data, errors)

    def base_schema(self):
        schema = {"type": "string", "maxLength": validation.EMAIL_LENGTH,
                  "pattern": ecma(validation.EMAIL)}
        return schema if self.required else _nullable(schema)


class Phone(Field):
    """An E.164 number (L{validation.phone}), taken when C{context} says so; optional unless C{required}."""

    def __init__(self, required=False, **options):
        options.setdefault("description", "An E.164 number: + then up to 15 digits.")
        super().__init__("phone", required=required, **options)

    def check(self, data, errors, context):
        if self.required and validation.missing(data.get("phone")):
            errors.add("phone", "The phone field is required.")
            return None
        return validation.phone(data, errors, context.get("taken", ()))

    def base_schema(self):
        schema = {"type": "string", "pattern": ecma(validation.E164)}
        return schema if self.required else _nullable(schema)


class Boolean(Field):
    """
    An optional JSON boolean: False when absent (L{validation.boolean}), or
    with C{keep_null} None, nothing to change (L{validation.nullable_boolean}).
    """

    required = False

    def __init__(self, name, keep_null=False, **options):
        super().__init__(name, **options)
        self.keep_null = keep_null

    def check(self, data, errors, context):
        if self.keep_null:
            return validation.nullable_boolean(data, self.name, errors)
        return validation.boolean(data, self.name, errors)

    def base_schema(self):
        return {"type": ["boolean", "null"]}


class DateTime(Field):
    """An optional UTC time written ``Y-m-d H:i:s`` (L{validation.datetime_field})."""

    required = False

    def check(self, data, errors, context):
        return validation.datetime_field(data, self.name, errors)

    def base_schema(self):
        return {"type": ["string", "null"], "pattern": ecma(validation.DATETIME)}


class Domain(Field):
    """The optional ``domain`` (L{validation.domain}): C{context['default_domain']} when absent."""

    required = False

    def __init__(self, **options):
        options.setdefault("description", "A DNS name; the configured SIP domain when absent.")
        super().__init__("domain", **options)

    def check(self, data, errors, context):
        return validation.domain(data, context.get("default_domain"), errors)

    def base_schema(self):
        return {"type": ["string", "null"], "minLength": validation.DOMAIN_LENGTH[0],
                "maxLength": validation.DOMAIN_LENGTH[1],
                "pattern": ecma(validation.DOMAIN)}


class DeviceText(Field):
    """A 2021 push field (L{validation.device_text}): printable, at most C{maximum}, no leading dash."""

    def __init__(self, name, maximum, **options):
        super().__init__(name, **options)
        self.maximum = maximum

    def check(self, data, errors, context):
        return validation.device_text(data, self.name, errors, self.maximum)

    def base_schema(self):
        # Not blank, no leading dash, no control character; the check is stricter
        # still (Python's str.isprintable: no format or separator characters either).
        return {"type": "string", "minLength": 1, "maxLength": self.maximum,
                "pattern": "^(?!-)(?=.*\\S)[^\\u0000-\\u001f\\u007f-\\u009f]+$",
                "description": "Printable characters only (no control, format or separator "
                               "character), not starting with a dash."}


class OneOf(Field):
    """Required text among C{choices} (L{validation.one_of})."""

    def __init__(self, name, choices, maximum=None, **options):
        super().__init__(name, **options)
        self.choices = tuple(choices)
        self.maximum = maximum

    def check(self, data, errors, context):
        return validation.one_of(data, self.name, errors, self.choices, self.maximum)

    def base_schema(self):
        return {"type": "string", "enum": list(self.choices)}


class Matching(Field):
    """Required text a regex matches whole (L{validation.matching}), of at most C{maximum} characters."""

    def __init__(self, name, pattern, maximum=None, **options):
        super().__init__(name, **options)
        self.pattern = pattern
        self.maximum = maximum

    def check(self, data, errors, context):
        return validation.matching(data, self.name, errors, self.pattern, self.maximum)

    def base_schema(self):
        schema = {"type": "string", "minLength": 1, "pattern": whole(self.pattern)}
        if self.maximum is not None:
            schema["maxLength"] = self.maximum
        return schema


class Dtmf(Field):
    """
    FAM 2.x's optional ``dtmf_protocol`` (L{famd.api.dtmf}); absent when null
    (C{absent="null"}) or also when blank (C{absent="missing"}).
    """

    required = False

    def __init__(self, absent="null", **options):
        options.setdefault("description", "How the account's calls send DTMF.")
        super().__init__("dtmf_protocol", **options)
        self.absent = absent

    def check(self, data, errors, context):
        value = data.get(self.name)
        if value is None or (self.absent == "missing" and validation.missing(value)):
            return None
        return dtmf_protocol(value, errors)

    def base_schema(self):
        return {"type": ["string", "null"], "enum": list(DTMF_PROTOCOLS) + [None]}


class Prohibited(Field):
    """A field the body must not carry (Laravel's ``prohibited``)."""

    required = False

    def __init__(self, name, **options):
        super().__init__(name, key=False, **options)

    def check(self, data, errors, context):
        if self.name in data:
            errors.add(self.name, "The %s field is prohibited." % (self.name,))

    def base_schema(self):
        return {"not": {}}


class Code(Field):
    """The ``code`` of an activation or a change (L{validation.code}): C{length} characters or C{digits} digits."""

    def __init__(self, length=None, digits=None, **options):
        super().__init__("code", **options)
        self.length = length
        self.digits = digits

    def check(self, data, errors, context):
        return validation.code(data, errors, self.length, self.digits)

    def base_schema(self):
        if self.length is not None:
            return {"type": "string", "minLength": self.length, "maxLength": self.length,
                    "pattern": "\\S"}
        return {"type": "string", "pattern": "^[0-9]{%d}$" % (self.digits,)}


class Rule(Field):
    """
    A one-off rule: C{check(data, errors, context)} and its JSON Schema,
    both built from the same constants by the route module.
    """

    def __init__(self, name, check, schema, **options):
        super().__init__(name, schema=schema, **options)
        self._check = check

    def check(self, data, errors, context):
        return self._check(data, errors, context)


class Body:
    """
    A request body: its fields in the order their rules run.

    @ivar names: the fields' names, in that order (also the order of the
        "has already been taken" messages: L{validation.with_taken}).
    """

    def __init__(self, *fields, description=""):
        self.fields = tuple(fields)
        self.names = tuple(field.name for field in fields)
        self.description = description

    def field(self, name):
        return next(field for field in self.fields if field.name == name)

    def check(self, data, only=None, **context):
        """
        Run the rules of every field (of C{only}, names, when given).

        @return: (values by field key, L{validation.Errors}).
        """
        errors = validation.Errors()
        values = {}
        for field in self.fields:
            if only is not None and field.name not in only:
                continue
            value = field.check(data, errors, context)
            if field.key:
                values[field.key] = value
        return values, errors

    def valid(self, data, only=None, **context):
        """
        The values of a body that breaks no rule.

        @raise Invalid: the fields' messages.
        """
        values, errors = self.check(data, only, **context)
        if errors:
            raise Invalid(errors.fields)
        return values

    def schema(self):
        """The JSON Schema of the body: an object of these fields (others are ignored)."""
        schema = {
            "type": "object",
            "properties": {field.name: field.schema() for field in self.fields},
        }
        required = [field.name for field in self.fields if field.required]
        if required:
            schema["required"] = required
        if self.description:
            schema["description"] = self.description
        return schema
