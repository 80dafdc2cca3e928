"""
Accounts as the 2021 account manager serialized them.

Field names and order follow the recorded transcripts: the full object (me,
activate, create) carries ``passwords`` (algorithms only) and ``admin``; the
admin listing and show omit them; ``confirmation_key`` appears, right after
``activated``, only in the admin create and show answers.  Never a hash or
an API key.  The listing is Laravel's length-aware pagination object.
Times (datetimes in the model) show as ``2021-06-01 10:00:00``, Laravel's
model timestamps as ``2021-06-01T10:00:00.000000Z``; an unknown time is
null.
"""

from famd.clock import laravel, text

PREVIOUS = "&laquo; Previous"
NEXT = "Next &raquo;"
ON_EACH_SIDE = 3


def _admin(account):
    if account.admin is None:
        return None
    return {
        "created_at": laravel(account.admin.created_at),
        "updated_at": laravel(account.admin.updated_at),
    }


def _expiration(account):
    expiration = account.activation_expiration
    if expiration is None:
        return None
    return {
        "id": expiration.id,
        "account_id": expiration.account_id,
        "expires": text(expiration.expires),
        "created_at": laravel(expiration.created_at),
        "updated_at": laravel(expiration.updated_at),
    }


def _email_changed(account):
    change = account.email_changed
    if change is None:
        return None
    return {"new_email": change.new_email, "created_at": text(change.created_at)}


def account(config, account, confirmation_key=False, relations=True):
    """
    The account object.

    @param confirmation_key: include it (admin create and show).
    @param relations: include ``passwords`` and ``admin`` (not in the
        admin listing and show).
    """
    body = {
        "id": account.id,
        "username": account.username,
        "domain": account.domain,
        "email": account.email,
        "activated": account.activated,
    }
    if confirmation_key:
        body["confirmation_key"] = account.confirmation_key
    body["ip_address"] = account.ip_address
    body["user_agent"] = account.user_agent
    body["creation_time"] = text(account.creation_time)
    body["realm"] = config.realm
    body["phone"] = account.phone
    expiration = account.activation_expiration
    body["confirmation_key_expires"] = text(expiration.expires) if expiration is not None else None
    if relations:
        body["passwords"] = [{"algorithm": password.algorithm} for password in account.passwords]
        body["admin"] = _admin(account)
    # Most accounts have neither: the checks are inlined for the listing.
    body["email_changed"] = None if account.email_changed is None else _email_changed(account)
    body["activation_expiration"] = None if expiration is None else _expiration(account)
    return body


def info(config, account):
    """The public ``GET /api/accounts/{sip}/info`` answer."""
    return {"activated": account.activated, "realm": config.realm}


def last_page(total, per_page):
    return max(1, -(-total // per_page))


def window(current, last):
    """
    Laravel 8's UrlWindow: the page numbers shown in ``links``, with None for
    a "..." gap.  Its size is bounded whatever the number of pages.
    """
    if last < ON_EACH_SIDE * 2 + 8:
        return list(range(1, last + 1))
    size = ON_EACH_SIDE + 4
    finish = [last - 1, last]
    if current <= size:
        return list(range(1, size + ON_EACH_SIDE + 1)) + [None] + finish
    if current > last - size:
        return [1, 2, None] + list(range(last - (size + ON_EACH_SIDE - 1), last + 1))
    slider = list(range(current - ON_EACH_SIDE, current + ON_EACH_SIDE + 1))
    return [1, 2, None] + slider + [None] + finish


def page(config, accounts, current, per_page, total, path="/api/accounts"):
    """The 2021 pagination object for one page of accounts."""
    base = config.public_url + path

    def url(number):
        return "%s?page=%d" % (base, number)

    last = last_page(total, per_page)
    previous_url = url(current - 1) if current > 1 else None
    next_url = url(current + 1) if current < last else None
    links = [{"url": previous_url, "label": PREVIOUS, "active": False}]
    for number in window(current, last):
        if number is None:
            links.append({"url": None, "label": "...", "active": False})
        else:
            links.append({"url": url(number), "label": str(number), "active": number == current})
    links.append({"url": next_url, "label": NEXT, "active": False})
    first_item = (current - 1) * per_page + 1
    return {
        "current_page": current,
        "data": [account(config, item, relations=False) for item in accounts],
        "first_page_url": url(1),
        "from": first_item if accounts else None,
        "last_page": last,
        "last_page_url": url(last),
        "links": links,
        "next_page_url": next_url,
        "path": base,
        "per_page": per_page,
        "prev_page_url": previous_url,
        "to": first_item + len(accounts) - 1 if accounts else None,
        "total": total,
    }


def devices(found):
    """
    The body of a device list (L{famd.registrar.Device}s): an object keyed
    by uuid.
    """
    return {
        device.uuid: {
            "uuid": device.uuid,
            "user_agent": device.user_agent,
            "expires_at": device.expires_at,
            "update_time": device.update_time,
        }
        for device in found
    }
