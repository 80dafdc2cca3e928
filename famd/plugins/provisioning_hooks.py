"""
The provisioning hooks shipped with famd, listed in ``famd.yaml`` under
``provisioning.hooks`` as ``{backend: NAME, ...options}``.
"""

from famd.backends import Backend
from famd.options import Option, list_of_strings

query_params = Backend(
    "provisioning",
    "query-params",
    "famd.provisioning.hooks:build",
    options=[
        Option(
            "params",
            list,
            [],
            check=list_of_strings,
            doc="query arguments copied into the account's proxy section",
        )
    ],
    description="copy chosen query arguments into the provisioned proxy section",
)
