"""
The account panel's administrator pages, for logged-in administrators only
(an ``admins`` row, or ``everyone_is_admin``; others get a 403 page):

 - L{famd.panel.admin.index}: ``/admin``, the links to the pages below;
 - L{famd.panel.admin.api_key}: the administrator's own API key
   (generate, shown once; revoke) and its copy-to-clipboard script;
 - L{famd.panel.admin.accounts}: the accounts list (search, filters,
   pages) and the creation form;
 - L{famd.panel.admin.account}: one account: edit, activate/deactivate,
   block/unblock, make or revoke administrator, provisioning e-mail, delete.

They write through the same rules and flows as the administrators' API
routes (L{famd.api.admin_accounts}, L{famd.api.admin_accounts2},
L{famd.flows.provisioning}), so that the panel and the API cannot disagree.
"""
