"""
Find backends by name among ``twisted.plugin`` plugins.

Built-in backends are declared in ``famd/plugins/`` exactly like third-party
ones: a L{Backend} naming the module and factory that build the provider,
imported only when that backend is chosen.  A third party ships a module in
its own ``famd/plugins/`` folder (a namespace drop-in, no ``__init__.py``)
that creates a L{Backend} (or any L{IBackend} provider) at module level.
"""

import importlib
from dataclasses import dataclass
from typing import Any

from twisted.plugin import IPlugin, getPlugins
from zope.interface import implementer

import famd.plugins
from famd.interfaces import IBackend

KINDS = ("storage", "email", "sms", "push", "registrar", "provisioning")


class UnknownBackend(Exception):
    """No plugin of that kind has that name; the message lists those that do."""

    def __init__(self, kind, name, available):
        self.kind = kind
        self.name = name
        self.available = sorted(available)
        super().__init__(
            "unknown backend %r; available: %s"
            % (name, ", ".join(self.available) or "none")
        )


@implementer(IPlugin, IBackend)
class Backend:
    """
    A backend declaration.  C{factory} is ``"package.module:callable"``;
    the callable receives (options, context) and returns the provider.
    """

    def __init__(self, kind, name, factory, options=(), description=""):
        if kind not in KINDS:
            raise ValueError("kind must be one of %s" % (", ".join(KINDS),))
        self.kind = kind
        self.name = name
        self.factory = factory
        self.options = tuple(options)
        self.description = description

    def build(self, options, context):
        module_name, _, attribute = self.factory.partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, attribute)(options, context)

    def __repr__(self):
        return "<Backend %s %r>" % (self.kind, self.name)


@dataclass(frozen=True)
class BackendContext:
    """
    What a backend may need beyond its options.

    @ivar reactor: the reactor to schedule on.
    @ivar config: the whole L{famd.config.Config}.
    """

    reactor: Any
    config: Any


def available(kind):
    """Every backend of C{kind}, as a dict name -> L{IBackend} provider."""
    found = {}
    for backend in getPlugins(IBackend, famd.plugins):
        if backend.kind == kind:
            found.setdefault(backend.name, backend)
    return found


def find(kind, name):
    """
    The backend of C{kind} called C{name}.

    @raise UnknownBackend: there is none; its message lists the names that
        exist.
    """
    backends = available(kind)
    try:
        return backends[name]
    except KeyError:
        raise UnknownBackend(kind, name, backends) from None
