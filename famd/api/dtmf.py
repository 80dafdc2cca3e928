"""FAM 2.x's ``dtmf_protocol`` of an account: its values and its rule, for the routes writing it."""

DTMF_PROTOCOLS = ("sipinfo", "rfc2833", "sipmessage")
INVALID_DTMF = "The selected dtmf protocol is invalid."


def dtmf_protocol(value, errors):
    """
    C{value} when it is one of L{DTMF_PROTOCOLS}; else None, with the
    ``dtmf_protocol`` error added to C{errors} (a L{famd.api.validation.Errors}).
    The route decides first what counts as absent (then it does not call this).
    """
    if isinstance(value, str) and value in DTMF_PROTOCOLS:
        return value
    errors.add("dtmf_protocol", INVALID_DTMF)
    return None
