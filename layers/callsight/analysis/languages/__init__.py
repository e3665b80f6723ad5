"""The registry of language modules. To add a language: a package beside ``ru``/``en`` with a
:class:`~callsight.analysis.languages.base.LanguagePack` subclass and its ``phrases.yaml``, and one
line in :data:`LANGUAGES`."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from callsight.analysis.languages.base import LanguagePack


def _russian() -> LanguagePack:
    from callsight.analysis.languages.ru import Russian

    return Russian()


def _english() -> LanguagePack:
    from callsight.analysis.languages.en import English

    return English()


LANGUAGES: dict[str, Callable[[], LanguagePack]] = {"ru": _russian, "en": _english}


@cache
def language_pack(code: str) -> LanguagePack | None:
    """The module for ``code`` (loaded once per process), or ``None`` when the language is unsupported."""
    factory = LANGUAGES.get(code.lower())
    return factory() if factory else None


def supported_languages() -> list[str]:
    return sorted(LANGUAGES)
