"""
The QR code a Linphone app scans to fetch its provisioning document: a PNG
holding just the provisioning URL, with the highest error correction (H) and
the standard four-module quiet zone.
"""

import io
from urllib.parse import quote

import qrcode
from qrcode.constants import ERROR_CORRECT_H


def provisioning_url(public_url, confirmation_key):
    """The URL a device GETs: C{{public_url}/provisioning/{confirmation_key}}."""
    return "%s/provisioning/%s" % (public_url.rstrip("/"), quote(confirmation_key, safe=""))


def png(data, box_size=10):
    """
    A QR code of C{data} (str) as PNG bytes.

    @param box_size: pixels per module.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_H, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return out.getvalue()
