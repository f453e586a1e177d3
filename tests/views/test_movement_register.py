"""The movement register: a move stores one line, however long the file's history."""
import os

import pytest
from persistent.list import PersistentList

from kp_workspace.content_types.movable import Movements

PAIR = (('so.finance', 'secretary-finance'), ('secretary.finance', 'so-budget-finance'))


def call(app, tokens, login, method, path, status=200, **kw):
    return app.api(method, path, tokens(login), status=status, **kw)


def forward(app, tokens, fid, n):
    login, to_post = PAIR[n % 2]
    call(app, tokens, login, 'post_json', f'/api/v1/files/{fid}/actions/forward',
         params={'to_post': to_post, 'remarks': f'Move {n + 1}'})


def test_a_move_stores_as_much_late_in_a_long_history_as_early(app, tokens, var_dir):
    """Each move wrote the whole register again (a list): a file's 150th move stored
    150 lines.  Now what a move adds to the database does not grow with the history
    (a bucket of lines, and the desk's and the alerts' buckets, fill and split)."""
    fid = call(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/files',
               201, params={'subject': 'A file that goes to and fro'}).json['id']
    data_fs = os.path.join(var_dir, 'Data.fs')
    grown = []
    for n in range(150):
        before = os.path.getsize(data_fs)
        forward(app, tokens, fid, n)
        grown.append(os.path.getsize(data_fs) - before)
    early, late = sorted(grown[30:60])[15], sorted(grown[120:])[15]  # (medians)
    # (a list: 90 more lines of about 130 bytes each stored with every move, 15 kB
    # more here; the buckets' filling and splitting moves the medians by 2 kB)
    assert late - early < 6000, (early, late)
    data = call(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json
    assert [m['remarks'] for m in data['movements']] == [f'Move {n + 1}' for n in range(150)]


def test_a_file_made_with_a_list_register_keeps_its_lines_and_moves_on(app, tokens,
                                                                        open_site):
    """Files stored before the register have a list: read as before, and their next
    move makes it a register with the same lines, in order, numbered on."""
    fid = call(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/files',
               201, params={'subject': 'An older file'}).json['id']
    for n in range(3):
        forward(app, tokens, fid, n)

    def make_old(site, _conn):
        item = site.desk.items[fid]
        item.movements = PersistentList(item.movements)
    open_site(make_old, commit=True)
    before = call(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json['movements']
    assert [m['remarks'] for m in before] == ['Move 1', 'Move 2', 'Move 3']
    forward(app, tokens, fid, 3)
    register = open_site(lambda site, _conn: site.desk.items[fid].movements)
    lines = open_site(lambda site, _conn: [(m.n, m.remarks, m.to_post)
                                           for m in site.desk.items[fid].movements])
    assert type(register) is Movements
    assert lines == [(1, 'Move 1', 'secretary-finance'), (2, 'Move 2', 'so-budget-finance'),
                     (3, 'Move 3', 'secretary-finance'), (4, 'Move 4', 'so-budget-finance')]
    after = call(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json['movements']
    assert after[:3] == before and after[3]['remarks'] == 'Move 4'


def test_the_register_reads_as_a_sequence():
    register = Movements(['a', 'b', 'c'])
    assert len(register) == 3 and bool(register) and list(register) == ['a', 'b', 'c']
    assert register[0] == 'a' and register[-1] == 'c' and register[-3] == 'a'
    assert register[1:] == ['b', 'c'] and register[:-1] == ['a', 'b']
    for wrong in (3, -4):
        with pytest.raises(IndexError):
            register[wrong]
    empty = Movements()
    assert not empty and len(empty) == 0 and list(empty) == []
