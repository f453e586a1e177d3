"""The audit log: newest first, cursor paging, jump to a date, nothing lost; its chains,
and `kpw audit verify` naming the first entry that was changed, removed or reordered."""
import datetime
import io
import os
import subprocess
import sys

import pytest
import transaction
import ZODB
import ZODB.FileStorage

from kp_workspace import audit
from kp_workspace.audit import ROOT_KEY as AUDIT_KEY
from kp_workspace.audit import SHARDS, Actor, AuditAnchors, AuditEntry, AuditLog
from kp_workspace.audit.verify import verify
from tests.conftest import write_ini

UTC = datetime.timezone.utc


def entry(at, n):
    return AuditEntry(at, 'someone', 'test.action', f'thing:{n}', '127.0.0.1', [('n', str(n))])


def all_pages(log, limit):
    """The targets of every entry, page after page, as a reader of the log sees them."""
    seen, cursor = [], None
    while True:
        page, cursor = log.page(after=cursor, limit=limit)
        seen.extend(e.target for e in page)
        if cursor is None:
            return seen


def test_entries_come_back_newest_first_across_pages():
    log = AuditLog()
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(25):
        log.append(entry(start + datetime.timedelta(seconds=n), n))
    assert len(log) == 25
    assert all_pages(log, 10) == [f'thing:{n}' for n in reversed(range(25))]


def test_same_instant_entries_are_all_kept():
    log = AuditLog()
    at = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(3000):  # more than the spread of keys per microsecond
        log.append(entry(at, n))
    assert len(log) == 3000
    page = log.page(limit=5000)[0]
    assert [e.target for e in page] == [f'thing:{n}' for n in reversed(range(3000))]


def test_jump_to_a_date():
    log = AuditLog()
    for day in range(1, 11):
        log.append(entry(datetime.datetime(2026, 3, day, 12, tzinfo=UTC), day))
    page, _ = log.page(before_time=datetime.datetime(2026, 3, 5, 12, tzinfo=UTC), limit=2)
    assert [e.target for e in page] == ['thing:4', 'thing:3']
    assert log.page(before_time=datetime.datetime(2020, 1, 1, tzinfo=UTC))[0] == []


def test_actor_records_who_what_where():
    log = AuditLog()
    e = Actor('admin', '10.0.0.1', log).record('user.created', 'user:x', name='X', roles='a,b')
    assert (e.actor, e.action, e.target, e.client) == ('admin', 'user.created', 'user:x', '10.0.0.1')
    assert e.details_text() == 'name: X; roles: a,b'
    assert e.at.tzinfo is not None
    assert log.page()[0] == [e]


def test_an_older_log_joins_the_shards_and_is_chained_at_the_migration():
    log = AuditLog()
    log._shards = log._heads = None  # as an older release left it: one tree, no chain
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(10):
        log.append(entry(start + datetime.timedelta(seconds=n), n))
    log.add_shards()  # (evolve step 7)
    total = 10 + 30 * SHARDS  # (unchained, each entry goes to a shard at random)
    for n in range(10, total):
        log.append(entry(start + datetime.timedelta(seconds=n // 20), n))
    used = [len(tree) for tree in log._shards]
    assert sum(used) == total and len([u for u in used if u]) == len(used)
    keys = [key for tree in log._shards for key in tree.keys()]
    assert len(set(keys)) == total  # unique across shards
    assert all_pages(log, 30) == [f'thing:{n}' for n in reversed(range(total))]
    log.chain_all(start)  # (evolve step 8)
    assert [h.count for h in log.heads()] == used == [h.migrated for h in log.heads()]
    report = verify(log, AuditAnchors(log.heads()))
    assert report.valid and report.entries == total
    assert 'chained at the migration' in report.notes[0]
    assert all_pages(log, 30) == [f'thing:{n}' for n in reversed(range(total))]


def test_a_connection_keeps_to_one_shard_and_connections_take_turns():
    log = AuditLog()
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    shards = []
    for conn in range(SHARDS):
        log._v_shard = None  # (a new connection: its own copy of the log, no volatile state)
        for n in range(5):
            log.append(entry(start + datetime.timedelta(seconds=conn * 5 + n), conn * 5 + n))
        shards.append(log._v_shard)
    assert sorted(shards) == list(range(SHARDS))
    assert [h.count for h in log.heads()] == [5] * SHARDS
    assert verify(log, AuditAnchors(log.heads())).valid


# Tampering with a real log: kpw audit verify names the first bad entry -------------

class Databases:
    """Both FileStorages of a data directory, opened as the app opens them."""

    def __init__(self, var_dir):
        self.all = {}
        self.main = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs')),
                            databases=self.all, database_name='')
        ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Audit.fs')),
                databases=self.all, database_name='audit')
        self.tm = transaction.TransactionManager()
        self.conn = self.main.open(transaction_manager=self.tm)
        self.tm.begin()
        self.log = self.conn.get_connection('audit').root()[AUDIT_KEY]

    def commit(self):
        self.tm.commit()

    def close(self):
        self.tm.abort()
        self.conn.close()
        for db in self.all.values():
            db.close()


def started_from(var_dir, generation):
    """Start the app on ``var_dir``, whose databases are at ``generation``, and stop
    it: starting evolves them to the newest."""
    from kp_workspace import evolve
    from tests.conftest import close_app, make_app
    app = make_app(var_dir)
    try:
        assert app.registry.kpw_generations == (generation, evolve.GENERATION)
    finally:
        close_app(app)


def kpw_verify(var_dir):
    from kp_workspace.scripts import kpw
    out = io.StringIO()
    ini = write_ini(str(var_dir.parent), var_dir)
    status = kpw.main(['-c', ini, 'audit', 'verify'], out=out, err=out)
    return status, out.getvalue()


def kpw_verify_process(var_dir):
    ini = write_ini(str(var_dir.parent), var_dir)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, '-m', 'kp_workspace.scripts.kpw', '-c', ini,
                           'audit', 'verify'], capture_output=True, text=True, cwd=root,
                          env={**os.environ, 'PYTHONPATH': root})
    return done.returncode, done.stdout + done.stderr


def a_long_shard(dbs, at_least=5):
    """``(shard, tree)`` with the most entries (the demo data fills one or two)."""
    trees = dbs.log._trees()
    shard = max(range(len(trees)), key=lambda n: len(trees[n]))
    assert len(trees[shard]) >= at_least
    return shard, trees[shard]


def test_a_clean_log_verifies(var_dir):
    status, out = kpw_verify(var_dir)
    assert status == 0, out
    assert 'The audit log is intact' in out
    status, out = kpw_verify_process(var_dir)
    assert status == 0 and "intact" in out, out


def test_a_changed_entry_is_named(var_dir):
    dbs = Databases(var_dir)
    shard, tree = a_long_shard(dbs)
    key = list(tree.keys())[2]  # the third newest
    forged = tree[key].copy()
    for name in ('shard', 'seq', 'prev', 'digest'):
        setattr(forged, name, getattr(tree[key], name))
    forged.actor = 'nobody'
    seq = forged.seq
    tree[key] = forged
    dbs.commit()
    dbs.close()
    status, out = kpw_verify(var_dir)
    assert status == 3, out
    assert f'First bad entry: shard {shard}, entry #{seq}: changed' in out
    assert 'nobody' in out.splitlines()[-1]


def test_a_changed_entry_with_a_new_digest_is_named_by_the_next_one(var_dir):
    dbs = Databases(var_dir)
    shard, tree = a_long_shard(dbs)
    key = list(tree.keys())[3]
    old = tree[key]
    forged = old.copy()
    forged.target = 'user:somebody-else'
    tree[key] = forged.link(old.shard, old.seq, old.prev)  # a digest that fits its content
    dbs.commit()
    dbs.close()
    status, out = kpw_verify(var_dir)
    assert status == 3
    assert f'First bad entry: shard {shard}, entry #{old.seq}: changed' in out
    assert 'somebody-else' in out.splitlines()[-1]


def test_a_removed_entry_is_named(var_dir):
    dbs = Databases(var_dir)
    shard, tree = a_long_shard(dbs)
    keys = list(tree.keys())
    removed, after = tree[keys[3]], tree[keys[2]]
    del tree[keys[3]]
    dbs.log._count.change(-1)
    dbs.commit()
    dbs.close()
    status, out = kpw_verify(var_dir)
    assert status == 3
    assert f'First bad entry: shard {shard}, entry #{removed.seq}: removed' in out
    assert after.describe() in out.splitlines()[-1]  # the entry it stood before
    status, out = kpw_verify_process(var_dir)
    assert status == 3 and f'entry #{removed.seq}: removed' in out


def test_two_reordered_entries_are_named(var_dir):
    dbs = Databases(var_dir)
    shard, tree = a_long_shard(dbs)
    keys = list(tree.keys())
    newer, older = tree[keys[1]], tree[keys[3]]
    tree[keys[1]], tree[keys[3]] = older, newer
    dbs.commit()
    dbs.close()
    status, out = kpw_verify(var_dir)
    assert status == 3
    assert f'First bad entry: shard {shard}, entry #{older.seq}: reordered' in out


def test_the_newest_entries_cut_off_the_audit_file_are_missed(var_dir, tmp_path):
    path = var_dir / 'Audit.fs'
    size = path.stat().st_size
    dbs = Databases(var_dir)
    actor = Actor('intruder', '10.6.6.6', dbs.log)
    for n in range(3):
        actor.record('file.exported', f'file:secret-{n}')
        dbs.commit()
        dbs.tm.begin()
    dbs.close()
    assert kpw_verify(var_dir)[0] == 0
    # whoever edits the file cuts the last transactions off: entries and heads agree again
    with open(path, 'r+b') as f:
        f.truncate(size)
    for junk in ('Audit.fs.index', 'Audit.fs.tmp'):
        if (var_dir / junk).exists():
            os.remove(var_dir / junk)
    status, out = kpw_verify(var_dir)
    assert status == 3, out
    assert 'removed: the newest 3 entries are missing' in out
    status, out = kpw_verify_process(var_dir)
    assert status == 3 and 'the newest 3 entries are missing' in out


@pytest.mark.parametrize('damage', ['drop the anchors', 'rewind a head'])
def test_heads_and_anchors_must_agree(var_dir, damage):
    dbs = Databases(var_dir)
    shard, tree = a_long_shard(dbs)
    if damage == 'drop the anchors':
        del dbs.conn.root()['kp_workspace.audit_anchors']
        expected = 'the main database holds no anchors'
    else:  # the newest entry removed and its head set back: the anchor still knows
        head = dbs.log.heads()[shard]
        newest_key = next(iter(tree.keys()))
        del tree[newest_key]
        second = tree[next(iter(tree.keys()))]
        head.count, head.digest = second.seq, second.digest
        expected = 'the newest 1 entries are missing'
    dbs.commit()
    dbs.close()
    status, out = kpw_verify(var_dir)
    assert status == 3 and expected in out


def test_verify_says_which_exit_codes_it_uses(capsys):
    from kp_workspace.scripts import kpw
    with pytest.raises(SystemExit):
        kpw.main(['audit', 'verify', '--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert '0 the log is intact, 3 it is not' in text


def test_verify_of_a_missing_database_is_refused(tmp_path):
    status, out = kpw_verify(tmp_path / 'nothing-here')
    assert status == 1 and ('cannot open' in out or 'no audit log' in out), out


def chain_of(n):
    log = AuditLog()
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        log.append(entry(start + datetime.timedelta(seconds=i), i))
    (shard, tree), = [(s, t) for s, t in enumerate(log._trees()) if len(t)]
    return log, shard, tree


@pytest.mark.parametrize('damage, kind, seq', [
    ('swap 4 and 6', 'reordered', 4),
    ('remove 7', 'removed', 7),
    ('remove 3 and swap 6 and 8', 'removed', 3),
    ('remove the newest', 'removed', 10),
    ('remove the oldest', 'removed', 1),
    ('change 2', 'changed', 2),
])
def test_the_first_break_in_chain_order_is_named(damage, kind, seq):
    log, shard, tree = chain_of(10)
    anchors = AuditAnchors(log.heads())
    key_of = {e.seq: k for k, e in tree.items()}
    if damage.startswith('swap'):
        a, b = key_of[4], key_of[6]
        tree[a], tree[b] = tree[b], tree[a]
    if 'remove 3' in damage:
        del tree[key_of[3]]
        a, b = key_of[6], key_of[8]
        tree[a], tree[b] = tree[b], tree[a]
    if damage == 'remove 7':
        del tree[key_of[7]]
    if damage == 'remove the newest':
        del tree[key_of[10]]
    if damage == 'remove the oldest':
        del tree[key_of[1]]
    if damage == 'change 2':
        tree[key_of[2]].details = (('n', 'forged'),)
    report = verify(log, anchors)
    assert not report.valid
    assert (report.first.kind, report.first.seq, report.first.shard) == (kind, seq, shard)


def test_step_8_chains_an_older_log_once_and_it_verifies(var_dir):
    from kp_workspace.site import ROOT_KEY as SITE_KEY
    dbs = Databases(var_dir)
    dbs.conn.root()[SITE_KEY].generation = 7
    del dbs.conn.root()['kp_workspace.audit_anchors']
    entries = dbs.log.page(limit=10_000)[0]
    before = [(e.at, e.action, e.target) for e in entries]
    old = dbs.conn.get_connection('audit').root()[AUDIT_KEY] = AuditLog()
    old._heads = None  # as release 7 left it: sharded, not chained
    for e in reversed(entries):
        old.append(e.copy())
    dbs.commit()
    dbs.close()
    assert kpw_verify(var_dir)[0] == 3  # (not chained yet)
    started_from(var_dir, 7)  # (evolved as it starts)
    status, out = kpw_verify(var_dir)
    assert status == 0, out
    assert 'chained at the migration' in out
    dbs = Databases(var_dir)
    try:
        assert [(e.at, e.action, e.target) for e in dbs.log.page(limit=10_000)[0]] == before
        assert sum(h.migrated for h in dbs.log.heads()) == len(before)
    finally:
        dbs.close()


def test_step_14_gives_a_log_of_eight_shards_more_and_every_chain_still_verifies(
        var_dir, monkeypatch):
    from kp_workspace.site import ROOT_KEY as SITE_KEY
    dbs = Databases(var_dir)
    dbs.conn.root()[SITE_KEY].generation = 13
    entries = dbs.log.page(limit=10_000)[0]
    with monkeypatch.context() as patched:  # as release 13 made it: 8 shards, chained
        patched.setattr(audit, 'SHARDS', 8)
        old = dbs.conn.get_connection('audit').root()[AUDIT_KEY] = AuditLog()
        dbs.conn.get_connection('audit').add(old)
        audit.ensure_anchors(old)
        for n, e in enumerate(reversed(entries)):
            old._v_shard = n % 8  # (as eight connections would have spread them)
            old.append(e.copy())
    old_heads = [(h.count, h.digest) for h in old.heads()]
    before = [(e.at, e.action, e.target) for e in dbs.log.page(limit=10_000)[0]]
    dbs.commit()
    dbs.close()
    started_from(var_dir, 13)  # (evolved as it starts)
    dbs = Databases(var_dir)
    try:
        log = dbs.log
        assert len(log._trees()) == len(log.heads()) == SHARDS == 64
        assert [(h.count, h.digest) for h in log.heads()[:8]] == old_heads
        after = [(e.at, e.action, e.target) for e in log.page(limit=10_000)[0]]
        assert after[-len(before):] == before  # (the evolve's own entries are newer)
        for n in range(100):  # new entries on old shards and new ones
            log._v_shard = n % SHARDS
            Actor('admin', '', log).record('test.after', f'thing:{n}')
        dbs.commit()
        assert {n for n, tree in enumerate(log._trees()) if len(tree)} == set(range(SHARDS))
        keys = [key for tree in log._trees() for key in tree.keys()]
        assert len(keys) == len(set(keys)) == len(before) + 100
    finally:
        dbs.close()
    status, out = kpw_verify(var_dir)
    assert status == 0, out


def test_a_main_database_restored_from_before_step_14_gets_its_anchors_again(var_dir):
    """The audit database has 64 shards, the main one (restored from a backup taken
    before step 14) anchors 8: the step, run again, anchors the rest, appends to any
    shard work, and the log verifies."""
    from kp_workspace.site import ROOT_KEY as SITE_KEY
    dbs = Databases(var_dir)
    dbs.conn.root()[SITE_KEY].generation = 13
    anchors = dbs.conn.root()[audit.ANCHORS_KEY]
    anchors.shards = anchors.shards[:8]
    dbs.commit()
    dbs.close()
    started_from(var_dir, 13)  # (evolved as it starts)
    dbs = Databases(var_dir)
    try:
        assert len(dbs.conn.root()[audit.ANCHORS_KEY].shards) == SHARDS
        for n in range(SHARDS):
            dbs.log._v_shard = n
            Actor('admin', '', dbs.log).record('test.after', f'thing:{n}')
        dbs.commit()
    finally:
        dbs.close()
    status, out = kpw_verify(var_dir)
    assert status == 0, out


def test_a_shard_with_entries_and_no_anchor_is_reported():
    log = AuditLog()
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(3):
        log._v_shard = 9
        log.append(entry(start + datetime.timedelta(seconds=n), n))
    anchors = AuditAnchors(log.heads())
    assert verify(log, anchors).valid
    anchors.shards = anchors.shards[:8]
    report = verify(log, anchors)
    assert (report.first.shard, report.first.kind) == (9, 'anchor')
    assert [p.shard for p in report.problems] == [9]  # (empty shards need no anchor)
    log.anchors = lambda: anchors  # (a log in a database: an append anchors its shard)
    log._v_shard = 9
    log.append(entry(start + datetime.timedelta(seconds=5), 5))
    assert len(anchors.shards) == SHARDS and verify(log, anchors).valid


def test_concurrent_appends_to_different_shards_commit_and_to_one_shard_conflict(var_dir):
    from ZODB.POSException import ConflictError
    all_dbs = {}
    main = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs')),
                   databases=all_dbs, database_name='')
    ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Audit.fs')), databases=all_dbs,
            database_name='audit')
    try:
        def begin():
            tm = transaction.TransactionManager()
            conn = main.open(transaction_manager=tm)
            tm.begin()
            return tm, conn, conn.get_connection('audit').root()[AUDIT_KEY]
        (tm1, c1, log1), (tm2, c2, log2) = begin(), begin()
        Actor('one', '', log1).record('test.one')
        Actor('two', '', log2).record('test.two')
        assert log1._v_shard != log2._v_shard  # (connections take turns)
        tm1.commit()
        tm2.commit()  # different heads, different anchors: no conflict
        c1.close()
        c2.close()
        (tm1, c1, log1), (tm2, c2, log2) = begin(), begin()
        log2._v_shard = log1._v_shard = 3
        Actor('one', '', log1).record('test.one')
        Actor('two', '', log2).record('test.two')
        tm1.commit()
        with pytest.raises(ConflictError) as conflict:  # one head: never two branches
            tm2.commit()
        tm2.abort()
        # retried on the same connection: after a conflict on a shard it takes another
        # one (else it would meet the same writer there again)
        audit.conflicted(conflict.value)
        tm1.begin()
        Actor('one', '', log1).record('test.one again')
        tm2.begin()
        Actor('two', '', log2).record('test.two again')
        assert log1._v_shard != log2._v_shard  # (taken in turn from a new start)
        tm2.commit()
        tm1.commit()
        c1.close()
        c2.close()
    finally:
        for db in all_dbs.values():
            db.close()
    assert kpw_verify(var_dir)[0] == 0
