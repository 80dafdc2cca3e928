"""
The messages famd sends, rendered from template files an operator can
replace.

A template called C{name} is up to three UTF-8 files: ``<name>.subject.txt``
(the e-mail subject; absent for SMS), ``<name>.txt`` (the plain text, the
whole message of an SMS) and an optional ``<name>.html`` (the HTML
alternative of an e-mail).  They use L{string.Template} syntax: ``$name`` or
``${name}`` is replaced by a variable, ``$$`` is a dollar sign.  Variables are
escaped for HTML in the ``.html`` file, and line breaks are removed from them
in the subject.

The defaults ship in the ``templates`` folder beside this module:

    - C{activation}: app_name, link, code, username
    - C{email_change}: app_name, public_url, link, code, new_email
    - C{sms_phone_code}: app_name, code
    - C{provisioning}: app_name, username, sip_address, link, qrcode_url
    - C{reset_password}: app_name, public_url, link, username, lifetime
      (how long the link works, in words: "1 day", "1 hour and 30 minutes"),
      hours (the same in whole hours, for templates written before)
    - C{recovery}: app_name, public_url, username, code, lifetime (the
      account panel's recovery by e-mail)

A C{template_dir} replaces a default as a whole: when it holds
``<name>.txt``, every file of that template is read from it (so a missing
``.html`` there means a plain-text message), otherwise the packaged files are
used.  A deployment's L{Templates} reads every file when famd starts (never
on the reactor thread while serving) and keeps them in memory; restart famd
after editing them.
"""

import html
import os
import re
from importlib import resources
from string import Template

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

NAMES = ("activation", "email_change", "sms_phone_code", "provisioning", "reset_password", "recovery")
"""The templates famd sends."""


class TemplateError(Exception):
    """A template is missing, unreadable or uses a variable nobody gave."""


def _packaged():
    """The folder of the default templates (a Traversable)."""
    return resources.files(__package__).joinpath("templates")


def _read_files(name, template_dir):
    """The (subject, text, html) file contents of C{name}, None when absent."""
    if template_dir is not None and os.path.isfile(
        os.path.join(template_dir, name + ".txt")
    ):
        folder = template_dir

        def read(filename):
            path = os.path.join(folder, filename)
            if not os.path.isfile(path):
                return None
            with open(path, encoding="utf-8") as f:
                return f.read()

    else:
        folder = _packaged()

        def read(filename):
            entry = folder.joinpath(filename)
            return entry.read_text(encoding="utf-8") if entry.is_file() else None

    try:
        contents = tuple(
            read(name + suffix) for suffix in (".subject.txt", ".txt", ".html")
        )
    except (OSError, UnicodeDecodeError) as e:
        raise TemplateError("cannot read template %r: %s" % (name, e)) from None
    if contents[1] is None:
        raise TemplateError("no template %r" % (name,))
    return contents


def load(name, template_dir=None):
    """
    The L{Template}s (subject or None, text, html or None) of C{name}.

    @raise TemplateError: no such template, or a file cannot be read.
    """
    if not _NAME.match(name):
        raise TemplateError("invalid template name %r" % (name,))
    return tuple(
        None if content is None else Template(content)
        for content in _read_files(name, template_dir)
    )


def _substitute(template, values, filename):
    try:
        return template.substitute(values)
    except KeyError as e:
        raise TemplateError(
            "template %s uses $%s, which is not provided" % (filename, e.args[0])
        ) from None
    except ValueError as e:
        raise TemplateError("template %s: %s" % (filename, e)) from None


class Templates:
    """
    The templates of one deployment, read from disk once, when it is built
    (at start-up), and rendered from memory.

    @param template_dir: a folder whose templates replace the packaged ones,
        or None.
    @raise TemplateError: see L{load}.
    """

    def __init__(self, template_dir=None, names=NAMES):
        self._loaded = {name: load(name, template_dir) for name in names}

    def render(self, name, variables):
        """
        Render the template C{name}.

        @param variables: a mapping of variable name to value (made str).
        @return: (subject or None, text, html or None), the text without its
            trailing line breaks.
        @raise TemplateError: no such template, or a variable is missing.
        """
        if name not in self._loaded:
            raise TemplateError("no template %r" % (name,))
        return _render(name, self._loaded[name], variables)


def render(name, variables, template_dir=None):
    """
    Render the template C{name}, read now from disk (blocking: serving code
    uses a L{Templates} built at start-up).

    @param variables: a mapping of variable name to value (made str).
    @param template_dir: a folder whose templates replace the packaged ones,
        or None.
    @return: (subject or None, text, html or None), the text without its
        trailing line breaks.
    @raise TemplateError: see L{load}, or a variable is missing.
    """
    return _render(name, load(name, template_dir), variables)


def _render(name, loaded, variables):
    subject_t, text_t, html_t = loaded
    plain = {key: str(value) for key, value in variables.items()}
    subject = None
    if subject_t is not None:
        one_line = {key: " ".join(value.splitlines()) for key, value in plain.items()}
        subject = " ".join(
            _substitute(subject_t, one_line, name + ".subject.txt").split()
        )
    text = _substitute(text_t, plain, name + ".txt").rstrip("\r\n")
    body = None
    if html_t is not None:
        escaped = {key: html.escape(value, quote=True) for key, value in plain.items()}
        body = _substitute(html_t, escaped, name + ".html")
    return subject, text, body
