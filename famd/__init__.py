"""famd: the Flexisip account manager daemon (REST API and Linphone provisioning)."""

__version__ = "0.1.0"
