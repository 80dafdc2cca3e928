"""
``famd.yaml`` -> a frozen L{Config}.

Parsing is strict: an unknown key, a wrong type or an unknown backend name is
an error naming its dotted key, and every error of the file is collected and
reported together in one L{ConfigError}.  Each backend checks its own
section with the options it declares.  Relative paths are relative to the
config file's folder.
"""

import os
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Mapping, Optional, Tuple

import yaml
from twisted.logger import Logger

from famd import backends, workers_setting
from famd.accesslog import check_setting as check_access_log
from famd.logs import check_setting as check_log_format
from famd.client_address import TrustedProxies
from famd.options import Option, join, list_of_strings, parse, positive
from famd.throttle import THROTTLE


class ConfigError(Exception):
    """The configuration is unusable; C{errors} lists every reason."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class BackendConfig:
    """A backend chosen by name, with its checked options."""

    kind: str
    backend: str
    options: Mapping[str, Any]

    def build(self, context):
        """Create the provider (None for the ``none`` backends)."""
        return backends.find(self.kind, self.backend).build(dict(self.options), context)


@dataclass(frozen=True)
class Config:
    """Everything famd.yaml says, checked, with defaults filled in."""

    path: Optional[str]
    base_dir: str
    listen: str
    public_url: str
    app_name: str
    sip_domain: str
    realm: Optional[str]
    everyone_is_admin: bool
    nonce_lifetime: int
    max_body_size: int
    header_timeout: float
    body_timeout: float
    max_connections: int
    trusted_proxies: Tuple[str, ...]
    nonce_first_use_window: int
    throttle: Mapping[str, Any]
    email_change_lifetime: int
    templates: Optional[str]
    access_log: Any
    storage: BackendConfig
    email: BackendConfig
    sms: BackendConfig
    push: BackendConfig
    registrar: BackendConfig
    rc_file: Optional[str]
    overwrite_all: bool
    provisioning_hooks: Tuple[BackendConfig, ...]
    signup: Mapping[str, Any]
    provisioning_token_lifetime: int = 0
    reset_password_email_lifetime: int = 86400
    # FAM 2.x linking and passwords (issue 14).
    email_change_code_lifetime: int = 600
    phone_change_code_lifetime: int = 600
    both_algorithms: bool = False
    # Processes serving the listening socket (issue 17): the parent and workers - 1 children.
    workers: int = 1
    # Prometheus metrics and readiness (issue 17).
    metrics: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({"listen": None}))
    # Structured logs (issue 17).
    log_format: str = "text"
    # The account panel (issue 16): the values of PANEL, by key.
    panel: Optional[Mapping[str, Any]] = None

    @cached_property
    def proxies(self):
        """C{trusted_proxies} parsed once: the L{TrustedProxies} every client address is read through."""
        return TrustedProxies(self.trusted_proxies)


def _non_negative(value):
    return None if value >= 0 else "must be 0 or more"


MOST_MINUTES = 10 * 365 * 24 * 60
"""The largest setting in minutes, ten years: "now" minus more overflows a datetime."""
MOST_SECONDS = MOST_MINUTES * 60
"""The largest setting in seconds, ten years."""


def _duration(most, unit, zero=False):
    """A check of a duration key: more than 0 (0 or more with C{zero}), at most C{most}."""

    def check(value):
        if value > most:
            return "must be at most %d (ten years, in %s)" % (most, unit)
        return _non_negative(value) if zero else positive(value)

    return check


_SECONDS = _duration(MOST_SECONDS, "seconds")
_MINUTES = _duration(MOST_MINUTES, "minutes")


def _url(value):
    if value.startswith(("http://", "https://")):
        return None
    return "must start with http:// or https://"


TOP_LEVEL = (
    Option("listen", str, "tcp:8080:interface=127.0.0.1", doc="Twisted endpoint string"),
    Option("public_url", str, "http://127.0.0.1:8080", check=_url),
    Option("app_name", str, "famd"),
    Option("sip_domain", str),
    Option("realm", str, None, nullable=True),
    Option("everyone_is_admin", bool, False),
    Option("nonce_lifetime", int, 3600, check=_SECONDS),
    Option("max_body_size", int, 65536, check=positive),
    Option("header_timeout", float, 10.0, check=positive),
    Option("body_timeout", float, 30.0, check=positive),
    Option("max_connections", int, 1000, check=positive),
    Option("trusted_proxies", list, [], check=list_of_strings),
    Option("nonce_first_use_window", int, 300, check=_SECONDS),
    Option("throttle", dict, {}),
    Option("email_change_lifetime", int, 86400, check=_SECONDS),
    Option("templates", str, None, nullable=True, path=True),
    Option("access_log", object, True, nullable=True, path=True, check=check_access_log,
           doc="true (famd's log), false, or a file path"),
    Option("log_format", str, "text", check=check_log_format, doc="text or json"),
    Option("storage", dict, {"backend": "sqlite"}),
    Option("email", dict, {"backend": "log"}),
    Option("sms", dict, {"backend": "log"}),
    Option("push", dict, {"backend": "none"}),
    Option("registrar", dict, {"backend": "none"}),
    Option("provisioning", dict, {}),
    Option("signup", dict, {}),
    Option("reset_password_email_lifetime", int, 86400, check=_SECONDS),
    Option("email_change_code_lifetime", int, 600, check=_SECONDS),
    Option("phone_change_code_lifetime", int, 600, check=_SECONDS),
    Option("passwords", dict, {}),
    Option("workers", object, 1, check=workers_setting.check_setting,
           doc="processes serving the socket: a number, or auto (one per core)"),
    Option("metrics", dict, {}),
    Option("panel", dict, {}),
)

SIGNUP = (
    Option("creation_token_expiration", int, 0, check=_duration(MOST_MINUTES, "minutes", zero=True)),
    Option("creation_token_retry", int, 60, check=_MINUTES),
    Option("recovery_token_expiration", int, 60, check=_MINUTES),
    Option("recovery_token_retry", int, 1, check=_MINUTES),
    Option("human_check_max_number", int, 100000, check=positive),
)
"""The keys of famd.yaml's ``signup:`` section (FAM 2.x sign-up and recovery tokens)."""

PASSWORDS = (
    Option("both_algorithms", bool, False),
)
"""The keys of famd.yaml's ``passwords:`` section."""

METRICS = (
    Option("listen", str, None, nullable=True, doc="Twisted endpoint string"),
)
"""The keys of famd.yaml's ``metrics:`` section (Prometheus metrics and readiness)."""
PANEL = (
    Option("enabled", bool, True),
    Option("signup", str, "email", choices=("email", "phone", "both", "none")),
    Option("terms_url", str, None, nullable=True, check=_url),
    Option("session_idle", int, 1800, check=_SECONDS),
    Option("session_lifetime", int, 43200, check=_SECONDS),
    Option("catalogue", str, None, nullable=True, path=True),
)
"""The keys of famd.yaml's ``panel:`` section (the account panel, L{famd.panel})."""

PROVISIONING = (
    Option("rc_file", str, None, nullable=True, path=True),
    Option("overwrite_all", bool, False),
    Option("hooks", list, []),
    Option("token_lifetime", int, 0, check=_duration(MOST_SECONDS, "seconds", zero=True)),
)


def parse_backend(kind, raw, dotted, base_dir, errors):
    """Check one ``{backend: name, ...options}`` mapping; None if unusable."""
    name = raw.get("backend")
    if not isinstance(name, str):
        errors.append("%s: required, the name of a %s backend" % (join(dotted, "backend"), kind))
        return None
    try:
        backend = backends.find(kind, name)
    except backends.UnknownBackend as error:
        errors.append("%s: %s" % (join(dotted, "backend"), error))
        return None
    options, problems = parse(raw, backend.options, dotted, base_dir, ignore=("backend",))
    errors.extend(problems)
    return BackendConfig(kind, name, MappingProxyType(options))


def _hooks(raw_hooks, base_dir, errors):
    hooks = []
    for index, raw in enumerate(raw_hooks):
        dotted = "provisioning.hooks[%d]" % (index,)
        if not isinstance(raw, dict):
            errors.append("%s: must be a mapping with a 'backend' key" % (dotted,))
            continue
        hook = parse_backend("provisioning", raw, dotted, base_dir, errors)
        if hook is not None:
            hooks.append(hook)
    return tuple(hooks)


log = Logger(namespace="famd.config")

RENAMED = {"code_failures": "code_tries", "code_failure_window": "wrong_secrets_window"}
"""Keys of earlier famd versions -> their ``throttle`` key, still read so an old famd.yaml loads."""


def _renamed(raw):
    """C{raw} with the keys of L{RENAMED} moved into ``throttle`` (unless set there), with a warning."""
    old = [key for key in RENAMED if key in raw]
    if not old:
        return raw
    raw = dict(raw)
    throttle = raw.get("throttle")
    throttle = dict(throttle) if isinstance(throttle, dict) else {}
    for key in old:
        value = raw.pop(key)
        throttle.setdefault(RENAMED[key], value)
        log.warn("famd.yaml: {old} is now throttle.{new}; please rename it", old=key, new=RENAMED[key])
    if "throttle" in raw and not isinstance(raw["throttle"], dict):
        return raw  # the wrong type is reported as it is
    raw["throttle"] = throttle
    return raw


def _section(values, key, options, base_dir, errors):
    """The checked values of the section C{key} (empty when absent or not a mapping); its problems go to C{errors}."""
    raw = values.get(key) if isinstance(values.get(key), dict) else {}
    checked, problems = parse(raw, options, key, base_dir)
    errors.extend(problems)
    return checked


def from_mapping(raw, base_dir, path=None):
    """
    Check a mapping read from YAML.

    @raise ConfigError: listing every problem found.
    """
    if not isinstance(raw, dict):
        raise ConfigError(["%s: the file must hold a mapping of keys" % (path or "config",)])
    raw = _renamed(raw)
    values, errors = parse(raw, TOP_LEVEL, "", base_dir)
    chosen = {}
    for kind in ("storage", "email", "sms", "push", "registrar"):
        if isinstance(values.get(kind), dict):
            chosen[kind] = parse_backend(kind, values[kind], kind, base_dir, errors)
    provisioning, problems = parse(values.get("provisioning") or {}, PROVISIONING, "provisioning", base_dir)
    errors.extend(problems)
    throttle = _section(values, "throttle", THROTTLE, base_dir, errors)
    signup = _section(values, "signup", SIGNUP, base_dir, errors)
    hooks = _hooks(provisioning.get("hooks") or [], base_dir, errors)
    passwords = _section(values, "passwords", PASSWORDS, base_dir, errors)
    workers = workers_setting.count(values.get("workers", 1))
    if "listen" in values and "workers" in values:
        problem = workers_setting.check_listen(workers, values["listen"])
        if problem:
            errors.append(problem)
    metrics = _section(values, "metrics", METRICS, base_dir, errors)
    panel = _section(values, "panel", PANEL, base_dir, errors)
    if errors:
        raise ConfigError(errors)
    return Config(
        path=path,
        base_dir=base_dir,
        listen=values["listen"],
        public_url=values["public_url"].rstrip("/"),
        app_name=values["app_name"],
        sip_domain=values["sip_domain"],
        realm=values["realm"],
        everyone_is_admin=values["everyone_is_admin"],
        nonce_lifetime=values["nonce_lifetime"],
        max_body_size=values["max_body_size"],
        header_timeout=values["header_timeout"],
        body_timeout=values["body_timeout"],
        max_connections=values["max_connections"],
        trusted_proxies=tuple(values["trusted_proxies"]),
        nonce_first_use_window=values["nonce_first_use_window"],
        throttle=MappingProxyType(throttle),
        email_change_lifetime=values["email_change_lifetime"],
        templates=values["templates"],
        access_log=values["access_log"],
        log_format=values["log_format"],
        rc_file=provisioning["rc_file"],
        overwrite_all=provisioning["overwrite_all"],
        provisioning_hooks=hooks,
        provisioning_token_lifetime=provisioning["token_lifetime"],
        signup=MappingProxyType(signup),
        reset_password_email_lifetime=values["reset_password_email_lifetime"],
        email_change_code_lifetime=values["email_change_code_lifetime"],
        phone_change_code_lifetime=values["phone_change_code_lifetime"],
        both_algorithms=passwords["both_algorithms"],
        workers=workers,
        metrics=MappingProxyType(metrics),
        panel=MappingProxyType(panel),
        **chosen,
    )


def load(path):
    """
    Read and check a famd.yaml file.

    @raise ConfigError: the file cannot be read, is not valid YAML (the
        message names the file and line), or breaks a rule.
    """
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except OSError as error:
        raise ConfigError(["%s: cannot read: %s" % (path, error.strerror)]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = "%s, line %d" % (path, mark.line + 1) if mark is not None else path
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(["%s: invalid YAML: %s" % (where, problem)]) from None
    base_dir = os.path.dirname(os.path.abspath(path))
    return from_mapping(raw if raw is not None else {}, base_dir, path)
