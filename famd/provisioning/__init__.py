"""
Linphone remote provisioning: the lpconfig XML document that configures a
Linphone app (the operator's linphonerc defaults, then the account whose
confirmation key was presented, once), and the QR code that carries its URL.

- L{famd.provisioning.rcfile} reads the operator's linphonerc;
- L{famd.provisioning.document} builds the XML, a pure function;
- L{famd.provisioning.qr} draws the QR code;
- L{famd.provisioning.hooks} is the example L{famd.interfaces.IProvisioningHook};
- L{famd.provisioning.web} serves ``/provisioning`` with Klein.
"""

from famd.provisioning.document import ProvisioningRequest

__all__ = ["ProvisioningRequest"]
