"""
The devices endpoints: ``GET /accounts/me/devices`` and ``DELETE
/accounts/me/devices/{uuid}``, answered from the configured registrar
(L{famd.interfaces.IRegistrar}).

With the ``none`` registrar the feature is off: the list is empty (``{}``)
and a removal finds no device (404).  A registrar that cannot be reached
answers 503; everything else keeps working.
"""

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.api.app import Api
from famd.api.http import HTTPError, json_response
from famd.interfaces import RegistrarUnavailable
from famd.registrar import to_json

app = Api.app
log = Logger()

UNAVAILABLE = "The SIP registrar is unavailable, try again later."


@inlineCallbacks
def _ask(call, *args):
    try:
        return (yield call(*args))
    except RegistrarUnavailable as error:
        log.warn("registrar unavailable: {reason}", reason=str(error))
        raise HTTPError(503, UNAVAILABLE) from None


@app.route("/accounts/me/devices", methods=["GET"], endpoint="devices_list")
@inlineCallbacks
def list_devices(api, request):
    account = yield api.authenticator.authenticate(request)
    registrar = api.services.get("registrar")
    if registrar is None:
        return json_response(request, {})
    devices = yield _ask(registrar.list_devices, account.username, account.domain)
    return json_response(request, to_json(devices))


@app.route("/accounts/me/devices/<string:uuid>", methods=["DELETE"], endpoint="devices_delete")
@inlineCallbacks
def remove_device(api, request, uuid):
    account = yield api.authenticator.authenticate(request)
    registrar = api.services.get("registrar")
    removed = False
    if registrar is not None:
        removed = yield _ask(registrar.remove_device, account.username, account.domain, uuid)
    if not removed:
        raise HTTPError(404, "No such device.")
    return json_response(request, {"message": "Device removed."})
