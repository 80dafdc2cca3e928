"""
Declarative checking of one mapping of ``famd.yaml``.

The core declares its top-level keys with L{Option}s and every backend
declares the keys of its own section the same way, so that every error names
its dotted key and all errors of a file are reported in one run.
"""

import os
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

REQUIRED = object()
"""Marks an option without a default: leaving it out is an error."""

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
}


@dataclass(frozen=True)
class Option:
    """
    One allowed key.

    @ivar kind: the Python type the YAML value must have (bool is not int,
        an int is accepted where a float is asked).
    @ivar default: the value when the key is absent, or L{REQUIRED}.
    @ivar nullable: whether ``null`` is accepted.
    @ivar choices: the allowed values, if restricted.
    @ivar path: resolve a relative string against the config file's folder.
    @ivar check: an extra validator returning an error text or None.
    @ivar doc: one line for listings.
    """

    key: str
    kind: type
    default: Any = REQUIRED
    nullable: bool = False
    choices: Optional[Tuple] = None
    path: bool = False
    check: Optional[Callable[[Any], Optional[str]]] = None
    doc: str = ""


def _type_ok(value, kind):
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def describe(kind):
    """The English name of a YAML type, for error messages."""
    return _TYPE_NAMES.get(kind, kind.__name__)


def join(prefix, key):
    """The dotted path of C{key} inside C{prefix}."""
    return "%s.%s" % (prefix, key) if prefix else key


def _resolve(option, value, base_dir):
    if option.path and isinstance(value, str):
        return os.path.normpath(os.path.join(base_dir, os.path.expanduser(value)))
    return value


def parse(raw, options, prefix, base_dir, ignore=()):
    """
    Check C{raw} against C{options}.

    @param raw: the mapping read from YAML.
    @param options: a sequence of L{Option}.
    @param prefix: the dotted path of C{raw} ('' at the top level).
    @param base_dir: the folder that relative paths are relative to.
    @param ignore: keys handled by the caller (e.g. 'backend').
    @return: (dict of key -> value with defaults filled in, list of error
        strings each starting with the dotted key).
    """
    values, errors = {}, []
    known = {option.key for option in options} | set(ignore)
    for key in raw:
        if key not in known:
            allowed = ", ".join(sorted(known - set(ignore))) or "none"
            errors.append(
                "%s: unknown key (allowed here: %s)" % (join(prefix, str(key)), allowed)
            )
    for option in options:
        dotted = join(prefix, option.key)
        if option.key not in raw:
            if option.default is REQUIRED:
                errors.append("%s: required" % (dotted,))
            else:
                values[option.key] = _resolve(option, option.default, base_dir)
            continue
        value = raw[option.key]
        if value is None:
            if option.nullable:
                values[option.key] = None
            else:
                errors.append("%s: must be %s, not null" % (dotted, describe(option.kind)))
            continue
        if not _type_ok(value, option.kind):
            errors.append(
                "%s: must be %s, not %r" % (dotted, describe(option.kind), value)
            )
            continue
        if option.choices is not None and value not in option.choices:
            errors.append(
                "%s: must be one of %s, not %r"
                % (dotted, ", ".join(str(c) for c in option.choices), value)
            )
            continue
        if option.check is not None:
            problem = option.check(value)
            if problem:
                errors.append("%s: %s" % (dotted, problem))
                continue
        values[option.key] = _resolve(option, value, base_dir)
    return values, errors


def positive(value):
    """A check: the number must be greater than zero."""
    return None if value > 0 else "must be greater than 0"


def list_of_strings(value):
    """A check: every item of the list must be a string."""
    if all(isinstance(item, str) for item in value):
        return None
    return "must be a list of strings"
