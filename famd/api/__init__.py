"""
The REST API under ``/api``: one Klein application (L{famd.api.app.Api}),
whose routes live in one module per group of endpoints.  Importing this
package registers them all.
"""

from famd.api import app  # noqa: F401  (the Klein app and its error handlers)

from famd.api.app import Api

__all__ = ["Api"]
