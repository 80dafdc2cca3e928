"""
The REST API under ``/api``: small Klein classes, one per family of routes
(L{accounts}, L{admin_accounts}, L{signup}, L{self_service}, L{devices}),
each built with the collaborators its routes use, and mounted side by side
by L{famd.api.app}.  Importing a module registers nothing anywhere.
"""
