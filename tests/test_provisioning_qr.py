"""
Tests for the provisioning QR code, decoded with zbar.
"""

import io

from PIL import Image
from pyzbar import pyzbar
from twisted.trial.unittest import TestCase

from famd.provisioning import qr


def decode_image(image):
    """The texts of the QR codes zbar finds in a PIL image."""
    return [symbol.data.decode("utf-8") for symbol in pyzbar.decode(image)]


def decode(png):
    """The texts of the QR codes found in PNG bytes."""
    return decode_image(Image.open(io.BytesIO(png)))


class QRCodeTests(TestCase):
    """The QR code holds exactly the provisioning URL."""

    def test_url(self):
        """The provisioning URL joins the public URL, /provisioning/ and the key."""
        self.assertEqual(
            qr.provisioning_url("https://acc.example.org/", "bcFCGJy6WFIFK"),
            "https://acc.example.org/provisioning/bcFCGJy6WFIFK",
        )

    def test_url_quotes_key(self):
        """A key with reserved characters is percent-encoded into one path segment."""
        self.assertEqual(
            qr.provisioning_url("http://h", "a/b?c"), "http://h/provisioning/a%2Fb%3Fc"
        )

    def test_png_decodes_to_url(self):
        """The PNG is a QR code that a reader decodes to exactly the URL."""
        url = "https://acc.example.org/provisioning/bcFCGJy6WFIFK"
        png = qr.png(url)
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(decode(png), [url])

    def test_error_correction_and_quiet_zone(self):
        """The code uses error correction H and a four-module white border."""
        url = "https://acc.example.org/provisioning/bcFCGJy6WFIFK"
        image = Image.open(io.BytesIO(qr.png(url, box_size=1))).convert("L")
        self.assertEqual(decode_image(image), [url])
        width, height = image.size
        border = [
            image.getpixel((x, y))
            for x in range(width)
            for y in range(height)
            if min(x, y, width - 1 - x, height - 1 - y) < QUIET
        ]
        self.assertEqual(set(border), {255})
        self.assertEqual(error_correction_levels(image), ["H", "H"])


QUIET = 4

# The two top bits of the 15-bit format information, once unmasked with
# 101010000010010, give the error correction level (ISO/IEC 18004, 7.9).
_LEVELS = {(0, 1): "L", (0, 0): "M", (1, 1): "Q", (1, 0): "H"}


def error_correction_levels(image):
    """
    The error correction level read from both copies of the format
    information of a QR code drawn one pixel per module with a 4-module
    border.
    """
    size = image.size[0] - 2 * QUIET

    def dark(row, column):
        return int(image.getpixel((column + QUIET, row + QUIET)) < 128)

    copies = [
        (dark(8, 0), dark(8, 1)),  # bits 14 and 13 beside the top-left finder
        (dark(size - 1, 8), dark(size - 2, 8)),  # and beside the bottom-left one
    ]
    return [_LEVELS[(bit14 ^ 1, bit13 ^ 0)] for bit14, bit13 in copies]
