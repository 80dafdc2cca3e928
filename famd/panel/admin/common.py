"""
What the administrator pages share: reading a form's text the way the
API's rules expect a JSON body, the field error texts, small form pieces
(checkboxes, selects, one-button forms), and a done-notice carried across
a POST-redirect-GET by a query key.
"""

from twisted.web.template import tags

from famd.panel.base import post_form


DONE = ("created", "saved", "activated", "deactivated", "blocked", "unblocked", "admin",
        "unadmin", "provisioning", "deleted", "revoked")
"""The notices a redirect may ask for (``?done=``), each ``admin.done.<name>``."""


def blank_to_none(value):
    """A form's empty (or all-space) text as the API's missing value."""
    return value if value is not None and value.strip() else None


def ticked(value):
    """Whether a checkbox was sent ticked."""
    return value not in (None, "")


def field_errors(fields):
    """Field -> one text of its messages, from the API's field -> messages."""
    return {name: " ".join(messages) for name, messages in fields.items() if messages}


def checkbox(panel, name, label, checked=False):
    """A labelled checkbox (sends C{on} when ticked)."""
    identity = "field-" + name
    box = tags.input(type="checkbox", name=name, id=identity, value="on")
    if checked:
        box(checked="checked")
    return tags.div(class_="field check")(box, " ", tags.label(for_=identity)(panel.text(label)))


def select(panel, name, label, options, chosen):
    """A labelled select of (value, catalogue key) C{options}, C{chosen} selected."""
    identity = "field-" + name
    choices = []
    for value, key in options:
        option = tags.option(value=value)(panel.text(key))
        if value == chosen:
            option(selected="selected")
        choices.append(option)
    return tags.div(class_="field")(tags.label(for_=identity)(panel.text(label)),
                                    tags.select(name=name, id=identity)(*choices))


def button_form(panel, request, action, submit, danger=False):
    """A form holding only its CSRF field and one button (an action on one account)."""
    return post_form(request, action, tags.button(
        type="submit", class_="danger" if danger else "button")(panel.text(submit)),
        class_="panel inline")


def done_notice(panel, request):
    """The notice a redirect asked for with ``?done=``, or an empty string."""
    values = (request.args or {}).get(b"done") or [b""]
    name = values[-1].decode("ascii", "replace")
    return panel.notice("admin.done." + name) if name in DONE else ""


def when(panel, moment):
    """An aware datetime as the pages show it (UTC), or the text for none."""
    return panel.text("account.none") if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")
