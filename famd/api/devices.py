"""
The devices routes: ``GET /accounts/me/devices`` and ``DELETE
/accounts/me/devices/{uuid}``, answered from the configured registrar
(L{famd.interfaces.IRegistrar}).

With the ``none`` registrar the feature is off: the list is empty (``{}``)
and a removal finds no device (404).  A registrar that cannot be reached
answers 503 (see L{famd.web}); everything else keeps working.
"""

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.api import render, shapes
from famd.api.declare import Response, declare
from famd.api.http import authenticated, json_response
from famd.errors import NotFound

NO_DEVICE = "No such device."
REMOVED = {"message": "Device removed."}


@inlineCallbacks
def devices_of(registrar, account):
    """Fire with the body listing the account's devices (C{registrar} None: none)."""
    devices = []
    if registrar is not None:
        devices = yield registrar.list_devices(account.username, account.domain)
    return render.devices(devices)


@inlineCallbacks
def remove_device_of(registrar, account, uuid):
    """Unregister one of the account's devices; fail with L{NotFound} when it has no such device."""
    removed = False
    if registrar is not None:
        removed = yield registrar.remove_device(account.username, account.domain, uuid)
    if not removed:
        raise NotFound(NO_DEVICE)


class Devices:
    """
    @param authenticator: the L{famd.auth.Authenticator}.
    @param registrar: the L{famd.interfaces.IRegistrar}, or None when the
        feature is off.
    """

    app = Klein()

    def __init__(self, authenticator, registrar):
        self._authenticator = authenticator
        self._registrar = registrar

    @app.route("/accounts/me/devices", methods=["GET"])
    @declare(
        "The caller's devices",
        """The devices registered for the authenticated account, as the registrar knows them,
        keyed by their uuid; an empty object when the devices feature is off.""",
        auth="account", generation="both", users=("Linphone 6", "FlexiAPIClient"),
        responses={200: Response("The devices.", shapes.DEVICES), 429: "TooMany"},
    )
    @inlineCallbacks
    def list_devices(self, request):
        """The caller's registered devices, keyed by uuid."""
        account = yield authenticated(self._authenticator, request)
        body = yield devices_of(self._registrar, account)
        return json_response(request, body)

    @app.route("/accounts/me/devices/<string:uuid>", methods=["DELETE"])
    @declare(
        "Unregister one of the caller's devices",
        """Removes the registration of one of the authenticated account's devices, by the uuid
        the list shows.""",
        auth="account", generation="both", users=("Linphone 6",),
        responses={200: Response("Removed.", shapes.constant(REMOVED)), 404: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def remove_device(self, request, uuid):
        """Unregister one of the caller's devices."""
        account = yield authenticated(self._authenticator, request)
        yield remove_device_of(self._registrar, account, uuid)
        return json_response(request, REMOVED)
