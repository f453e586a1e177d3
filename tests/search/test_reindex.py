"""A rebuilt index finds exactly what the index the indexer kept finds, whether
this process builds it or worker processes do; the rebuild reads one snapshot
and its memory is bounded by its segments."""
import io
import os

import pytest
import transaction

from kp_workspace.access import Officer
from kp_workspace.audit import Actor
from kp_workspace.scripts import kpw
from kp_workspace.search import engine as search_engine
from kp_workspace.search import reindex
from kp_workspace.search.documents import principals_for
from kp_workspace.site import ROOT_KEY
from tests.conftest import close_app, make_app, write_ini
from tests.search.conftest import whoosh_only
from tests.search.test_search import LOGINS, api, open_api_file, search, urdu_pdf

WORDS = ['granary', 'procur', 'vehicles', 'budget', 'A03970', 'reconciliation', 'پنشن',
         'محكمه', 'Azha', 'solarise', 'tubewell', 'stationery', 'file', 'note', 'FD']


def varied_archive(app, tokens):
    """Files, notes, an attachment, a draft and a summary, in several states and
    classifications, moved between posts: documents with many principals."""
    made = []
    for n, (login, dept) in enumerate([('so.finance', 'finance'),
                                       ('so.hed', 'higher-education'),
                                       ('so.sit', 'science-it')] * 3):
        f = open_api_file(app, tokens, f'Granary file {n}: procurement of vehicles', login=login,
                          dept=dept, classification=('routine', 'confidential', 'secret')[n % 3])
        made.append(f)
        api(app, tokens, login, 'post_json', f'/api/v1/files/{f["id"]}/notes', 201,
            params={'text': f'Note {n}: the budget under head A03970 is sufficient.'})
        path = f'/api/v1/files/{f["id"]}/actions'
        if n % 4 == 1:
            api(app, tokens, login, 'post_json', f'{path}/forward',
                params={'to_post': 'chief-secretary'})
        elif n % 4 == 2:
            api(app, tokens, login, 'post_json', f'{path}/close', params={})
    f = made[0]
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{f["id"]}/notes', 201,
        params={'text': 'مُحَکَّمہ تعلیم کی رائے درکار ہے۔ Stationery too.'})
    api(app, tokens, 'so.finance', 'post', f'/api/v1/files/{f["id"]}/attachments', 201,
        params={'title': 'AG letter'}, upload_files=[('file', 'ag.pdf', urdu_pdf())])
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{f["id"]}/drafts', 201,
        params={'kind': 'notification', 'subject': 'Public holiday', 'body': 'Eid ul Azha'})
    api(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/summaries', 201,
        params={'subject': 'Tubewell electrification', 'background': 'Farmers of Bannu',
                'proposal': 'Solarise 300 tubewells', 'decision_sought': 'Approval'})
    app.indexed()
    return made


def index_content(engine):
    """Everything the index holds for its live documents, by document key: stored
    fields, field lengths, and every posting (field, term, weight, positions)."""
    stored, lengths, postings = {}, {}, set()
    with engine.ix.searcher() as searcher:
        reader = searcher.reader()
        for leaf, _offset in reader.leaf_readers():
            keys = {}
            for docnum, fields in leaf.iter_docs():
                keys[docnum] = fields['key']
                assert fields['key'] not in stored, 'a document twice'
                stored[fields['key']] = fields
                for name in ('title', 'content'):
                    lengths[fields['key'], name] = leaf.doc_field_length(docnum, name)
            for field, term, docnum, weight, value in leaf.iter_postings():
                postings.add((field, term, keys[docnum], weight, value))
    return stored, lengths, postings


def what_each_user_finds(wsgi_app):
    """For each demo user and each word: the keys found, the total and the facets."""
    engine = wsgi_app.registry.kpw_search
    engine.close()  # (a searcher on the index as it is now)
    db = wsgi_app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    found = {}
    try:
        tm.begin()
        site = conn.root()[ROOT_KEY]
        for login in LOGINS:
            officer = Officer(site['principals'].users[login], site, Actor(login, '', None))
            principals = principals_for(officer)
            for word in WORDS:
                results = engine.query(word, principals, pagelen=1000)
                found[login, word] = ({hit.key for hit in results.hits}, results.total,
                                      results.facets)
    finally:
        tm.abort()
        conn.close()
    return found


@pytest.mark.parametrize('processes', [1, 2])
@whoosh_only  # (segments and worker processes: PostgreSQL takes rows, see test_postgres)
def test_a_rebuild_finds_exactly_what_the_indexer_found(app, wsgi_app, tokens, var_dir,
                                                         tmp_path, processes):
    varied_archive(app, tokens)
    before = index_content(wsgi_app.registry.kpw_search)
    found_before = what_each_user_finds(wsgi_app)
    assert sum(len(keys) for keys, _total, _facets in found_before.values()) > 50
    close_app(wsgi_app)
    ini = write_ini(tmp_path, var_dir)
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--batch', '3', '--processes', str(processes)],
                    out=out, err=io.StringIO()) == 0
    assert 'Reindexed' in out.getvalue()
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--check'], out=out) == 0, out.getvalue()
    again = make_app(var_dir)
    try:
        after = index_content(again.registry.kpw_search)
        assert after[0] == before[0]   # stored fields, document by document
        assert after[1] == before[1]   # field lengths (they weigh in the ranking)
        assert after[2] == before[2]   # every posting: what each word finds, and where
        assert what_each_user_finds(again) == found_before
    finally:
        close_app(again)


def _stopped(wsgi_app):
    wsgi_app.registry.kpw_indexer.stop()
    return wsgi_app.registry.kpw_search


def _open(wsgi_app):
    db = wsgi_app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    tm.begin()
    return tm, conn, conn.root()[ROOT_KEY]


@whoosh_only  # (segments and worker processes: PostgreSQL takes rows, see test_postgres)
def test_workers_read_the_snapshot_of_the_rebuild(app, wsgi_app, tokens, var_dir):
    """What is committed after the rebuild's snapshot is not in it (it waits in the
    queue, for the indexer), even though the workers open the database later."""
    f = open_api_file(app, tokens, 'Snapshot sandpiper')
    app.indexed()
    engine = _stopped(wsgi_app)
    tm, conn, site = _open(wsgi_app)
    try:
        assert reindex.snapshot(conn) is not None
        api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{f["id"]}/notes', 201,
            params={'text': 'A later lapwing.'})
        uri = wsgi_app.registry.settings['zodbconn.uri']
        written, failures = reindex.rebuild(engine, site, batch=1, processes=2, uri=uri)
        assert failures == {} and written == engine.ix.doc_count()
        principals = ['post:so-budget-finance']
        assert engine.query('sandpiper', principals).total == 1
        assert engine.query('lapwing', principals).total == 0  # after the snapshot
    finally:
        tm.abort()
        conn.close()
    wsgi_app.registry.kpw_indexer.start()
    assert search(app, tokens, 'so.finance', 'lapwing')['total'] == 1  # it was queued


@whoosh_only  # (segments and worker processes: PostgreSQL takes rows, see test_postgres)
def test_segments_are_written_at_their_size_and_committed_as_they_end(
        app, wsgi_app, tokens, monkeypatch):
    for n in range(5):
        open_api_file(app, tokens, f'Segmented shearwater {n}')
    app.indexed()
    engine = _stopped(wsgi_app)
    monkeypatch.setattr(search_engine, 'MAX_SEGMENT_DOCS', 2)
    commits = []
    real = engine.add_segments
    monkeypatch.setattr(engine, 'add_segments', lambda segs: commits.append(
        [s.doc_count_all() for s in segs]) or real(segs))
    tm, conn, site = _open(wsgi_app)
    try:
        written, failures = reindex.rebuild(engine, site, batch=4)
    finally:
        tm.abort()
        conn.close()
    assert failures == {} and written == engine.ix.doc_count() >= 6
    reader = engine.ix.reader()
    sizes = [leaf.doc_count_all() for leaf, _offset in reader.leaf_readers()]
    reader.close()
    assert sizes == [2] * (written // 2) + [1] * (written % 2)  # nothing merged
    assert [n for sizes in commits for n in sizes] == sizes
    assert engine.query('shearwater', ['post:so-budget-finance'], pagelen=50).total == 5


@whoosh_only  # (segments and worker processes: PostgreSQL takes rows, see test_postgres)
def test_a_worker_reports_an_item_whose_documents_cannot_be_made(
        app, wsgi_app, tokens, var_dir, tmp_path):
    good = open_api_file(app, tokens, 'Sound skua')
    bad = open_api_file(app, tokens, 'Damaged dunlin')
    app.indexed()

    def damage(site, conn):  # (a record that no longer reads as a file: a damaged database)
        site.desk.items[bad['id']].notes = None
    tm, conn, site = _open(wsgi_app)
    damage(site, conn)
    tm.commit()
    conn.close()
    close_app(wsgi_app)
    ini = write_ini(tmp_path, var_dir)
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--processes', '2', '--batch', '1'], out=out,
                    err=io.StringIO()) == 3
    assert f'failed: {bad["id"]} (AttributeError' in out.getvalue()
    again = make_app(var_dir)
    try:
        engine = again.registry.kpw_search
        assert engine.query('skua', ['post:so-budget-finance']).hits[0].item == good['id']
        assert engine.query('dunlin', ['post:so-budget-finance']).total == 0
    finally:
        close_app(again)


@whoosh_only  # (segments and worker processes: PostgreSQL takes rows, see test_postgres)
def test_a_worker_that_fails_stops_the_rebuild_with_a_message(app, wsgi_app, tmp_path):
    engine = _stopped(wsgi_app)
    tm, conn, site = _open(wsgi_app)
    try:
        missing = f'file://{tmp_path}/nowhere/Data.fs'
        with pytest.raises(RuntimeError, match='a reindex worker failed'):
            reindex.rebuild(engine, site, processes=2, uri=missing)
    finally:
        tm.abort()
        conn.close()


@whoosh_only  # (segments and worker processes: PostgreSQL takes rows, see test_postgres)
def test_kpw_says_when_a_rebuild_fails(app, wsgi_app, var_dir, tmp_path, monkeypatch):
    close_app(wsgi_app)

    def failing(*args, **kw):
        raise RuntimeError('a reindex worker stopped unexpectedly')
    monkeypatch.setattr(reindex, 'rebuild', failing)
    err = io.StringIO()
    assert kpw.main(['-c', write_ini(tmp_path, var_dir), 'reindex'], out=io.StringIO(),
                    err=err) == 1
    assert 'The rebuild failed; the index is incomplete' in err.getvalue()
    assert 'stopped unexpectedly' in err.getvalue()


def test_the_default_is_one_process_per_cpu_within_the_limit(monkeypatch):
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: set(range(16)))
    assert reindex.default_processes() == reindex.MAX_PROCESSES
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: {0})
    assert reindex.default_processes() == 1


def _doc(n, text='albatross'):
    return {'key': f'k{n}', 'item': f'k{n}', 'kind': 'file', 'title': f'{text} {n}',
            'content': f'{text} petrel {n}', 'allowed': 'post:a'}


def test_a_segment_being_built_is_kept_from_the_clean_up_of_commits(tmp_path, monkeypatch):
    """A builder in another process writes files no table of contents lists yet: the
    commits meanwhile must not delete them (protect), whatever the grace period."""
    monkeypatch.setattr(search_engine, 'GRACE_SECONDS', 0)
    path = str(tmp_path / 'ix')
    engine = search_engine.WhooshEngine(path)
    for protect in (True, False):
        engine.clear()
        builder = search_engine.SegmentBuilder(
            path, started=engine.protect if protect else None, max_docs=3)
        assert builder.add(_doc(1)) is None and builder.add(_doc(2)) is None
        segment = builder.add(_doc(3))  # (finished: its files are all written)
        engine.apply([_doc(9, 'gannet')])
        engine.apply([_doc(10, 'gannet')])  # (a second commit deletes what the first doomed)
        files = [name for name in os.listdir(path)
                 if name.startswith(segment.segment_id() + '.')]
        if not protect:
            assert files == []  # (what the protection is for)
            continue
        assert files
        engine.add_segments([segment])
        assert engine.query('albatross', ['post:a']).total == 3
        assert engine.query('gannet', ['post:a']).total == 2
    engine.close()


def test_a_builder_ends_a_segment_at_its_memory_limit(tmp_path):
    path = str(tmp_path / 'ix')
    engine = search_engine.WhooshEngine(path)
    builder = search_engine.SegmentBuilder(path, limitmb=0.01)  # (about 10 kB of postings)
    ended = [n for n in range(40) if builder.add(_doc(n, 'word ' * 20)) is not None]
    assert 0 < len(ended) < 40  # some documents filled a segment, not every one
    last = builder.finish()
    assert last is not None and builder.finish() is None
    assert builder.add(_doc(99)) is None
    builder.cancel()  # (the segment under way is dropped)
    assert builder.finish() is None
    engine.close()


def test_postings_in_memory_come_out_in_whooshs_order(tmp_path):
    """The builder's pool gives the field writer what whoosh's sorting pool would."""
    import random
    from whoosh.filedb.filestore import RamStorage
    from whoosh.writing import PostingPool
    rng = random.Random(5)
    fields, terms = ['allowed', 'content', 'title'], [b'a', b'ab', b'b', b'\xd9\xbe', b'z']
    postings = [(rng.choice(fields), rng.choice(terms), doc, rng.choice([1.0, 2.0, 0.5]),
                 rng.choice([b'', b'\x00\x01', None])) for doc in range(300)
                for _ in range(rng.randrange(4))]
    postings = list({(f, t, d): (f, t, d, w, v) for f, t, d, w, v in postings}.values())
    theirs = PostingPool(RamStorage(), None, limitmb=1)
    ours = search_engine._TermPool()
    for posting in postings:
        theirs.add(posting)
        ours.add(posting)
    assert list(ours.iter_postings()) == list(theirs.iter_postings())
    assert ours.size > 0
    ours.cleanup()
    assert list(ours.iter_postings()) == [] and ours.size == 0
