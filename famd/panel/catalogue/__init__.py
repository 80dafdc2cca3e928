"""
The account panel's message catalogue: every text a panel page shows, by
key, in one JSON file per language (``en.json`` here).  A translation is a
file of the same keys named by ``panel.catalogue`` in famd.yaml; a key it
lacks falls back to English (logged once, at start), a key English lacks
is refused at start.  Texts are C{str.format} templates: ``{seconds}``.
"""

import json
import os

from twisted.logger import Logger

log = Logger(namespace="famd.panel.catalogue")

ENGLISH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "en.json")


class CatalogueError(ValueError):
    """A catalogue file cannot be used (unreadable, not a JSON object of texts, unknown keys)."""


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            texts = json.load(f)
    except (OSError, ValueError) as error:
        raise CatalogueError("panel.catalogue %s: %s" % (path, error)) from None
    if not isinstance(texts, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in texts.items()):
        raise CatalogueError("panel.catalogue %s: must be a JSON object of texts" % (path,))
    return texts


class Catalogue:
    """The texts of one language; call it with a key (and format values) for a text."""

    def __init__(self, texts):
        self._texts = dict(texts)

    @classmethod
    def load(cls, path=None):
        """
        English, with the texts of the file at C{path} over it when given
        (blocking: call at start-up).

        @raise CatalogueError: the file is unusable or has keys English lacks.
        """
        texts = _read(ENGLISH)
        if path is None:
            return cls(texts)
        translated = _read(path)
        unknown = sorted(set(translated) - set(texts))
        if unknown:
            raise CatalogueError("panel.catalogue %s: unknown keys: %s" % (path, ", ".join(unknown)))
        missing = set(texts) - set(translated)
        if missing:
            log.warn("panel.catalogue {path}: {count} texts missing, shown in English",
                     path=path, count=len(missing))
        texts.update(translated)
        return cls(texts)

    def __call__(self, key, **values):
        text = self._texts[key]
        return text.format(**values) if values else text

    def keys(self):
        """Every key of the catalogue."""
        return set(self._texts)
