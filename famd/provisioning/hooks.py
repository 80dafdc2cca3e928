"""
An example L{famd.interfaces.IProvisioningHook}: copy chosen query arguments
of the provisioning request into the account's ``proxy_N`` section, so that
a link such as ``/provisioning/KEY?reg_proxy=<sip:...>`` can tune the account.

Use it as a model for an operator's own hook: a class providing the three
methods, a factory ``build(options, context)`` and a
L{famd.backends.Backend} of kind ``provisioning`` in a ``famd/plugins/``
module (see L{famd.plugins.provisioning_hooks}).
"""

from zope.interface import implementer

from famd.interfaces import IProvisioningHook


@implementer(IProvisioningHook)
class QueryParamsHook:
    """
    Copies the first value of each query argument named in C{params} (in
    that order) into the proxy section; arguments absent from the request
    are left out.
    """

    def __init__(self, params):
        self.params = tuple(params)

    def proxy_entries(self, request, account):
        return [
            (name, request.args[name][0])
            for name in self.params
            if request.args.get(name)
        ]

    def auth_entries(self, request, account, password):
        return []

    def extra_sections(self, request, account):
        return []


def build(options, context):
    """The backend factory: C{options["params"]} lists the argument names."""
    return QueryParamsHook(options["params"])
