"""
The ``none`` backend of e-mail, SMS and push: the feature is off.

Its factory returns None; the API answers 503 to the endpoints that need a
provider that is None.
"""


def build(options, context):
    """No provider: the feature is turned off."""
    return None
