"""Merge kp_workspace.pot into the Urdu catalogue, keeping existing translations.

    .venv/bin/pot-create -c lingua.cfg -d kp_workspace --no-location -s \
        -o kp_workspace/locale/kp_workspace.pot kp_workspace
    .venv/bin/python tools/update_urdu.py

Strings without a translation fall back to English on Urdu pages.
"""
from babel.messages.pofile import read_po, write_po

POT = 'kp_workspace/locale/kp_workspace.pot'
PO = 'kp_workspace/locale/ur/LC_MESSAGES/kp_workspace.po'


def main():
    with open(POT, 'rb') as f:
        template = read_po(f)
    with open(PO, 'rb') as f:
        catalog = read_po(f, locale='ur')
    catalog.update(template, no_fuzzy_matching=True)
    catalog.fuzzy = False  # a fuzzy header makes pybabel skip the whole catalogue
    catalog.last_translator = 'KP Digital Workspace team'
    catalog.language_team = 'Urdu'
    with open(PO, 'wb') as f:
        write_po(f, catalog, omit_header=False, ignore_obsolete=True, width=100)
    done = sum(1 for m in catalog if m.id and m.string)
    print(f'{done} of {len(catalog) - 1} messages translated')


if __name__ == '__main__':
    main()
