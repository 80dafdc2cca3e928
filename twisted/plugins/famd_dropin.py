"""twistd's entry for famd: ``twistd famd --config famd.yaml``."""

from twisted.application.service import ServiceMaker

famd = ServiceMaker(
    "famd", "famd.tap", "Flexisip account manager: REST API and Linphone provisioning.", "famd"
)
