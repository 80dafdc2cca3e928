"""
The lpconfig XML document served to Linphone apps: a pure function of the
operator's defaults, the account being provisioned (or None), the digest
realm, the overwrite flag, the provisioning hooks and the request.

liblinphone reads only ``<section name>`` and ``<entry name>`` elements; an
entry's text is its value and ``overwrite="true"`` makes it replace a value the
device already has.  Secrets leave famd only as HA1s: a ``CLRTXT`` password is
turned into the HA1s of both algorithms, never sent in clear.
"""

import hashlib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Tuple

from famd.model import Password

NAMESPACE = "http://www.linphone.org/xsds/lpconfig.xsd"
CONTENT_TYPE = b"application/xml"

_HASHES = (("MD5", hashlib.md5), ("SHA-256", hashlib.sha256))
_NUMBERED = re.compile(r"^(proxy|auth_info)_([0-9]+)$")
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


@dataclass(frozen=True)
class ProvisioningRequest:
    """
    What hooks may know of the HTTP request: its query arguments (name ->
    list of values, decoded) and headers (lower-case name -> value).
    """

    args: Mapping[str, Tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def from_linphone(self):
        """Whether a Linphone app sent it (``X-Linphone-Provisioning: 1``)."""
        return self.headers.get("x-linphone-provisioning", "").strip() == "1"


def ha1(algorithm, username, realm, password):
    """The hex digest HA1 = H(username:realm:password) for C{algorithm}."""
    function = dict(_HASHES)[algorithm]
    return function(("%s:%s:%s" % (username, realm, password)).encode("utf-8")).hexdigest()


def credentials(account, realm):
    """
    The HA1 passwords to provision, one per algorithm, in storage order: a
    stored HA1 as it is, a ``CLRTXT`` password as the HA1s of every algorithm
    not already stored; unknown algorithms are skipped.

    @return: a tuple of L{Password} whose C{password} is an HA1.
    """
    stored = {p.algorithm for p in account.passwords}
    found = {}
    for password in account.passwords:
        if password.algorithm == "CLRTXT":
            for algorithm, _ in _HASHES:
                if algorithm not in stored and algorithm not in found:
                    found[algorithm] = Password(
                        ha1(algorithm, account.username, realm, password.password),
                        algorithm,
                    )
        elif password.algorithm in dict(_HASHES) and password.algorithm not in found:
            found[password.algorithm] = password
    return tuple(found.values())


def _next_index(defaults, prefix):
    numbers = [
        int(match.group(2))
        for match in (_NUMBERED.match(name) for name, _ in defaults)
        if match is not None and match.group(1) == prefix
    ]
    return max(numbers) + 1 if numbers else 0


def _merge(*groups):
    """Entries in first-seen order, a later value replacing an earlier one."""
    merged = {}
    for group in groups:
        for key, value in group:
            merged[str(key)] = str(value)
    return tuple(merged.items())


def account_sections(defaults, account, realm, hooks, request):
    """
    The ``proxy_N`` section and the ``auth_info_N`` sections of C{account},
    numbered after those of C{defaults}, hook entries included.

    @return: a tuple of (section name, tuple of (key, value)).
    """
    realm = realm or account.domain
    proxy = _merge(
        (
            ("reg_identity", "sip:%s@%s" % (account.username, account.domain)),
            ("reg_sendregister", "1"),
            ("refkey", "push_notification"),
        ),
        *(hook.proxy_entries(request, account) for hook in hooks)
    )
    sections = [("proxy_%d" % (_next_index(defaults, "proxy"),), proxy)]
    first_auth = _next_index(defaults, "auth_info")
    for offset, password in enumerate(credentials(account, realm)):
        entries = _merge(
            (
                ("username", account.username),
                ("domain", account.domain),
                ("ha1", password.password),
                ("realm", realm),
                ("algorithm", password.algorithm),
            ),
            *(hook.auth_entries(request, account, password) for hook in hooks)
        )
        sections.append(("auth_info_%d" % (first_auth + offset,), entries))
    return tuple(sections)


def _text(value):
    value = _NOT_XML.sub("", value)
    return "".join(_ESCAPES.get(char, char) for char in value)


def render(sections, overwrite_all):
    """The XML bytes of C{sections} (a sequence of (name, entries))."""
    overwrite = ' overwrite="true"' if overwrite_all else ""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<config xmlns="%s">' % (NAMESPACE,),
    ]
    for name, entries in sections:
        lines.append('<section name="%s">' % (_text(name),))
        for key, value in entries:
            lines.append(
                '<entry name="%s"%s>%s</entry>' % (_text(key), overwrite, _text(value))
            )
        lines.append("</section>")
    lines.append("</config>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def build(defaults, account, realm, overwrite_all, hooks, request):
    """
    The provisioning document.

    @param defaults: the operator's linphonerc, as L{famd.provisioning.rcfile.parse}
        returns it.
    @param account: the L{famd.model.Account} (passwords loaded) to
        provision, or None for the defaults only.
    @param realm: the configured digest realm, or None for the account's
        domain.
    @param overwrite_all: put ``overwrite="true"`` on every entry.
    @param hooks: a sequence of L{famd.interfaces.IProvisioningHook}
        providers, applied in order.
    @param request: the L{ProvisioningRequest}.
    @return: the UTF-8 XML document (bytes).
    """
    sections = list(defaults)
    if account is not None:
        sections.extend(account_sections(defaults, account, realm, hooks, request))
    for hook in hooks:
        sections.extend(
            (name, _merge(entries)) for name, entries in hook.extra_sections(request, account)
        )
    return render(sections, overwrite_all)
