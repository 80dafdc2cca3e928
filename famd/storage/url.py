"""
Database URLs: ``mysql://user:password@host:3306/database`` and
``postgresql://user:password@host:5432/database``.

They are parsed once, for the drivers, and only ever shown redacted: the
password never reaches a log line or an error message.
"""

from dataclasses import dataclass, field
from typing import Optional, Tuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

SCHEMES = {
    "mysql": ("mysql", "mariadb"),
    "postgresql": ("postgresql", "postgres"),
}


@dataclass(frozen=True)
class DatabaseURL:
    """The parts of a database URL; C{password} stays out of C{repr}."""

    scheme: str
    host: str
    port: Optional[int]
    user: Optional[str]
    password: Optional[str] = field(repr=False)
    database: str
    query: Tuple[Tuple[str, str], ...] = ()

    def redacted(self):
        """The URL with the password replaced by ``***``, fit for logs."""
        auth = ""
        if self.user is not None:
            auth = quote(self.user, safe="")
            if self.password is not None:
                auth += ":***"
            auth += "@"
        port = "" if self.port is None else ":%d" % (self.port,)
        return "%s://%s%s%s/%s" % (self.scheme, auth, self.host, port, self.database)

    def scrub(self, text):
        """C{text} (say a driver's error message) with the password masked."""
        if self.password:
            text = text.replace(self.password, "***")
        return text


def parse(url, engine):
    """
    Parse C{url} for C{engine} ('mysql' or 'postgresql').

    @raise ValueError: the URL is unusable; the message never contains it.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme not in SCHEMES[engine]:
        raise ValueError(
            "must start with %s" % (" or ".join(s + "://" for s in SCHEMES[engine]),)
        )
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise ValueError("must name the database, as in %s://user:password@host/database"
                         % (engine,))
    return DatabaseURL(
        scheme=parts.scheme,
        host=parts.hostname or "localhost",
        port=port,
        user=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
        database=database,
        query=tuple(parse_qsl(parts.query)),
    )


def check(engine):
    """An L{famd.options.Option} check that the value is a URL for C{engine}."""

    def checker(value):
        try:
            parse(value, engine)
        except ValueError as error:
            return str(error)
        return None

    return checker
