"""
Making request paths fit for log lines.

Some paths carry a secret (a provisioning key, an e-mail change link): they
are masked before any log line, access log included, shows them.
"""

import re

_SECRET_SEGMENTS = re.compile(
    rb"^(/provisioning/qrcode/|/provisioning/|/api/accounts/me/email/confirm/)[^/?]+"
)


def redact(path):
    """A request path fit for a log line: secret segments and query masked."""
    path = path.split(b"?", 1)[0]
    return _SECRET_SEGMENTS.sub(rb"\1***", path)
