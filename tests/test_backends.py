"""
Backends are found by name among twisted.plugin plugins, built-in and
third-party alike.
"""

import os
import sys
import tempfile
import textwrap

from twisted.internet import defer, utils
from twisted.trial import unittest

from famd import backends

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PLUGIN = '''
"""A third-party famd plugin: an e-mail backend writing to a folder."""
from famd.backends import Backend
from famd.options import Option

outbox = Backend("email", "outbox", "outbox_impl:build",
                 options=[Option("folder", str, path=True)], description="files in a folder")
'''

IMPLEMENTATION = '''
"""The outbox backend's implementation, imported only when chosen."""
import os
from twisted.internet import defer
from zope.interface import implementer
from famd.interfaces import IEmailSender

@implementer(IEmailSender)
class Outbox:
    def __init__(self, folder):
        self.folder = folder
    def send(self, to, subject, text, html=None):
        os.makedirs(self.folder, exist_ok=True)
        with open(os.path.join(self.folder, to), "w") as f:
            f.write(subject + "\\n" + text)
        return defer.succeed(None)

def build(options, context):
    return Outbox(options["folder"])
'''

SCRIPT = '''
import sys
from famd.backends import BackendContext
from famd.config import load
config = load(sys.argv[1])
sender = config.email.build(BackendContext(None, config))
sender.send("bob@example.org", "hello", "body")
print(config.email.backend, type(sender).__name__)
'''


class BackendLookupTests(unittest.TestCase):
    """famd.backends.find and available."""

    def test_builtin_storage_is_a_plugin(self):
        """The built-in SQLite storage is found through the plugin system."""
        self.assertIn("sqlite", backends.available("storage"))
        self.assertEqual(backends.find("storage", "sqlite").kind, "storage")

    def test_unknown_name_lists_the_others(self):
        """An unknown name raises an error listing the names that exist."""
        error = self.assertRaises(backends.UnknownBackend, backends.find, "storage", "oracle")
        self.assertIn("unknown backend 'oracle'; available: ", str(error))
        self.assertIn("sqlite", error.available)

    def test_kind_checked(self):
        """A declaration of an unknown kind is refused at once."""
        self.assertRaises(ValueError, backends.Backend, "fax", "x", "m:f")

    @defer.inlineCallbacks
    def test_third_party_plugin_selected_from_yaml(self):
        """A plugin installed outside famd's package is found and built from famd.yaml."""
        root = tempfile.mkdtemp(prefix="famd-plugin-")
        os.makedirs(os.path.join(root, "famd", "plugins"))
        with open(os.path.join(root, "famd", "plugins", "thirdparty_outbox.py"), "w") as f:
            f.write(PLUGIN)
        with open(os.path.join(root, "outbox_impl.py"), "w") as f:
            f.write(IMPLEMENTATION)
        config = os.path.join(root, "famd.yaml")
        with open(config, "w") as f:
            f.write(textwrap.dedent("""\
                sip_domain: sip.example.org
                email: {backend: outbox, folder: mails}
            """))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, CHECKOUT]))
        out, err, code = yield utils.getProcessOutputAndValue(
            sys.executable, ["-c", SCRIPT, config], env=env, path=root)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.split(), [b"outbox", b"Outbox"])
        with open(os.path.join(root, "mails", "bob@example.org")) as f:
            self.assertEqual(f.read(), "hello\nbody")
