"""
The built-in e-mail, SMS and push backends, declared like any third-party
plugin.

Implementations are imported only when chosen.
"""

from email.utils import parseaddr

from famd.backends import Backend
from famd.options import Option, list_of_strings, positive


def _address(value):
    """A check: the value must hold an e-mail address (``Name <a@b>`` allowed)."""
    return None if "@" in parseaddr(value)[1] else "must be an e-mail address"


def _http_url(value):
    """A check: the value must be an http(s) URL."""
    if value.startswith(("https://", "http://")):
        return None
    return "must start with https:// or http://"


def _not_empty(value):
    """A check: the string must not be empty."""
    return None if value.strip() else "must not be empty"


_SHOW_BODY = Option(
    "show_body",
    bool,
    False,
    doc="also log the body (it carries codes and links: development only)",
)

_TIMEOUT = Option(
    "timeout", float, 30.0, check=positive, doc="seconds allowed for one message"
)

# ---------------------------------------------------------------- e-mail

email_log = Backend(
    "email",
    "log",
    "famd.notifiers.log:build_email",
    options=[_SHOW_BODY],
    description="log the e-mails instead of sending them (development)",
)

email_smtp = Backend(
    "email",
    "smtp",
    "famd.notifiers.smtp:build",
    options=[
        Option("host", str, "localhost", check=_not_empty, doc="the SMTP relay"),
        Option("port", int, 25, check=positive, doc="its port (465 for implicit TLS)"),
        Option(
            "from",
            str,
            check=_address,
            doc="the sender, 'a@b' or 'Name <a@b>'",
        ),
        Option("username", str, None, nullable=True, doc="login, null for none"),
        Option("password", str, None, nullable=True, doc="password for username"),
        Option(
            "tls",
            str,
            "starttls",
            choices=("none", "starttls", "implicit"),
            doc="starttls (required, verified), implicit (TLS from the start) or none",
        ),
        Option(
            "ca_file",
            str,
            None,
            nullable=True,
            path=True,
            doc="PEM certificates to trust instead of the system's",
        ),
        _TIMEOUT,
    ],
    description="send e-mails through an SMTP relay",
)

email_none = Backend(
    "email",
    "none",
    "famd.notifiers.disabled:build",
    description="no e-mails: the endpoints that send one answer 503",
)

# ---------------------------------------------------------------- SMS

sms_log = Backend(
    "sms",
    "log",
    "famd.notifiers.log:build_sms",
    options=[_SHOW_BODY],
    description="log the SMS instead of sending them (development)",
)

sms_ovh = Backend(
    "sms",
    "ovh",
    "famd.notifiers.ovh:build",
    options=[
        Option(
            "endpoint",
            str,
            "https://eu.api.ovh.com/1.0",
            check=_http_url,
            doc="the OVH API base URL (ca.api.ovh.com, api.us.ovhcloud.com...)",
        ),
        Option("application_key", str, check=_not_empty, doc="the application key"),
        Option(
            "application_secret", str, check=_not_empty, doc="the application secret"
        ),
        Option("consumer_key", str, check=_not_empty, doc="the consumer key"),
        Option(
            "service_name", str, check=_not_empty, doc="the SMS account, sms-xx12345-1"
        ),
        Option(
            "sender",
            str,
            None,
            nullable=True,
            doc="the sender OVH shows; null lets OVH pick a number",
        ),
        _TIMEOUT,
    ],
    description="send SMS through the OVHcloud SMS API",
)

sms_none = Backend(
    "sms",
    "none",
    "famd.notifiers.disabled:build",
    description="no SMS: the endpoints that send one answer 503",
)

# ---------------------------------------------------------------- push

push_flexisip_pusher = Backend(
    "push",
    "flexisip-pusher",
    "famd.notifiers.pusher:build",
    options=[
        Option("path", str, path=True, doc="the flexisip_pusher executable"),
        Option("key", str, None, nullable=True, doc="FCM server key (--key)"),
        Option(
            "prefix",
            str,
            None,
            nullable=True,
            path=True,
            doc="folder holding apn/ certificates (--prefix)",
        ),
        Option(
            "extra_args",
            list,
            [],
            check=list_of_strings,
            doc="more arguments appended to every run",
        ),
        _TIMEOUT,
        Option("max_concurrent", int, 4, check=positive,
               doc="flexisip_pusher processes running at once"),
        Option("queue_timeout", float, 5.0, check=positive,
               doc="seconds a notification waits for a free process, then 503"),
    ],
    description="push notifications through Flexisip's flexisip_pusher",
)

push_none = Backend(
    "push",
    "none",
    "famd.notifiers.disabled:build",
    description="no push notifications: the endpoints that push answer 503",
)
