"""famd.api.dtmf: the one rule of FAM 2.x's ``dtmf_protocol``."""

from twisted.trial import unittest

from famd.api import validation
from famd.api.dtmf import DTMF_PROTOCOLS, INVALID_DTMF, dtmf_protocol


class DTMFProtocolTests(unittest.TestCase):

    def test_known(self):
        """Each of FAM's three protocols is kept, with no error."""
        errors = validation.Errors()
        self.assertEqual([dtmf_protocol(value, errors) for value in DTMF_PROTOCOLS],
                         ["sipinfo", "rfc2833", "sipmessage"])
        self.assertFalse(errors)

    def test_other(self):
        """Any other value (text, case, type) is None with the Laravel message."""
        for value in ("morse", "RFC2833", "", 2833, ["rfc2833"]):
            errors = validation.Errors()
            self.assertIsNone(dtmf_protocol(value, errors))
            self.assertEqual(errors.fields, {"dtmf_protocol": [INVALID_DTMF]})
