"""
The account panel: HTML pages served by famd at ``/`` beside ``/api`` and
``/provisioning`` (issue 16).

Klein's own parts do the work: C{klein.Plating} with
C{twisted.web.template} lays every page out (L{famd.panel.layout}),
C{klein.Requirer} with C{klein.Form} fields reads forms, and the
session's C{authorize} (klein's C{ISession}) finds the logged-in account
(L{famd.panel.base}), and a
C{klein} session store kept in famd's database holds the sessions
(L{famd.panel.sessions}).  Text comes from one message catalogue
(L{famd.panel.catalogue}).  The route classes are L{famd.panel.public}
(login, logout) and L{famd.panel.account} (the account's own pages);
L{famd.panel.site} builds the resource famd mounts.  The contract for
adding pages is ``/work/notes/panel-contract.md`` and the README's
"Account panel" section.

Nothing here is imported before the reactor is installed (klein imports
the global reactor): L{famd.config} knows the ``panel:`` keys on its own.
"""
