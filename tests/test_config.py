"""
famd.yaml parsing: strict keys and types, dotted error paths, every error in
one run, defaults, relative paths.
"""

import os
import tempfile

from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from famd.config import MOST_MINUTES, MOST_SECONDS, ConfigError, from_mapping, load

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "famd.yaml")


def write(text):
    folder = tempfile.mkdtemp(prefix="famd-config-")
    path = os.path.join(folder, "famd.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


class ConfigTests(unittest.TestCase):
    """Reading famd.yaml."""

    def test_three_line_file(self):
        """listen, sip_domain and storage are enough; everything else has its default."""
        path = write('listen: "tcp:9999"\nsip_domain: sip.example.org\nstorage: {backend: sqlite}\n')
        config = load(path)
        self.assertEqual(config.listen, "tcp:9999")
        self.assertEqual(config.sip_domain, "sip.example.org")
        self.assertIsNone(config.realm)
        self.assertEqual((config.email.backend, config.sms.backend), ("log", "log"))
        self.assertEqual((config.push.backend, config.registrar.backend), ("none", "none"))
        self.assertEqual(config.storage.options["path"], os.path.join(os.path.dirname(path), "famd.sqlite"))
        self.assertEqual((config.nonce_lifetime, config.max_body_size), (3600, 65536))
        self.assertFalse(config.everyone_is_admin)

    def test_sample_file_is_valid(self):
        """The famd.yaml at the top of the repository is a complete valid configuration."""
        config = load(SAMPLE)
        self.assertEqual(config.storage.backend, "sqlite")
        self.assertEqual(config.public_url, "http://127.0.0.1:8080")

    def test_durations_are_bounded(self):
        """Every duration key refuses more than ten years (a larger one overflowed "now - it"), naming key and bound."""
        minutes = {"signup": dict.fromkeys(
            ("creation_token_expiration", "creation_token_retry", "recovery_token_expiration",
             "recovery_token_retry"), MOST_MINUTES + 1)}
        seconds = dict.fromkeys(
            ("nonce_lifetime", "nonce_first_use_window", "email_change_lifetime",
             "reset_password_email_lifetime", "email_change_code_lifetime",
             "phone_change_code_lifetime"), MOST_SECONDS + 1)
        seconds["provisioning"] = {"token_lifetime": MOST_SECONDS + 1}
        error = self.assertRaises(ConfigError, from_mapping, dict(sip_domain="x", **minutes, **seconds), "/tmp")
        expected = sorted(
            ["signup.%s: must be at most 5256000 (ten years, in minutes)" % (key,) for key in minutes["signup"]]
            + ["%s: must be at most 315360000 (ten years, in seconds)" % (key,)
               for key in list(seconds)[:-1] + ["provisioning.token_lifetime"]])
        self.assertEqual(sorted(error.errors), expected)
        for group in (minutes, seconds):
            for key, value in list(group.items()):
                group[key] = dict.fromkeys(value, value[next(iter(value))] - 1) if isinstance(value, dict) else value - 1
        config = from_mapping(dict(sip_domain="x", **minutes, **seconds), "/tmp")
        self.assertEqual((config.signup["creation_token_retry"], config.provisioning_token_lifetime),
                         (MOST_MINUTES, MOST_SECONDS))

    def test_relative_paths_follow_the_file(self):
        """A relative storage path is relative to the config file's folder, not the working directory."""
        path = write("sip_domain: d.example\nstorage: {backend: sqlite, path: data/accounts.db}\n")
        self.assertEqual(
            load(path).storage.options["path"],
            os.path.join(os.path.dirname(path), "data", "accounts.db"),
        )

    def test_every_error_reported_with_its_dotted_key(self):
        """A typo, wrong types and an unknown backend are all reported at once, each by dotted key."""
        error = self.assertRaises(ConfigError, from_mapping, {
            "sip_domian": "x",
            "everyone_is_admin": 1,
            "nonce_lifetime": "soon",
            "storage": {"backend": "x"},
            "email": {"backend": "log", "colour": "red"},
        }, "/tmp")
        text = str(error)
        self.assertIn("sip_domian: unknown key", text)
        self.assertIn("sip_domain: required", text)
        self.assertIn("everyone_is_admin: must be true or false, not 1", text)
        self.assertIn("nonce_lifetime: must be an integer", text)
        self.assertIn("storage.backend: unknown backend 'x'; available: ", text)
        self.assertIn("sqlite", text.split("storage.backend")[1].splitlines()[0])
        self.assertIn("email.colour: unknown key", text)
        self.assertEqual(len(error.errors), 6)

    def test_backend_options_checked_by_the_backend(self):
        """A backend's own keys are typed: a string busy_timeout is refused under its dotted key."""
        error = self.assertRaises(ConfigError, from_mapping, {
            "sip_domain": "x", "storage": {"backend": "sqlite", "busy_timeout": "long"}}, "/tmp")
        self.assertEqual(error.errors, ["storage.busy_timeout: must be a number, not 'long'"])

    def test_missing_backend_name(self):
        """A backend section without 'backend' names the missing key."""
        error = self.assertRaises(ConfigError, from_mapping, {"sip_domain": "x", "sms": {}}, "/tmp")
        self.assertEqual(error.errors, ["sms.backend: required, the name of a sms backend"])

    def test_provisioning_hooks_checked(self):
        """Each provisioning hook is a backend checked under provisioning.hooks[N]."""
        error = self.assertRaises(ConfigError, from_mapping, {
            "sip_domain": "x", "provisioning": {"hooks": [{"backend": "nope"}, "bare"]}}, "/tmp")
        self.assertIn("provisioning.hooks[0].backend: unknown backend 'nope'", str(error))
        self.assertIn("provisioning.hooks[1]: must be a mapping", str(error))

    def test_yaml_syntax_error_names_file_and_line(self):
        """Invalid YAML is reported with the file name and the line."""
        path = write("sip_domain: x\nstorage: {backend: sqlite\nlisten: tcp:1\n")
        error = self.assertRaises(ConfigError, load, path)
        self.assertIn(path + ", line ", str(error))
        self.assertIn("invalid YAML", str(error))

    def test_not_a_mapping(self):
        """A file holding a list instead of a mapping is refused."""
        error = self.assertRaises(ConfigError, load, write("- a\n- b\n"))
        self.assertIn("must hold a mapping", str(error))

    def test_missing_file(self):
        """An unreadable file is an error naming it."""
        error = self.assertRaises(ConfigError, load, "/nonexistent/famd.yaml")
        self.assertIn("/nonexistent/famd.yaml: cannot read", str(error))

    def test_public_url_checked_and_trimmed(self):
        """public_url must be http(s) and loses a trailing slash."""
        config = from_mapping({"sip_domain": "x", "public_url": "https://a.example/"}, "/tmp")
        self.assertEqual(config.public_url, "https://a.example")
        error = self.assertRaises(ConfigError, from_mapping, {"sip_domain": "x", "public_url": "a.example"}, "/tmp")
        self.assertEqual(error.errors, ["public_url: must start with http:// or https://"])

    def test_renamed_keys_still_read(self):
        """An earlier famd.yaml's code_failures and code_failure_window load as their throttle keys, with a warning."""
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        config = from_mapping(
            {"sip_domain": "sip.example.org", "code_failures": 3, "code_failure_window": 60}, "/tmp")
        self.assertEqual((config.throttle["code_tries"], config.throttle["wrong_secrets_window"]), (3, 60))
        self.assertEqual(
            sorted(e["old"] for e in events if e.get("log_namespace") == "famd.config"),
            ["code_failure_window", "code_failures"])
        kept = from_mapping({"sip_domain": "sip.example.org", "code_failures": 3,
                             "throttle": {"code_tries": 7}}, "/tmp")
        self.assertEqual(kept.throttle["code_tries"], 7)
        error = self.assertRaises(ConfigError, from_mapping,
                                  {"sip_domain": "sip.example.org", "code_failures": "x"}, "/tmp")
        self.assertIn("throttle.code_tries", str(error))
