"""
Metrics put in place at build time, at famd's existing choke points: the
site (every request), the storage's transaction runner, the notifiers and
the registrar (wrappers), the database pool (a gauge).  With metrics off
none of this is built: the site, storage and providers are the plain ones.
"""

from time import perf_counter

from zope.interface import directlyProvides, providedBy

from famd.interfaces import DeliveryFailed, DeliveryTimedOut, RegistrarUnavailable
from famd.metrics.recorder import NO_RECORDER, Recorder


def recorder_for(config):
    """A L{Recorder} when C{metrics.listen} is set, else L{NO_RECORDER}."""
    return Recorder() if config.metrics["listen"] else NO_RECORDER


def meter_site(site, recorder):
    """
    Have C{site} (a L{famd.web.FamdSite}) count each request it answers:
    its Klein rule (C{request.route}, set by L{famd.web.mount}; None when no
    route answered), application, method, status, and the seconds from the
    request received (head and body, C{request.started_at}) to its answer.
    """
    record = recorder.request

    def answered(request):
        started = request.started_at
        if started is not None:
            rule = request.route
            record(rule, request.prepath[0] if rule is not None else None,
                   request.method, request.code, perf_counter() - started)

    site.answered = answered
    return site


class CountedNotifier:
    """A notifier whose every C{send} is counted by backend and outcome."""

    def __init__(self, sender, backend, recorder):
        self._sender = sender
        self._backend = backend
        self._recorder = recorder
        directlyProvides(self, *providedBy(sender))

    def send(self, *args, **kwargs):
        def sent(result):
            self._recorder.delivery(self._backend, "sent")
            return result

        def failed(failure):
            timed_out = failure.check(DeliveryTimedOut)
            self._recorder.delivery(
                self._backend,
                "timed_out" if timed_out else "refused" if failure.check(DeliveryFailed) else "error")
            return failure

        return self._sender.send(*args, **kwargs).addCallbacks(sent, failed)

    def __getattr__(self, name):
        return getattr(self._sender, name)


class CountedRegistrar:
    """A registrar whose every call is counted by operation and outcome."""

    def __init__(self, registrar, recorder):
        self._registrar = registrar
        self._recorder = recorder
        directlyProvides(self, *providedBy(registrar))

    def _counted(self, operation, d):
        def done(result):
            outcome = "ok"
            if hasattr(result, "check"):
                outcome = "unavailable" if result.check(RegistrarUnavailable) else "error"
            self._recorder.registrar(operation, outcome)
            return result

        return d.addBoth(done)

    def list_devices(self, username, domain):
        return self._counted("list_devices", self._registrar.list_devices(username, domain))

    def remove_device(self, username, domain, uuid):
        return self._counted("remove_device", self._registrar.remove_device(username, domain, uuid))

    def __getattr__(self, name):
        return getattr(self._registrar, name)


def instrument_components(config, components, recorder):
    """
    Put C{recorder} at the choke points of C{components} (from
    L{famd.service.build_components}): the storage's transactions and
    pool, the notifiers, the registrar.  Nothing when metrics are off.
    """
    components["metrics"] = recorder
    if not recorder.enabled:
        return components
    storage = components["storage"]
    storage.observe = recorder.transaction
    pool_use = getattr(storage, "pool_use", None)
    if pool_use is not None:
        def pool():
            in_use, most = pool_use()
            return (("pool_in_use", (), in_use), ("pool_max", (), most))
        recorder.gauge(pool)
    for kind in ("email", "sms", "push"):
        if components.get(kind) is not None:
            components[kind] = CountedNotifier(
                components[kind], getattr(config, kind).backend, recorder)
    if components.get("registrar") is not None:
        components["registrar"] = CountedRegistrar(components["registrar"], recorder)
    return components
