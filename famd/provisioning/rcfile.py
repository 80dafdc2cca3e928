"""
Read a linphonerc (the INI dialect of liblinphone's ``LpConfig``), keeping the
order of its sections and keys.

The rules are liblinphone's own, so that the defaults famd serves are what a
Linphone app would read from the same file: a section is ``[name]`` (the
first word inside the brackets, section parameters ignored), a repeated
section continues the first one, a line whose first non-blank character is
``#`` is a comment, a key is the first word before the first ``=``, its value
is everything after that ``=`` up to the end of the line without trailing
spaces, an empty value is ignored and a repeated key replaces the value in
the key's first position.  Keys outside any section are ignored.
"""


class RcFileError(Exception):
    """The linphonerc cannot be read; the message names the file and why."""


def parse(text):
    """
    Parse the text of a linphonerc.

    @param text: the file's content (str).
    @return: a tuple of (section name, tuple of (key, value)) in file order.
    """
    sections = {}
    current = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("["):
            name = _section_name(stripped)
            if name is not None:
                current = sections.setdefault(name, {})
            continue
        if stripped.startswith("#") or "=" not in line:
            continue
        key_part, _, value = line.partition("=")
        words = key_part.split()
        value = value.rstrip(" ")
        if not words or not value or current is None:
            continue
        current[words[0]] = value
    return tuple(
        (name, tuple(entries.items())) for name, entries in sections.items()
    )


def _section_name(line):
    end = line.find("]")
    if end < 0:
        return None
    words = line[1:end].split()
    return words[0] if words else None


def load(path):
    """
    Read and parse the linphonerc at C{path} (blocking: call it at start-up,
    not while serving).

    @return: as L{parse}.
    @raise RcFileError: the file is missing, unreadable or not UTF-8.
    """
    try:
        with open(path, "rb") as rc:
            data = rc.read()
    except OSError as error:
        raise RcFileError(
            "provisioning.rc_file %s: %s" % (path, error.strerror or error)
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RcFileError(
            "provisioning.rc_file %s: not UTF-8 (byte %d)" % (path, error.start)
        ) from None
    return parse(text)
