"""
The ``none`` registrar backend: famd reads no devices.

There is no provider at all: the API sees None and answers GET
``/accounts/me/devices`` with an empty object and DELETE with 404.
"""


def build(options, context):
    """Build nothing: the devices feature is off."""
    return None
