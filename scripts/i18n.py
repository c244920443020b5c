"""Keep the pt-BR catalog in step with the code.

    python scripts/i18n.py            extract messages, update translations/, compile
    python scripts/i18n.py --consume  the same, then delete the merged i18n/pt_BR/*.json
    python scripts/i18n.py --check    exit 1 if a message of the code lacks a translation

Translations are written in translations/pt_BR/LC_MESSAGES/messages.po. Work in progress may
drop msgid → translation pairs into i18n/pt_BR/*.json (for plurals, the singular msgid maps
to [singular, plural]; a message with a context, ``pgettext("order status", "Paid")``, is
the key "order status\u0004Paid", gettext's own separator); this script merges them into
the catalog.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "pt_BR" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "lazy_gettext": None,
    "_l": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
}
METHODS = [
    ("portal/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]


SKIPPED_DIRS = {"instance", "node_modules", "__pycache__", "translations", "migrations"}


def _walk_into(dirpath: str) -> bool:
    """Babel's default skips every folder whose name starts with "_" or ".", which would
    hide templates/_macros/; skip only hidden and generated folders."""
    name = Path(dirpath).name
    return not name.startswith(".") and name not in SKIPPED_DIRS


def extract() -> Catalog:
    """Every translatable message in portal/ and templates/."""
    catalog = Catalog(project="primecloud-portal", fuzzy=False)
    for message in extract_from_dir(
        str(ROOT),
        method_map=METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**": {"extensions": "jinja2.ext.do"}},
        strip_comment_tags=True,
        directory_filter=_walk_into,
    ):
        filename, lineno, msgid, comments, context = message
        catalog.add(msgid, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def load_po() -> Catalog:
    if not PO.exists():
        return Catalog(locale="pt_BR", project="primecloud-portal")
    with PO.open("rb") as fh:
        return read_po(fh, locale="pt_BR")


def missing(template: Catalog, po: Catalog) -> list[str]:
    """msgids of the code that have no (non-fuzzy, complete) pt-BR translation."""
    lacking = []
    for message in template:
        if not message.id:
            continue
        translated = po.get(message.id, context=message.context)
        if translated is None or translated.fuzzy:
            lacking.append(message.id if isinstance(message.id, str) else message.id[0])
            continue
        strings = (
            translated.string
            if isinstance(translated.string, tuple | list)
            else [translated.string]
        )
        if not all(strings):
            lacking.append(message.id if isinstance(message.id, str) else message.id[0])
    return lacking


def merge_json(po: Catalog) -> list[Path]:
    files = sorted((ROOT / "i18n" / "pt_BR").glob("*.json"))
    for path in files:
        for key, translation in json.loads(path.read_text()).items():
            context, _, msgid = key.rpartition("\x04")
            context = context or None
            string = tuple(translation) if isinstance(translation, list) else translation
            existing = po.get(msgid, context=context)
            if existing is not None:
                # Catalog.add() keeps an existing message's string; set it explicitly.
                existing.string = string
                existing.flags.discard("fuzzy")
            elif isinstance(string, tuple):
                po.add((msgid, msgid), string=string, context=context)
            else:
                po.add(msgid, string=string, context=context)
    return files


def update() -> int:
    template = extract()
    po = load_po()
    json_files = merge_json(po)
    # Re-key plural messages by the code's (singular, plural) pair and drop obsolete ones.
    po.update(template, no_fuzzy_matching=True)
    for message in list(po):
        if message.id and isinstance(message.id, tuple) and isinstance(message.string, str):
            message.string = (message.string, message.string)
    po.fuzzy = False  # a fuzzy header makes `pybabel compile` skip the whole catalog
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as fh:
        write_po(fh, po, width=100, omit_header=False, ignore_obsolete=True, include_lineno=False)
    with PO.with_suffix(".mo").open("wb") as fh:
        write_mo(fh, po)
    if "--consume" in sys.argv:
        for path in json_files:
            path.unlink()
    lacking = missing(template, po)
    for msgid in lacking:
        print(f"untranslated: {msgid}")
    print(f"{len(template)} messages, {len(lacking)} without a pt-BR translation")
    return 1 if lacking else 0


def check() -> int:
    lacking = missing(extract(), load_po())
    for msgid in lacking:
        print(f"untranslated: {msgid}")
    return 1 if lacking else 0


if __name__ == "__main__":
    sys.exit(check() if "--check" in sys.argv else update())
