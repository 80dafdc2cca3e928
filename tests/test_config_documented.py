"""
famd.yaml explains every configuration key once, and nothing else; the
README's configuration section only names them, and names them all.

The keys the code knows are famd.config's top-level and provisioning
options, every built-in backend (the modules of famd/plugins/) and each of
its options.  famd.yaml documents them by this rule:

 - a key written in the file (``listen: ...``) is explained by the comment
   lines directly above it; a key directly below another one may share that
   comment if the comment names it (``code_failure_window``);
 - a backend is a comment line ``# backend: NAME  # meaning`` in the comment
   directly above its section's key (``hooks:`` for provisioning hooks);
 - each option of that backend is a line below it, indented two more
   spaces, ``#   option: DEFAULT  # meaning``: the default as YAML, or an
   example value and a meaning that says "required".  A line indented
   further continues the meaning; any other line ends the backend.
"""

import dataclasses
import importlib
import os
import pkgutil
import re

import yaml
from twisted.trial import unittest

import famd.plugins
from famd.backends import KINDS
from famd.config import PANEL, PASSWORDS, PROVISIONING, SIGNUP, TOP_LEVEL, from_mapping, load
from famd.interfaces import IBackend
from famd.options import REQUIRED
from famd.throttle import THROTTLE

CHECKOUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SAMPLE = os.path.join(CHECKOUT, "famd.yaml")
README = os.path.join(CHECKOUT, "README.md")

KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[a-z_]+):")
BACKEND_LINE = re.compile(r"^# backend: (?P<name>[\w-]+)  # (?P<meaning>\S.*)$")
OPTION_LINE = re.compile(r"^#   (?P<key>[a-z_][a-z0-9_]*): (?P<value>.+?)  # (?P<meaning>\S.*)$")
CONTINUATION = "#    "

# The key of famd.yaml under which each kind of backend is chosen.
SECTION_KINDS = {("hooks" if kind == "provisioning" else kind): kind for kind in KINDS}


def builtin_backends():
    """Every backend declared by the modules of famd's own plugins folder."""
    found = []
    for module in pkgutil.iter_modules([os.path.dirname(famd.plugins.__file__)]):
        plugins = importlib.import_module("famd.plugins." + module.name)
        found.extend(value for value in vars(plugins).values() if IBackend.providedBy(value))
    return found


def backends_in(block):
    """
    The backends a comment block documents: name -> option -> (value, meaning).

    @raise AssertionError: a backend or an option is documented twice.
    """
    documented, options = {}, None
    for text in block:
        backend = BACKEND_LINE.match(text)
        option = OPTION_LINE.match(text)
        if backend:
            assert backend["name"] not in documented, "backend %s twice" % (backend["name"],)
            options = documented[backend["name"]] = {}
        elif option and options is not None:
            assert option["key"] not in options, "option %s twice" % (option["key"],)
            options[option["key"]] = (yaml.safe_load(option["value"]), option["meaning"])
        elif not text.startswith(CONTINUATION):
            options = None
    return documented


def read_sample(path=SAMPLE):
    """
    (the dotted keys the file explains, kind -> the backends documented
    above its section).
    """
    explained, documented = set(), {}
    block, above, top = [], None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = line.strip()
            if text.startswith("#"):
                block.append(text)
                continue
            key = KEY_LINE.match(line) if text else None
            if key is None:
                block, above = [], None
                continue
            top = key["key"] if not key["indent"] else top
            dotted = key["key"] if not key["indent"] else "%s.%s" % (top, key["key"])
            if block or (above and any(key["key"] in comment for comment in above)):
                explained.add(dotted)
            kind = SECTION_KINDS.get(key["key"])
            if kind is not None and block:
                documented[kind] = backends_in(block)
            above = block or above
            block = []
    return explained, documented


class ConfigDocumentedTests(unittest.TestCase):
    """Every key the code knows is explained in famd.yaml, once, with its default."""

    def setUp(self):
        self.explained, self.documented = read_sample()
        self.backends = builtin_backends()

    def test_every_key_explained(self):
        """Each top-level and provisioning key is written in famd.yaml under a comment explaining it."""
        keys = {option.key for option in TOP_LEVEL}
        keys |= {"provisioning." + option.key for option in PROVISIONING}
        keys |= {"throttle." + option.key for option in THROTTLE}
        keys |= {"signup." + option.key for option in SIGNUP}
        keys |= {"passwords." + option.key for option in PASSWORDS}
        keys |= {"panel." + option.key for option in PANEL}
        self.assertEqual(keys - self.explained, set())

    def test_backends_documented_are_those_of_the_code(self):
        """Each kind's section in famd.yaml documents exactly the built-in backends of that kind."""
        for kind in KINDS:
            code = {backend.name for backend in self.backends if backend.kind == kind}
            self.assertEqual(set(self.documented.get(kind, {})), code, kind)

    def test_options_documented_are_those_of_the_code(self):
        """Each backend's documented options are exactly the options it declares."""
        for backend in self.backends:
            documented = self.documented.get(backend.kind, {}).get(backend.name, {})
            code = {option.key for option in backend.options}
            self.assertEqual(set(documented), code, "%s %s" % (backend.kind, backend.name))

    def test_documented_defaults_are_the_code_defaults(self):
        """Each option line shows the option's default, or says it is required."""
        for backend in self.backends:
            documented = self.documented.get(backend.kind, {}).get(backend.name, {})
            for option in backend.options:
                if option.key not in documented:
                    continue  # test_options_documented_are_those_of_the_code reports it
                value, meaning = documented[option.key]
                where = "%s %s %s" % (backend.kind, backend.name, option.key)
                if option.default is REQUIRED:
                    self.assertIn("required", meaning, where)
                else:
                    self.assertEqual(value, option.default, where)

    def test_written_values_are_the_defaults(self):
        """famd.yaml's keys hold the defaults: it reads as a file giving only sip_domain."""
        sample = load(SAMPLE)
        defaults = from_mapping({"sip_domain": sample.sip_domain}, sample.base_dir)
        self.assertEqual(dataclasses.replace(sample, path=None), defaults)

    def test_readme_names_every_key_and_backend(self):
        """README's configuration section names every top-level key, provisioning key and backend."""
        with open(README, encoding="utf-8") as f:
            readme = f.read()
        section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
        names = {option.key for option in TOP_LEVEL + PROVISIONING}
        names |= {backend.name for backend in self.backends}
        self.assertEqual({name for name in names if "`%s`" % (name,) not in section}, set())

    def test_rule_catches_an_undocumented_option(self):
        """An option line removed or pushed under another backend is found missing."""
        block = [
            "# backend: smtp  # send e-mails",
            "#   host: localhost  # the relay",
            "#                    # continued",
            "# Example:",
            "#   port: 25  # an example, not smtp's documentation",
        ]
        self.assertEqual(backends_in(block), {"smtp": {"host": ("localhost", "the relay")}})
