"""Text that people type and text the portal derives from it, in one place.

- :func:`name_like`: every name-like field (a person's name, an organization's name, a
  suspension reason) goes through it: NFC-normalized, control and format characters
  refused (Unicode Cc and Cf: zero-width spaces, right-to-left overrides, ANSI escapes...),
  runs of spaces collapsed, and at least one visible character required.
- :func:`one_line`: a short free text on one line (a payment reference, a cancellation or
  void reason): spaces collapsed, required or not, at most so many characters.
- :func:`fit`: a derived string (an email subject built from two names, an audit label, a
  user agent) made to fit its column by construction, with an ellipsis where it was cut.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from portal.errors import Invalid

ELLIPSIS = "…"

INVISIBLE_CHARACTERS = _l(
    "Remove the invisible or control characters (such as zero-width spaces or text-direction "
    "marks)."
)
NOTHING_VISIBLE = _l("Enter at least one visible character.")

# Letters that render as nothing (Hangul fillers, the blank Braille pattern): accepted by
# their category, but a name made only of them reads as blank.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def _visible(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNPS" and ch not in BLANK_LETTERS


def name_like(value: str | None, field: str | None = None, *, multiline: bool = False) -> str:
    """``value`` cleaned for a name-like field, or Invalid(field=field).

    NFC first (so "é" typed two ways is one name); then any Cc/Cf character (and line or
    paragraph separators) is refused — except line breaks in a ``multiline`` field, which
    are kept as "\\n". Spaces (any Unicode space separator) collapse to one; leading and
    trailing ones go. The result must hold a letter, digit, punctuation or symbol that
    shows. Length limits stay with the caller (they differ per field)."""
    text = unicodedata.normalize("NFC", value or "")
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for ch in text:
        if multiline and ch == "\n":
            continue
        if unicodedata.category(ch) in REFUSED_CATEGORIES:
            raise Invalid(str(INVISIBLE_CHARACTERS), field=field)
    lines = text.split("\n") if multiline else [text]
    cleaned = [" ".join(line.split()) for line in lines]
    if multiline:
        text = "\n".join(cleaned).strip("\n")
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
    else:
        text = cleaned[0]
    if text and not any(_visible(ch) for ch in text):
        raise Invalid(str(NOTHING_VISIBLE), field=field)
    return text


def one_line(
    value: str | None, *, field: str, maximum: int, missing: str | None = None
) -> str | None:
    """``value`` with its runs of spaces (newlines included) collapsed; empty is refused
    with ``missing`` when it is given (else None), longer than ``maximum`` is refused."""
    text = " ".join((value or "").split())
    if not text:
        if missing is not None:
            raise Invalid(missing, field=field)
        return None
    if len(text) > maximum:
        raise Invalid(gettext("Use at most %(max)d characters.", max=maximum), field=field)
    return text


def fit(value: str | None, max_length: int) -> str | None:
    """``value`` cut to at most ``max_length`` characters, ending with an ellipsis when it
    was cut (on a space if one is near, so a word is not split in the middle)."""
    if value is None or len(value) <= max_length:
        return value
    if max_length <= 1:
        return ELLIPSIS[:max_length]
    cut = value[: max_length - 1]
    space = cut.rfind(" ")
    if space >= max_length * 3 // 4:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS
