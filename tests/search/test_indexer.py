"""The index follows the database through a queue kept in it: never in a request,
never lost, never wider than the database says, and readers never fail."""
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
import transaction

from kp_workspace.populate import DEMO_PASSWORD
from kp_workspace.scripts import kpw
from kp_workspace.search import engine as search_engine
from kp_workspace.search.queue import IndexQueue, _shard as queue_shard
from tests.conftest import Browser, close_app, make_app, write_ini
from tests.search.conftest import age_the_index, another_engine, whoosh_only
from tests.search.test_search import _domain_file, open_api_file, search


def queue_length(open_site):
    return open_site(lambda site, conn: len(site.index_queue))


def search_now(app, tokens, login, q, **params):
    """Search without waiting for the indexer."""
    return app.api('get', '/api/v1/search', tokens(login), params={'q': q, **params}).json


def check(ini):
    out = io.StringIO()
    status = kpw.main(['-c', ini, 'reindex', '--check'], out=out, err=io.StringIO())
    return status, out.getvalue()


def test_changes_are_queued_with_their_commit_and_only_then(app, wsgi_app, tokens, open_site):
    indexer = wsgi_app.registry.kpw_indexer
    indexer.stop()
    _domain_file(wsgi_app, 'Aborted hovercraft', commit=False)
    assert queue_length(open_site) == 0
    _domain_file(wsgi_app, 'Committed hovercraft', commit=True)
    assert queue_length(open_site) == 1
    assert search_now(app, tokens, 'so.finance', 'hovercraft')['total'] == 0  # not yet
    indexer.start()
    found = search(app, tokens, 'so.finance', 'hovercraft')
    assert [i['title'] for i in found['items']] == ['Committed hovercraft']
    assert queue_length(open_site) == 0


def test_a_change_made_while_the_indexer_is_stopped_is_indexed_when_it_starts(
        app, wsgi_app, tokens, open_site):
    indexer = wsgi_app.registry.kpw_indexer
    indexer.stop()
    f = open_api_file(app, tokens, 'Parked dirigible')
    api_note = app.api('post_json', f'/api/v1/files/{f["id"]}/notes', tokens('so.finance'),
                       status=201, params={'text': 'Hangar rent for the dirigible.'})
    assert api_note.json['n'] == 1
    health = app.get('/healthz').json['search']
    assert health['pending'] == 2 and health['indexer'] == 'elsewhere'  # file, then note
    assert search_now(app, tokens, 'so.finance', 'dirigible')['total'] == 0
    indexer.start()  # catches up first
    assert search(app, tokens, 'so.finance', 'hangar')['items'][0]['id'] == f['id']
    assert app.get('/healthz').json['search'] == {'pending': 0, 'lag_seconds': 0.0,
                                                  'failed': 0, 'indexer': 'this process'}


def test_a_user_finds_a_note_a_moment_after_writing_it(app, wsgi_app, tokens):
    f = open_api_file(app, tokens, 'Quick turnaround')
    app.api('post_json', f'/api/v1/files/{f["id"]}/notes', tokens('so.finance'), status=201,
            params={'text': 'Quokka sighting near the treasury.'})
    deadline = time.monotonic() + 10  # (a second or two normally; patient on a loaded machine)
    while search_now(app, tokens, 'so.finance', 'quokka')['total'] == 0:
        assert time.monotonic() < deadline, 'not searchable after 10 s'
        time.sleep(0.02)


def test_the_lag_is_shown_on_health_search_and_check(app, wsgi_app, tokens, open_site, var_dir,
                                                      tmp_path, search_settings):
    wsgi_app.registry.kpw_indexer.stop()
    f = open_api_file(app, tokens, 'Stale subject')

    def backdate(site, conn):  # as if the change had waited a minute
        queue = site.index_queue
        (key,) = queue.oldest(10)
        queue.remove([key])
        queue.add(key[1], 'post:so-budget-finance', None, at=time.time() - 60)
    open_site(backdate, commit=True)
    health = app.get('/healthz').json['search']
    assert health['pending'] == 1 and health['lag_seconds'] >= 60
    assert search_now(app, tokens, 'so.finance', 'stale')['index_lag_seconds'] >= 60
    app.login('so.finance')
    page = app.get('/search', params={'q': 'stale'})
    assert 'The search index is catching up' in page.text
    app.get('/language/ur')
    assert 'تلاش کا اشاریہ ابھی پیچھے ہے' in app.get('/search', params={'q': 'stale'}).text
    close_app(wsgi_app)
    ini = write_ini(tmp_path, var_dir, **search_settings)
    status, out = check(ini)
    assert status == 3
    assert f'missing: {f["id"]}' in out and '1 changes wait for the search indexer' in out
    assert kpw.main(['-c', ini, 'indexer', '--once'], out=io.StringIO()) == 0
    assert check(ini) == (0, 'The index matches the database.\n')


def test_the_permission_filter_holds_for_items_whose_update_waits(app, wsgi_app, tokens,
                                                                    open_site):
    f = open_api_file(app, tokens, 'Stationery contract renewal')
    app.api('post_json', f'/api/v1/files/{f["id"]}/actions/close', tokens('so.finance'),
            params={})
    # closed and routine: the Finance records clerk finds it
    assert search(app, tokens, 'clerk.finance', 'stationery')['total'] == 1
    indexer = wsgi_app.registry.kpw_indexer
    indexer.stop()
    app.api('post_json', f'/api/v1/files/{f["id"]}/actions/reopen', tokens('so.finance'),
            params={})
    # The index still says the clerk may open it...
    engine = wsgi_app.registry.kpw_search
    assert engine.query('stationery', ['archive:finance']).total == 1
    # ...but reopened, it is the chain's only: no title, no snippet, no count
    for params in ({}, {'type': 'file'}, {'state': 'closed'}):
        res = search_now(app, tokens, 'clerk.finance', 'stationery', **params)
        assert (res['total'], res['items'], res['facets']) == (0, [], {}), params
    # (the department's closed files: the demo's two in the record room, not this one)
    res = search_now(app, tokens, 'clerk.finance', '', department='finance')
    assert res['total'] == 2 and f['id'] not in [i['id'] for i in res['items']]
    app.login('clerk.finance')
    assert 'Stationery' not in app.get('/search', params={'q': 'stationery'}).text
    # the chain still finds it, from the old document
    assert search_now(app, tokens, 'so.finance', 'stationery')['total'] == 1
    indexer.start()
    assert search(app, tokens, 'clerk.finance', 'stationery')['total'] == 0
    assert open_site(lambda site, conn: site.index_queue.hidden_from(['archive:finance'])) == []


def test_an_item_indexed_before_the_queue_existed_is_treated_as_narrowed(app, wsgi_app, tokens,
                                                                       open_site):
    """Items from an older release carry no record of their principals: their first
    change is taken as one that may narrow them, until it is indexed."""
    f = open_api_file(app, tokens, 'Legacy ledger')
    app.indexed()

    def forget_record(site, conn):
        del site.desk.items[f['id']].allowed_at_commit
    open_site(forget_record, commit=True)
    wsgi_app.registry.kpw_indexer.stop()
    app.api('post_json', f'/api/v1/files/{f["id"]}/notes', tokens('so.finance'), status=201,
            params={'text': 'A note.'})
    assert open_site(lambda site, conn: site.index_queue.hidden_from(['nobody'])) == [f['id']]
    assert search_now(app, tokens, 'so.finance', 'ledger')['total'] == 1  # still its chain's
    assert search_now(app, tokens, 'clerk.finance', 'ledger')['total'] == 0


def test_an_item_that_cannot_be_indexed_blocks_nothing_and_is_reported(
        app, wsgi_app, tokens, monkeypatch, var_dir, tmp_path, search_settings):
    from kp_workspace.search import indexer as indexer_module
    from kp_workspace.search import reindex as reindex_module
    real = indexer_module.documents_for
    bad = open_api_file(app, tokens, 'Broken bittern')
    app.indexed()
    assert search(app, tokens, 'so.finance', 'bittern')['total'] == 1

    def documents_for(item):
        if item.id == bad['id']:
            raise ValueError('a damaged note')
        return real(item)
    monkeypatch.setattr(indexer_module, 'documents_for', documents_for)
    monkeypatch.setattr(reindex_module, 'documents_for', documents_for)
    indexer = wsgi_app.registry.kpw_indexer
    indexer.stop()
    monkeypatch.setattr(indexer, 'batch', 2)  # every batch would begin with the broken item
    for n in range(3):
        app.api('post_json', f'/api/v1/files/{bad["id"]}/notes', tokens('so.finance'),
                status=201, params={'text': f'note {n}'})
    open_api_file(app, tokens, 'Healthy heron')
    indexer.start()
    assert search(app, tokens, 'so.finance', 'heron')['total'] == 1  # indexed behind it
    assert search(app, tokens, 'so.finance', 'bittern')['total'] == 0  # nothing stale stays
    assert app.get('/healthz').json['search'] == {'pending': 0, 'lag_seconds': 0.0,
                                                  'failed': 1, 'indexer': 'this process'}
    close_app(wsgi_app)
    ini = write_ini(tmp_path, var_dir, **search_settings)
    status, out = check(ini)
    assert status == 3 and f'failed: {bad["id"]} (ValueError: a damaged note)' in out
    out = io.StringIO()
    # (in this process: worker processes would not see the patched documents_for;
    # tests/search/test_reindex.py has a worker report a damaged item)
    assert kpw.main(['-c', ini, 'reindex', '--processes', '1'], out=out) == 3  # still broken
    assert f'failed: {bad["id"]}' in out.getvalue()
    monkeypatch.setattr(reindex_module, 'documents_for', real)  # mended
    assert kpw.main(['-c', ini, 'reindex'], out=io.StringIO()) == 0
    assert check(ini) == (0, 'The index matches the database.\n')


def test_an_item_the_index_refuses_is_found_by_halving_the_batch(app, wsgi_app, tokens,
                                                                  monkeypatch):
    engine, indexer = wsgi_app.registry.kpw_search, wsgi_app.registry.kpw_indexer
    real = engine.apply

    def apply(documents, remove_items=(), merge=True):
        if any(doc.get('title') == 'Refused rail' for doc in documents):
            raise ValueError('a field the index cannot take')
        return real(documents, remove_items, merge)
    monkeypatch.setattr(engine, 'apply', apply)
    indexer.stop()
    for subject in ('Accepted avocet', 'Refused rail', 'Accepted auk', 'Accepted gannet'):
        open_api_file(app, tokens, subject)
    indexer.start()
    for word, total in (('avocet', 1), ('auk', 1), ('gannet', 1), ('rail', 0)):
        assert search(app, tokens, 'so.finance', word)['total'] == total, word
    assert app.get('/healthz').json['search']['failed'] == 1


def test_a_change_to_an_item_that_is_gone_takes_its_documents_out(app, wsgi_app, tokens,
                                                                   open_site):
    f = open_api_file(app, tokens, 'Vanishing vireo')
    assert search(app, tokens, 'so.finance', 'vireo')['total'] == 1
    indexer = wsgi_app.registry.kpw_indexer
    indexer.stop()

    def weed(site, conn):  # (as the record room's weeding will)
        item = site.desk.items.pop(f['id'])
        site.index_queue.add(item.id, '', item.allowed_at_commit)
    open_site(weed, commit=True)
    indexer.start()
    app.indexed()
    engine = wsgi_app.registry.kpw_search
    assert engine.query('vireo', ['post:so-budget-finance']).total == 0


def test_an_indexer_that_waited_while_the_index_was_rebuilt_writes_the_new_layout(
        app, wsgi_app, tokens, var_dir, search_backend, search_settings):
    """A standby process saw the old layout at start; another process rebuilt the
    index meanwhile: once this one becomes the indexer it reads the index afresh."""
    engine, indexer = wsgi_app.registry.kpw_search, wsgi_app.registry.kpw_indexer
    indexer.stop()
    age_the_index(search_backend, search_settings, var_dir)  # as an older release built it
    engine.reopen()
    assert not engine.schema_current
    f = open_api_file(app, tokens, 'Rebuilt rook')
    assert indexer.drain() == 0  # nothing can be written into the old layout
    indexer.release()
    other = another_engine(search_backend, search_settings, var_dir)
    other.clear()  # another process rebuilds (empty, new layout)
    other.close()
    indexer.start()
    assert search(app, tokens, 'so.finance', 'rook')['items'][0]['id'] == f['id']


@whoosh_only
def test_the_indexer_survives_a_failure_to_start(app, wsgi_app, tokens, monkeypatch):
    engine, indexer = wsgi_app.registry.kpw_search, wsgi_app.registry.kpw_indexer
    indexer.stop()
    monkeypatch.setattr(indexer, 'retry_after', 0.05)
    real, calls = engine.storage.clean_temporary, []

    def flaky(*args, **kw):
        calls.append(1)
        if len(calls) <= 2:
            raise PermissionError('temporary directory not readable')
        return real(*args, **kw)
    monkeypatch.setattr(engine.storage, 'clean_temporary', flaky)
    indexer.start()  # (neither start nor its thread fails)
    open_api_file(app, tokens, 'Stubborn stork')
    assert search(app, tokens, 'so.finance', 'stork')['total'] == 1
    assert len(calls) >= 3


@whoosh_only
def test_stale_temporary_directories_are_cleaned_when_an_indexer_starts(wsgi_app, var_dir):
    indexer = wsgi_app.registry.kpw_indexer
    indexer.stop()
    stale, fresh = var_dir / 'search' / 'MAIN.tmp-1-2.tmp', var_dir / 'search' / 'x-3-4.tmp'
    for directory in (stale, fresh):
        directory.mkdir()
        (directory / 'pool.ctmp').write_text('postings of a writer that died')
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    indexer.start()
    assert not stale.exists() and fresh.exists()


@whoosh_only
def test_the_indexer_merges_segments_in_the_background(app, wsgi_app, tokens, monkeypatch):
    monkeypatch.setattr(search_engine, 'SMALLEST_CLASS', 2)
    monkeypatch.setattr(search_engine, 'MERGE_FACTOR', 3)
    engine = wsgi_app.registry.kpw_search
    before = engine.segment_count()
    for n in range(6):  # six commits of the indexer, a small segment each
        open_api_file(app, tokens, f'Segment swift {n}')
        app.indexed()
    deadline = time.monotonic() + 30
    while engine.segment_count() > before + 2:
        assert time.monotonic() < deadline, engine.segment_count()
        time.sleep(0.05)
    assert search(app, tokens, 'so.finance', 'swift')['total'] == 6


def test_a_merge_finished_after_this_process_stopped_indexing_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(search_engine, 'SMALLEST_CLASS', 10)
    monkeypatch.setattr(search_engine, 'MERGE_FACTOR', 3)
    engine = search_engine.WhooshEngine(str(tmp_path / 'ix'))
    for batch in range(3):
        engine.apply([{'key': f'k{batch}', 'item': f'k{batch}', 'kind': 'file',
                       'allowed': 'post:a'}], merge=False)
    assert engine.merge_step(still_indexer=lambda: False) is False
    assert engine.segment_count() == 3
    assert engine.merge_step() is True and engine.segment_count() == 1


@pytest.mark.parametrize('merging', ['in each commit', 'in the background'])
def test_readers_never_fail_while_the_writer_indexes_and_merges(tmp_path, monkeypatch, merging):
    """Searches in four threads (words, facets, snippets, browsing by filter) while one
    writer replaces documents and segments are merged many times (in the writer's
    commits, or by a merger beside it): no search fails, none finds a document twice."""
    monkeypatch.setattr(search_engine, 'SMALLEST_CLASS', 4)
    monkeypatch.setattr(search_engine, 'MERGE_FACTOR', 3)
    monkeypatch.setattr(search_engine, 'MAX_SEGMENT_DOCS', 200)
    # (files replaced are deleted while it runs; no search lasts anywhere near 3 s)
    monkeypatch.setattr(search_engine, 'GRACE_SECONDS', 3)
    engine = search_engine.WhooshEngine(str(tmp_path / 'ix'))

    def doc(i, n):
        return {'key': f'k{i}', 'item': f'k{i}', 'kind': ('file', 'draft')[i % 2],
                'title': f'walrus {n}', 'content': f'walrus tusk {n} ' * 20, 'allowed': 'post:a',
                'department': 'finance', 'state': 'open'}
    engine.apply([doc(i, 0) for i in range(60)])
    stop, errors, searches, generations = threading.Event(), [], [], set()

    background = merging == 'in the background'
    merges = []

    def write():
        n = 0
        while not stop.is_set() and n < 50:
            n += 1
            ids = [(n * 7 + j) % 60 for j in range(3)]
            engine.apply([doc(i, n) for i in ids], remove_items=[f'k{i}' for i in ids],
                         merge=not background)
            generations.add(engine.ix.latest_generation())
        stop.set()

    def merge():
        while not stop.is_set():
            if engine.merge_step():
                merges.append(1)

    def read():
        try:
            while not stop.is_set():
                for args in (('walrus', {}), ('tusk', {'kind': 'draft'}), ('', {'state': 'open'})):
                    res = engine.query(args[0], ['post:a'], filters=args[1], pagelen=20,
                                       text_for=lambda fields: 'walrus tusk ' * 30)
                    assert res.total > 0 and len({h.key for h in res.hits}) == len(res.hits)
                    searches.append(res.total)
            engine.close()
        except Exception as e:  # (counted, not raised in the thread)
            errors.append(repr(e))
    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(4)]
    if background:
        threads.append(threading.Thread(target=merge))
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    assert len(generations) > 40 and len(searches) > 50
    leftover = [name for name in os.listdir(tmp_path / 'ix') if name.endswith('.toc')]
    assert 1 < len(leftover) < len(generations)  # replaced generations: kept a while, then gone
    assert engine.query('walrus', ['post:a'], pagelen=100).total == 60  # ...and never found
    assert not background or len(merges) > 5
    assert engine.segment_count() < 30


def test_a_searcher_elsewhere_sees_every_commit(tmp_path):
    """Searchers of another process (here, another engine on the same directory)
    learn of each commit from the marker file, or without it by listing the index."""
    path = str(tmp_path / 'ix')
    writer, reader = search_engine.WhooshEngine(path), search_engine.WhooshEngine(path)

    def doc(n):
        return {'key': f'k{n}', 'item': f'k{n}', 'kind': 'file', 'title': 'osprey',
                'allowed': 'post:a'}
    writer.apply([doc(1)])
    assert reader.query('osprey', ['post:a']).total == 1
    writer.apply([doc(2)])
    assert reader.query('osprey', ['post:a']).total == 2
    os.remove(os.path.join(path, search_engine.MARKER))  # as an older release wrote it
    plain = writer.ix.writer()
    plain.add_document(**doc(3))
    plain.commit()
    assert reader.query('osprey', ['post:a']).total == 3
    reader.close()


def test_a_background_merge_keeps_what_changed_while_it_worked(tmp_path, monkeypatch):
    """Documents replaced or deleted in segments while a merger copies them stay
    replaced or deleted once the merged segment takes their place."""
    monkeypatch.setattr(search_engine, 'SMALLEST_CLASS', 10)
    monkeypatch.setattr(search_engine, 'MERGE_FACTOR', 3)
    # (a commit beside the merge deletes at once what it sees unused: not the merge's files)
    monkeypatch.setattr(search_engine, 'GRACE_SECONDS', 0)
    engine = search_engine.WhooshEngine(str(tmp_path / 'ix'))

    def doc(i, title='heron'):
        return {'key': f'k{i}', 'item': f'k{i}', 'kind': 'file', 'title': title,
                'allowed': 'post:a'}
    for batch in range(3):  # three small segments: a merge is due
        engine.apply([doc(batch * 3 + j) for j in range(3)], merge=False)
    assert engine.segment_count() == 3
    copied = []
    real_reader = search_engine.SegmentReader

    def commit():  # (the indexer's thread)
        engine.apply([doc(0, 'egret')], remove_items=['k0', 'k4'], merge=False)

    def reader_then_a_commit(*args, **kw):
        if not copied:  # the merger has taken its snapshot and starts copying
            indexer = threading.Thread(target=commit)
            indexer.start()
            indexer.join(60)
        copied.append(1)
        return real_reader(*args, **kw)
    monkeypatch.setattr(search_engine, 'SegmentReader', reader_then_a_commit)
    assert engine.merge_step()
    assert engine.segment_count() == 2  # the merged segment and the commit's own
    assert copied  # (and the commit beside the merge deleted nothing it was writing)
    found = sorted(h.key for h in engine.query('heron OR egret', ['post:a'], pagelen=50).hits)
    assert found == ['k0', 'k1', 'k2', 'k3', 'k5', 'k6', 'k7', 'k8']
    assert [h.title for h in engine.query('egret', ['post:a']).hits] == ['egret']
    assert engine.query('heron', ['post:a'], filters={'kind': 'file'}).total == 7
    assert not engine.merge_step()  # nothing more is due


def test_commits_beside_a_background_merge_never_merge_what_it_reads(tmp_path, monkeypatch):
    """When segments pile up while the merger copies large ones, the indexer's commits
    merge the small ones only, and quickly (before, they merged the very segments the
    merger was reading: the whole work again, in the indexer's thread, for a minute
    at 10,000 files, while no change became searchable)."""
    monkeypatch.setattr(search_engine, 'SMALLEST_CLASS', 10)
    monkeypatch.setattr(search_engine, 'MERGE_FACTOR', 3)
    monkeypatch.setattr(search_engine, 'INLINE_MERGE_AT', 4)
    monkeypatch.setattr(search_engine, 'GRACE_SECONDS', 0)
    engine = search_engine.WhooshEngine(str(tmp_path / 'ix'))

    def doc(key):
        return {'key': key, 'item': key, 'kind': 'file', 'title': 'plover', 'allowed': 'post:a'}
    for batch in range(3):  # three large segments: the merger's work
        engine.apply([doc(f'big{batch}-{j}') for j in range(10)], merge=False)
    big = {seg.segment_id() for seg in engine.ix._segments()}
    merged_by_commits = []
    real_merge, real_reader = search_engine._merge, search_engine.SegmentReader

    def recording_merge(writer, segments, chosen):
        merged_by_commits.append({seg.segment_id() for seg in chosen})
        return real_merge(writer, segments, chosen)

    def commits():  # (the indexer's thread, while the merger has its snapshot)
        for n in range(6):
            engine.apply([doc(f'small{n}')], merge=False)
    started = []

    def reader_then_commits(*args, **kw):
        if not started:
            started.append(1)
            indexer = threading.Thread(target=commits)
            indexer.start()
            indexer.join(60)
        return real_reader(*args, **kw)
    monkeypatch.setattr(search_engine, '_merge', recording_merge)
    monkeypatch.setattr(search_engine, 'SegmentReader', reader_then_commits)
    assert engine.merge_step()
    assert merged_by_commits and all(not ids & big for ids in merged_by_commits)
    sizes = sorted(seg.doc_count_all() for seg in engine.ix._segments())
    assert sizes[-1] == 30 and len(sizes) < 6  # the merger's segment is kept; few small ones
    assert engine.query('plover', ['post:a'], pagelen=100).total == 36


def test_merging_asks_the_disk_about_each_column_once(tmp_path, monkeypatch):
    """Whoosh asks whether a column of lengths exists for every posting it writes;
    the storage answers from memory after the first time (a stat() each time was
    half the system time of merges)."""
    monkeypatch.setattr(search_engine, 'SMALLEST_CLASS', 10)
    monkeypatch.setattr(search_engine, 'MERGE_FACTOR', 3)
    engine = search_engine.WhooshEngine(str(tmp_path / 'ix'))
    for batch in range(3):
        engine.apply([{'key': f'k{batch}-{j}', 'item': f'k{batch}-{j}', 'kind': 'file',
                       'title': f'curlew {j}', 'allowed': 'post:a post:b post:c'}
                      for j in range(40)], merge=False)
    asked = []
    real_exists = search_engine.FileStorage.file_exists

    def counting(storage, name):
        asked.append(name)
        return real_exists(storage, name)
    monkeypatch.setattr(search_engine.FileStorage, 'file_exists', counting)
    assert engine.merge_step()
    columns = [name for name in asked if name.endswith('.col')]
    assert columns and len(columns) == len(set(columns))  # (120 documents, each column once)
    assert engine.query('curlew', ['post:b'], pagelen=200).total == 120


def test_replaced_index_files_are_deleted_after_the_grace_period(tmp_path, monkeypatch):
    engine = search_engine.WhooshEngine(str(tmp_path / 'ix'))
    for n in range(3):
        engine.apply([{'key': f'k{n}', 'item': f'k{n}', 'kind': 'file', 'allowed': 'post:a'}])
    engine.optimize()  # the three segments are replaced by one
    files = set(os.listdir(tmp_path / 'ix'))
    monkeypatch.setattr(search_engine, 'GRACE_SECONDS', 0)
    engine.apply([{'key': 'k9', 'item': 'k9', 'kind': 'file', 'allowed': 'post:a'}])
    assert len(set(os.listdir(tmp_path / 'ix'))) < len(files)
    assert engine.query('', ['post:a'], filters={'kind': 'file'}).total == 4


def _side_by_side(tmp_path, queue_entries, request_adds, then=None):
    """A queue holding ``queue_entries`` (``add`` arguments); a request adds
    ``request_adds`` while the indexer removes what it read; both commit, the
    indexer first.  ``then(queue)`` looks at the result in a new transaction."""
    import ZODB
    import ZODB.FileStorage
    db = ZODB.DB(ZODB.FileStorage.FileStorage(str(tmp_path / 'Data.fs')))
    with db.transaction() as conn:
        queue = conn.root()['queue'] = IndexQueue()
        for args, kw in queue_entries:
            queue.add(*args, **kw)
    try:
        tm1, tm2 = transaction.TransactionManager(), transaction.TransactionManager()
        request, indexer = db.open(transaction_manager=tm1), db.open(transaction_manager=tm2)
        tm1.begin()
        tm2.begin()
        keys = indexer.root()['queue'].oldest(10)
        for args, kw in request_adds:
            request.root()['queue'].add(*args, **kw)
        indexer.root()['queue'].remove(keys)
        tm2.commit()
        tm1.commit()  # resolved, not a ConflictError
        tm1.begin()
        if then is not None:
            then(request.root()['queue'])
        tm1.abort()
    finally:
        db.close()


def test_queue_changes_from_a_request_and_the_indexer_merge_without_conflict(tmp_path):
    """A request adding an entry while the indexer removes the ones it indexed:
    both commit (the first bucket never empties), nothing is lost."""
    assert queue_shard('a') == queue_shard('x')  # (the same shard: the harder case)

    def only_x_waits(queue):
        assert [key[1] for key in queue.oldest(10)] == ['x'] and len(queue) == 1
    _side_by_side(tmp_path, [(('a', 'post:x', None), {'at': 1.0})],
                  [(('x', 'post:x', None), {'at': 2.0})], only_x_waits)


def test_narrowing_is_forgotten_only_with_its_own_entry_whatever_the_clocks_say():
    queue = IndexQueue()
    queue.add('f', 'post:a archive:x', None, at=1.0)
    queue.remove(queue.oldest(10))
    queue.add('f', 'post:a archive:x', 'post:a archive:x', at=100.0)  # a machine ahead
    read = queue.oldest(10)                                            # the indexer reads
    queue.add('f', 'post:a', 'post:a archive:x', at=99.0)  # reopened on a machine behind
    queue.remove(read)
    assert queue.hidden_from(['archive:x']) == ['f']  # still hidden: that change waits
    queue.remove(queue.oldest(10))
    assert queue.hidden_from(['archive:x']) == []


def test_narrowing_from_a_request_and_the_indexer_merge_without_conflict(tmp_path):
    def only_y_hidden(queue):  # x's narrowing went with its entry; y's remains
        assert queue.hidden_from(['archive:f']) == ['y']
    _side_by_side(tmp_path, [(('x', 'post:a', 'post:a archive:f'), {'at': 1.0})],
                  [(('y', 'post:b', 'post:b archive:f'), {'at': 2.0})], only_y_hidden)


def test_narrowing_is_remembered_until_the_change_is_indexed():
    queue = IndexQueue()
    queue.add('f1', 'post:a archive:finance', None, at=1.0)   # new, closed routine file
    assert queue.hidden_from(['archive:finance']) == []
    first = queue.add('f1', 'post:a', 'post:a archive:finance', at=2.0)  # reopened
    assert queue.hidden_from(['archive:finance']) == ['f1']
    assert queue.hidden_from(['post:a']) == []
    later = queue.add('f1', 'post:a post:b', 'post:a', at=3.0)  # forwarded: still narrowed
    queue.remove([(1.0, 'f1'), first])  # indexed up to the reopening only
    assert queue.hidden_from(['archive:finance']) == ['f1']
    queue.remove([later])
    assert queue.hidden_from(['archive:finance']) == [] and len(queue) == 0
    assert queue.lag() == 0.0


# --- real processes: a server killed at any moment, and processes sharing one indexer -------

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def serve(tmp_path, var_dir, **settings):
    """``pserve`` (waitress) on ``var_dir`` in a process of its own, once /healthz answers."""
    port = free_port()
    ini = write_ini(tmp_path, var_dir, **settings)
    with open(ini, 'a') as f:
        f.write(f'\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\n')
    pserve = os.path.join(os.path.dirname(sys.executable), 'pserve')
    process = subprocess.Popen([pserve, ini], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url + '/healthz', timeout=5)
            return process, url
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, 'server did not start'
            time.sleep(0.1)


def call(url, path, body=None, token=None):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode() if body else None,
                                     headers={'Content-Type': 'application/json',
                                              **({'Authorization': f'Bearer {token}'}
                                                 if token else {})})
    with urllib.request.urlopen(request, timeout=60) as res:
        return json.loads(res.read())


def login(url, who='so.finance'):
    return call(url, '/api/v1/auth/token', {'login': who, 'password': DEMO_PASSWORD})['token']


def numbers_found(var_dir, numbers, settings):
    """Start the app (its indexer catches up), then search each number."""
    app = make_app(var_dir, **settings)
    try:
        app.registry.kpw_indexer.wait_idle(120)
        browser = Browser(app)
        token = browser.token('so.finance')
        return {n for n in numbers if browser.api('get', '/api/v1/search', token,
                                                    params={'q': f'"{n}"'}).json['total']}
    finally:
        close_app(app)


def test_a_server_killed_between_commit_and_indexing_heals_on_restart(var_dir, tmp_path,
                                                                     search_settings):
    process, url = serve(tmp_path, var_dir, **search_settings,
                         **{'kp_workspace.indexer': 'off'})
    try:
        token = login(url)
        f = call(url, '/api/v1/departments/finance/files', {'subject': 'Killed kestrel'}, token)
        call(url, f'/api/v1/files/{f["id"]}/notes', {'text': 'Nest on the roof.'}, token)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    ini = write_ini(tmp_path, var_dir, **search_settings)
    status, out = check(ini)
    assert status == 3 and 'changes wait for the search indexer' in out
    assert numbers_found(var_dir, [f['number']], search_settings) == {f['number']}
    assert check(ini) == (0, 'The index matches the database.\n')


def test_a_server_killed_while_writing_and_indexing_loses_no_index_update(var_dir, tmp_path,
                                                                          search_settings):
    process, url = serve(tmp_path, var_dir, **search_settings)
    acknowledged, stop = [], threading.Event()

    def write():
        token = login(url)
        n = 0
        while not stop.is_set():
            n += 1
            try:
                f = call(url, '/api/v1/departments/finance/files', {'subject': f'Load {n}'},
                         token)
                call(url, f'/api/v1/files/{f["id"]}/notes', {'text': f'Note {n}'}, token)
            except OSError:  # the server is gone
                return
            acknowledged.append(f['number'])
    writer = threading.Thread(target=write)
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 15 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)  # whatever the indexer was doing
        process.wait(30)
        stop.set()
        writer.join(60)
    assert len(acknowledged) >= 15
    assert numbers_found(var_dir, acknowledged, search_settings) == set(acknowledged)
    assert check(write_ini(tmp_path, var_dir, **search_settings)) == (
        0, 'The index matches the database.\n')


@pytest.fixture
def zeo(tmp_path, var_dir):
    """A ZEO server for the demo data (main and audit storages), stopped afterwards."""
    port = free_port()
    conf = tmp_path / 'zeo.conf'
    conf.write_text(f"""<zeo>\n  address 127.0.0.1:{port}\n</zeo>
<filestorage 1>\n  path {var_dir}/Data.fs\n  blob-dir {var_dir}/blobs\n</filestorage>
<filestorage audit>\n  path {var_dir}/Audit.fs\n</filestorage>\n""")
    runzeo = os.path.join(os.path.dirname(sys.executable), 'runzeo')
    process = subprocess.Popen([runzeo, '-C', str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, 'ZEO did not start'
            time.sleep(0.1)
    yield {'zodbconn.uri': f'zeo://127.0.0.1:{port}?storage=1&blob_dir={var_dir}/blobs'
                           '&shared_blob_dir=true',
           'zodbconn.uri.audit': f'zeo://127.0.0.1:{port}?storage=audit'}
    process.terminate()
    process.wait(30)


def test_processes_sharing_a_database_share_one_indexer(var_dir, zeo, search_settings):
    """Two app processes on one ZEO database: one indexes; what the other writes is
    indexed once, found by both; when the indexer's process stops, the other takes over."""
    first = make_app(var_dir, **zeo, **search_settings)
    second = make_app(var_dir, **zeo, **search_settings)
    try:
        indexers = [first.registry.kpw_indexer, second.registry.kpw_indexer]
        assert [i.active for i in indexers].count(True) == 1
        active, standby = (first, second) if indexers[0].active else (second, first)
        writer, reader = Browser(standby), Browser(active)
        token = writer.token('so.finance')
        f = writer.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                       params={'subject': 'Shared sparrowhawk'}).json

        def found(browser, word):
            res = browser.api('get', '/api/v1/search', browser.token('so.finance'),
                              params={'q': word}).json
            return [i['id'] for i in res['items']]
        deadline = time.monotonic() + 30
        while found(reader, 'sparrowhawk') != [f['id']]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert found(writer, 'sparrowhawk') == [f['id']]  # the same index, once
        close_app(active)  # the indexer's process ends: the other takes over
        writer.api('post_json', f'/api/v1/files/{f["id"]}/notes', token, status=201,
                   params={'text': 'Takeover tern'})
        deadline = time.monotonic() + 30
        while found(writer, 'tern') != [f['id']]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert standby.registry.kpw_indexer.active
    finally:
        for app in (first, second):
            close_app(app)


def test_a_program_that_seeds_random_does_not_make_two_segments_of_one_name(tmp_path):
    """Whoosh names segments with the random module: a program -- or a test framework,
    as hypothesis does before every example -- that seeds it made the next segment
    take the name of an earlier one and truncate its files ("Unknown file header
    b''"; the indexer then refused every item)."""
    import random
    engine = search_engine.WhooshEngine(str(tmp_path / 'ix'))
    for batch in range(3):
        random.seed(0)
        engine.apply([{'key': f'k{batch}', 'item': f'k{batch}', 'kind': 'file',
                       'title': f'walrus {batch}', 'allowed': 'post:a'}], merge=False)
    assert engine.segment_count() == 3
    found = engine.query('walrus', ['post:a'])
    assert sorted(hit.key for hit in found.hits) == ['k0', 'k1', 'k2']
