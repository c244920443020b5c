"""The pt-BR catalog is complete: every message in portal/ and templates/ is translated."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _i18n_script():
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_message_has_a_pt_br_translation():
    i18n = _i18n_script()
    template = i18n.extract()
    assert len(template) > 30, "extraction found almost nothing: is babel.cfg's mapping right?"
    catalog = i18n.load_po()
    assert not catalog.fuzzy, "a fuzzy catalog header makes `pybabel compile` skip pt-BR"
    lacking = i18n.missing(template, catalog)
    assert lacking == [], (
        f"{len(lacking)} message(s) lack a pt-BR translation (run `python scripts/i18n.py` "
        f"and translate them in translations/pt_BR/LC_MESSAGES/messages.po): {lacking[:20]}"
    )


def test_placeholders_survive_translation():
    """A translation keeps every %(name)s of its msgid, or formatting fails at run time."""
    import re

    i18n = _i18n_script()
    pattern = re.compile(r"%\(\w+\)[sd]")
    broken = []
    for message in i18n.load_po():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(pattern.findall(ids[-1]))
        for string in strings:
            # A singular form may drop the number ("uma notificação"), never add names.
            if string and not set(pattern.findall(string)) <= expected | set(
                pattern.findall(ids[0])
            ):
                broken.append(ids[0])
            if string and len(ids) == 1 and set(pattern.findall(string)) != expected:
                broken.append(ids[0])
    assert broken == []
