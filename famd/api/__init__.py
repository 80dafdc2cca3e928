"""
The REST API under ``/api``: one Klein application (L{famd.api.app.Api}),
whose routes live in one module per group of endpoints.  Importing this
package registers them all.
"""

from famd.api import app  # noqa: F401  (the Klein app and its error handlers)
from famd.api import accounts  # noqa: F401  (accounts, me, admin accounts)
from famd.api import tokens  # noqa: F401  (push tokens, account creation with a token)
from famd.api import activation  # noqa: F401  (activation by e-mail or phone code)
from famd.api import self_service  # noqa: F401  (me: e-mail, password, phone changes)
from famd.api import devices  # noqa: F401  (a user's registered devices)

from famd.api.app import Api

__all__ = ["Api"]
