"""
``twistd famd``: command-line options and the service factory.

The configuration is read and checked while options are parsed, so a bad
file stops twistd with every error before anything is bound; the storage
schema is created or upgraded before the service starts.
"""

from twisted.python import usage

from famd.config import ConfigError, load
from famd.interfaces import SchemaTooNew, StorageUnavailable


class Options(usage.Options):
    """Options of ``twistd famd``."""

    synopsis = "[--config FILE]"
    longdesc = "Serve the Flexisip account manager REST API and Linphone provisioning."
    optParameters = [
        ["config", "c", "famd.yaml", "The famd.yaml configuration file."],
    ]

    def postOptions(self):
        try:
            self["famd_config"] = load(self["config"])
        except ConfigError as error:
            raise usage.UsageError(
                "invalid configuration %s:\n  %s" % (self["config"], "\n  ".join(error.errors))
            )


def makeService(options):
    """Build famd's service tree from parsed L{Options}."""
    from twisted.internet import reactor

    from famd.service import build_components, build_service

    config = options["famd_config"]
    components = build_components(config, reactor)
    try:
        components["storage"].migrate_blocking()
    except (SchemaTooNew, StorageUnavailable) as error:
        raise SystemExit("famd: %s" % (error,))
    except Exception as error:
        raise SystemExit("famd: cannot open the storage: %s" % (error,))
    return build_service(config, reactor, components)
