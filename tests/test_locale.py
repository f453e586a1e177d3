"""The Urdu catalogues: every entry translated, placeholders kept, none missing.

Three catalogues ship in kp_workspace/locale/ur/LC_MESSAGES: ours, and deform's
and colander's (those packages have no Urdu of their own).
"""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, 'kp_workspace')
MESSAGES = os.path.join(PACKAGE, 'locale', 'ur', 'LC_MESSAGES')
DOMAINS = ('kp_workspace', 'deform', 'colander')
PLACEHOLDER = re.compile(r'\$\{[^}]*\}')


def _read(path, locale=None):
    from babel.messages.pofile import read_po
    with open(path, 'rb') as f:
        return read_po(f, locale=locale)


def _problems(catalog):
    """Entries with no translation, a fuzzy one, or other placeholders than the English."""
    problems = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(('untranslated', msgid))
        elif message.fuzzy:
            problems.append(('fuzzy', msgid))
        elif any(sorted(PLACEHOLDER.findall(s)) != sorted(PLACEHOLDER.findall(msgid))
                 for s in strings):
            problems.append(('placeholders differ', msgid))
    return problems


@pytest.mark.parametrize('domain', DOMAINS)
def test_every_entry_is_translated(domain):
    catalog = _read(os.path.join(MESSAGES, f'{domain}.po'), locale='ur')
    assert len(list(catalog)) > 20
    assert not catalog.fuzzy  # a fuzzy header makes the compiler skip the whole file
    assert _problems(catalog) == []


def test_the_check_finds_what_is_wrong():
    from babel.messages.catalog import Catalog
    catalog = Catalog(locale='ur')
    catalog.add('Saved.', 'محفوظ ہو گیا۔')
    catalog.add('Open', '')
    catalog.add('Close', 'بند کریں', flags=('fuzzy',))
    catalog.add('Note ${n} added.', 'نوٹ شامل ہو گیا۔')
    assert _problems(catalog) == [('untranslated', 'Open'), ('fuzzy', 'Close'),
                                  ('placeholders differ', 'Note ${n} added.')]


@pytest.mark.parametrize('domain', ('deform', 'colander'))
def test_deform_and_colander_catalogues_cover_their_packages(domain):
    """Every message the installed deform or colander declares has an Urdu entry."""
    import importlib
    package = os.path.dirname(importlib.import_module(domain).__file__)
    theirs = {m.id for m in _read(os.path.join(package, 'locale', f'{domain}.pot')) if m.id}
    ours = {m.id for m in _read(os.path.join(MESSAGES, f'{domain}.po')) if m.id}
    assert theirs - ours == set()


def test_every_string_in_the_sources_is_in_the_catalogue(tmp_path):
    """Extract the sources with the tool the README names (lingua's pot-create, with
    lingua.cfg) and compare: a string marked for translation but missing from the
    Urdu catalogue shows in English on Urdu pages."""
    pot = tmp_path / 'kp_workspace.pot'
    subprocess.run(
        [sys.executable, '-c', 'import sys; from lingua.extract import main; sys.exit(main())',
         '-c', os.path.join(ROOT, 'lingua.cfg'), '-d', 'kp_workspace', '--no-location', '-s',
         '-o', str(pot), 'kp_workspace'], cwd=ROOT, check=True, capture_output=True)
    extracted = {m.id for m in _read(str(pot)) if m.id}
    assert len(extracted) > 400
    catalogue = {m.id for m in _read(os.path.join(MESSAGES, 'kp_workspace.po'), locale='ur')
                 if m.id}
    assert sorted(extracted - catalogue) == []
