"""The PostgreSQL search engine: what only it has (the settings, the advisory lock
shared by machines, connections the server drops, its query language made into a
tsquery), and that it finds what the Whoosh engine finds."""
import io
import threading

import psycopg2
import pytest

from kp_workspace.search.engine import QueryError, WhooshEngine
from kp_workspace.search.indexer import Indexer
from kp_workspace.search.postgres import LAYOUT_TABLE, TABLE, PostgresEngine, SearchUnavailable
from kp_workspace.settings import SettingsError, read_settings
from tests.conftest import close_app, write_ini
from tests.search.conftest import postgresql_only
from tests.search.test_search import found_by_a_new_app, open_api_file, search

ALL = ['post:a']


def doc(key, title='', content='', allowed='post:a', **fields):
    return {'key': key, 'item': key.split('/')[0], 'kind': 'file', 'title': title,
            'content': content, 'allowed': allowed, **fields}


def sql(dsn, statement, params=()):
    """Run ``statement`` on a connection of its own; :returns: its rows, if any."""
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def keys(results):
    return sorted(hit.key for hit in results.hits)


# --- settings ----------------------------------------------------------------------------

def settings_for(tmp_path, **values):
    return read_settings({'here': str(tmp_path)},
                         {'kp_workspace.var_dir': str(tmp_path / 'var'),
                          **{f'kp_workspace.{k}': v for k, v in values.items()}})


def test_the_engine_is_whoosh_unless_the_settings_say_postgresql(tmp_path):
    assert settings_for(tmp_path).search == 'whoosh'
    chosen = settings_for(tmp_path, search='postgresql',
                          search_dsn='postgresql://kpw@db.example:5432/kpw')
    assert (chosen.search, chosen.search_dsn) == ('postgresql', 'postgresql://kpw@db.example:5432/kpw')
    assert settings_for(tmp_path, search='postgresql',
                        search_dsn='host=db port=5432 dbname=kpw').search_dsn == \
        'host=db port=5432 dbname=kpw'
    assert settings_for(tmp_path, search='postgresql',
                        search_dsn='postgres://kpw@db/kpw').search == 'postgresql'


@pytest.mark.parametrize('values, message', [
    ({'search': 'solr'}, 'kp_workspace.search must be whoosh or postgresql'),
    ({'search': 'postgresql'}, 'kp_workspace.search_dsn must name the PostgreSQL database'),
    ({'search': 'postgresql', 'search_dsn': 'host=db password=hunter2 nonsense'},
     'kp_workspace.search_dsn must be a libpq connection string'),
    ({'search': 'postgresql', 'search_dsn': 'postgresql://kpw:hunter2@db/kpw?colour=blue'},
     'kp_workspace.search_dsn must be a libpq connection string'),
])
def test_search_settings_that_cannot_work_are_named_without_their_secrets(tmp_path, values,
                                                                          message):
    with pytest.raises(SettingsError) as raised:
        settings_for(tmp_path, **values)
    assert message in str(raised.value) and 'hunter2' not in str(raised.value)


# --- the same words, the same documents -------------------------------------------------

CORPUS = [
    doc('f1', 'Procurement of vehicles for the Treasury',
        'FD/B/2026/0001\nThe budget allocation under head A03970 is sufficient.',
        number='FD/B/2026/0001'),
    doc('f1/a1', 'AG letter (Procurement of vehicles)',
        'Audit observation on the pension fund reconciliation', number='FD/B/2026/0001'),
    doc('f2', 'محکمہ خزانہ: گاڑیوں کی خریداری', 'FD/B/2026/0002\nمُحَکَّمہ تعلیم کی رائے درکار ہے۔',
        number='FD/B/2026/0002'),
    doc('f3', 'Holiday notification', 'FD/B/2026/0003\nEid ul Azha; the head of the budget '
        'section agrees', number='FD/B/2026/0003'),
    doc('f4', 'Vehicle repairs', 'Zebra crossing near the treasury', number='FD/B/2026/0004'),
    doc('f5', "O'Brien's \\ report", 'quotes and back\\slashes', number="FD/B/2026/0005"),
]
SAME_ANSWERS = ['vehicle', 'vehicles procurement', 'procurement AND vehicle', 'treasury OR azha',
                '"budget allocation"', '"head of the budget"', '"the budget allocation"',
                '"FD/B/2026/0003"', 'number:FD/B/2026/0004', 'title:vehicle',
                'content:treasury', 'reconcil*', 'خریداری', 'محكمه', 'تعلیم', 'محکمہ',
                'zebra', '(vehicle OR holiday) AND treasury', 'vehicle AND NOT zebra',
                'nothingatall', 'the', "O'Brien's", 'back\\slashes']


def test_both_engines_find_the_same_documents_with_the_same_snippets(tmp_path, pg_dsn):
    """The query language as people use it gives the same documents, and for words
    (not prefixes) the same snippets, on either engine."""
    whoosh, pg = WhooshEngine(str(tmp_path / 'ix')), PostgresEngine(pg_dsn)
    text = {d['key']: d['content'] for d in CORPUS}
    for engine in (whoosh, pg):
        engine.apply(CORPUS)
    try:
        for q in SAME_ANSWERS:
            found = [engine.query(q, ALL, pagelen=20, text_for=lambda f: text[f['key']])
                     for engine in (whoosh, pg)]
            assert keys(found[0]) == keys(found[1]), q
            assert found[0].facets == found[1].facets, q
            if not q.endswith('*'):
                assert ({h.key: h.snippet for h in found[0].hits}
                        == {h.key: h.snippet for h in found[1].hits}), q
        # (and the answers are not empty ones: most queries find something)
        assert sum(bool(pg.query(q, ALL).total) for q in SAME_ANSWERS) >= len(SAME_ANSWERS) - 3
    finally:
        whoosh.close()
        pg.close()


@postgresql_only
def test_the_query_language(engine):
    engine.apply(CORPUS)
    assert keys(engine.query('vehicle NOT zebra', ALL)) == ['f1', 'f1/a1']  # NOT leaves out
    assert keys(engine.query('NOT vehicle', ALL)) == ['f2', 'f3', 'f5']
    assert keys(engine.query('vehicle ANDNOT zebra', ALL)) == ['f1', 'f1/a1']
    assert keys(engine.query('veh*', ALL)) == ['f1', 'f1/a1', 'f4']
    assert keys(engine.query('FD/B/2026/0001', ALL)) == ['f1', 'f1/a1']  # the file's every document
    assert keys(engine.query('FD/B/2026/*', ALL)) == ['f1', 'f2', 'f3']  # (the numbers in content)
    assert keys(engine.query('title:(budget treasury)', ALL)) == ['f1']
    assert keys(engine.query('content:(budget treasury)', ALL)) == ['f1', 'f3', 'f4']
    assert engine.query('*', ALL).total == len(CORPUS)
    assert engine.query('"unclosed phrase', ALL).total == 0
    assert keys(engine.query('treasury^2', ALL)) == ['f1', 'f4']  # (a Whoosh boost, ignored)
    for nothing in ('(((', 'AND OR NOT', ')))', '""', 'title:'):
        assert engine.query(nothing, ALL).total == 0, nothing
    # the title counts twice: "vehicle" in a title before "treasury" in content
    assert engine.query('vehicle treasury', ALL, pagelen=3).hits[0].key == 'f1'
    # a prefix is marked in snippets as the words it stood for
    snippet = engine.query('alloc*', ALL, text_for=lambda f: f['title'] + ' allocation').hits[0]
    assert '<mark class="match term0">allocation</mark>' in snippet.snippet
    with pytest.raises(QueryError):
        engine.query('*urement', ALL)
    with pytest.raises(QueryError):
        engine.query('(' * 40 + 'vehicle' + ')' * 40, ALL)


HOSTILE = ["'; DROP TABLE kpw_search; --", "vehicle' OR '1'='1", 'vehicle") OR ("1"="1',
           '\\', '\\\\', "\\'", "'", "''", '"', '&|!:*()', '!vehicle', 'vehicle & !zebra',
           'vehicle <-> treasury', "'vehicle':*", 'vehicle:*A', ':*', '*:*', '&&&', '|||',
           '!!!', '(', ')', '()', 'title:(', 'content:[a TO', 'AND OR NOT', '*?*', '?',
           'a' * 3000, 'ﷺ' * 700, '\x00vehicle\x00', 'vehicle\x00; DROP TABLE kpw_search',
           '$$; SELECT pg_sleep(10); $$', 'E\'\\x00\'', '%s %(query)s', '{allowed}',
           'post:a', "number:'; DELETE FROM kpw_search; --", 'title:title:title:', '-(-)-',
           '\u202evehicle', 'vehicle\u200b', '((((((((((((((((vehicle))))))))))))))))',
           'NOT ' * 5000 + 'vehicle', 'vehicle AND ' * 5000 + 'zebra', 'a OR ' * 5000,
           '(' * 5000, ')' * 5000 + 'vehicle', '"' * 5001]


@postgresql_only
def test_odd_and_hostile_query_text_gets_results_or_a_query_error(engine, pg_dsn):
    engine.apply(CORPUS)
    for text in HOSTILE:  # (one engine for all: each text's check says which it was)
        try:
            results = engine.query(text, ALL, text_for=lambda fields: fields['title'])
        except QueryError:
            pass
        else:
            assert results.total == len(results.hits) <= len(CORPUS), text
        # nothing was changed or dropped, and nothing widened the principals
        assert engine.doc_count() == len(CORPUS), text
        assert sql(pg_dsn, f'SELECT count(*) FROM {LAYOUT_TABLE}') == [(1,)], text
        try:
            assert engine.query(text, ['post:nobody']).total == 0, text
        except QueryError:
            pass


@postgresql_only
def test_hostile_text_through_the_api_is_answered_never_a_500(app, tokens, wsgi_app):
    open_api_file(app, tokens, "Granary O'Brien's \\ requisition")
    for text in HOSTILE + ['granary" OR 1=1 --', "granary'; DROP TABLE kpw_search; --"]:
        res = app.api('get', '/api/v1/search', tokens('so.finance'), status='*',
                      params={'q': text})
        assert res.status_int in (200, 400) and 'Traceback' not in res.text, text
    # the words among the noise are still found, and the table is still there
    assert search(app, tokens, 'so.finance', "granary'; DROP TABLE kpw_search; --")['total'] == 1
    assert search(app, tokens, 'so.finance', "O'Brien's")['total'] == 1
    assert wsgi_app.registry.kpw_search.doc_count() > 1


@postgresql_only
def test_filters_and_principals_are_parameters_not_sql(engine):
    engine.apply(CORPUS)
    assert engine.query('vehicle', ALL, filters={'department': "x' OR '1'='1"}).total == 0
    assert engine.query('vehicle', ["post:a' OR true --"]).total == 0
    assert engine.query('vehicle', ['post:nobody'], hidden_items=["f1') OR ('1'='1"]).total == 0
    with pytest.raises(ValueError):
        engine.query('vehicle', ALL, filters={'kind = kind OR 1': 'x'})


@postgresql_only
def test_urdu_is_found_in_any_spelling(engine):
    engine.apply([doc('u1', 'مُحَکَّمہ تعلیم', 'پاکستانی تعلیمی ادارے'),
                  # as pypdf extracts it from a PDF: presentation forms
                  doc('u2', 'pdf', '\ufee3\ufea4\ufb8f\ufee4\ufba7 فنڈ')])
    for spelling in ('محکمہ', 'محكمه', 'مُحَکَّمہ', 'مــحــکــمــہ', 'ﻣﺤﮑﻤﮧ'):
        assert keys(engine.query(spelling, ALL)) == ['u1', 'u2'], spelling
    for spelling in ('پاكستاني', 'پاکستانی', 'تعلیمـــی'):
        assert keys(engine.query(spelling, ALL)) == ['u1'], spelling
    assert keys(engine.query('"محكمه تعليم"', ALL)) == ['u1']


@postgresql_only
def test_long_documents_and_odd_words_are_indexed(engine):
    """An attachment's whole text (200,000 characters, more words than PostgreSQL
    keeps positions for), a word longer than PostgreSQL takes, quotes, backslashes
    and a NUL in stored fields: indexed, and found."""
    words = ' '.join(f'w{n}x' for n in range(25_000)) + ' lastword'  # (25,001 words)
    assert 170_000 < len(words) <= 200_000
    engine.apply([doc('big', 'Long attachment', words),
                  doc('odd', "it's a \\ title\x00", 'x' * 5000 + " don't\\ stop",
                      number="FD/'\\/1")])
    assert keys(engine.query('w24999x', ALL)) == ['big']
    assert keys(engine.query('lastword', ALL)) == ['big']
    assert keys(engine.query('"w10x w11x"', ALL)) == ['big']
    assert keys(engine.query("don't", ALL)) == ['odd']
    assert keys(engine.query("FD/'\\/1", ALL)) == ['odd']
    assert engine.query('stop', ALL).hits[0].title == "it's a \\ title"


# --- connections ------------------------------------------------------------------------

def sessions(dsn, advisory_lock=False):
    """The server's process ids of the connections of this test's schema (by the
    application name its ``dsn`` gives them); only the one holding an advisory lock."""
    name = dict(item.split('=', 1) for item in dsn.split() if '=' in item)['application_name']
    holding = (" AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
               "AND granted)" if advisory_lock else '')
    return [row[0] for row in sql(dsn, 'SELECT pid FROM pg_stat_activity WHERE '
                                       'application_name = %s AND pid <> pg_backend_pid()'
                                       + holding, (name,))]


def terminate(dsn, pids):
    for pid in pids:  # (waiting until each session has really ended)
        sql(dsn, 'SELECT pg_terminate_backend(%s, 10000)', (pid,))


@postgresql_only
def test_connections_the_server_dropped_are_replaced(engine, pg_dsn):
    engine.apply(CORPUS)
    taken = [engine._pool.take() for _ in range(3)]  # three idle connections in the pool
    for conn in taken:
        engine._pool.give_back(conn)
    terminate(pg_dsn, sessions(pg_dsn))
    assert engine.query('vehicle', ALL).total == 3
    terminate(pg_dsn, sessions(pg_dsn))
    engine.apply([doc('f9', 'Vehicle pool')])
    assert engine.query('vehicle', ALL).total == 4
    terminate(pg_dsn, sessions(pg_dsn))
    assert len(engine.stamps()) == len(CORPUS) + 1


def test_a_search_while_the_database_is_out_of_reach_says_so(pg_dsn, search_cluster):
    from tests.pg import free_port
    engine = PostgresEngine(pg_dsn)
    engine.close()
    engine._pool.dsn = pg_dsn.replace(f'port={search_cluster.port}', f'port={free_port()}')
    with pytest.raises(SearchUnavailable):
        engine.query('vehicle', ALL)
    with pytest.raises(OSError):  # (the indexer keeps its batch and tries again)
        engine.apply([doc('f1', 'Vehicle')])


@postgresql_only
def test_many_threads_share_a_few_connections(engine):
    """More searching threads than connections, and a writer replacing documents
    beside them: no search fails, none finds a document twice or a half-written batch."""
    engine.apply([doc(f'k{i}', f'walrus {i}', 'walrus tusk ' * 20) for i in range(60)])
    errors, totals, stop = [], [], threading.Event()

    def read():
        try:
            for _ in range(15):
                res = engine.query('walrus', ALL, pagelen=20, text_for=lambda f: 'walrus tusk')
                assert res.total == 60 and len({h.key for h in res.hits}) == 20
                totals.append(res.total)
        except Exception as e:  # (counted, not raised in the thread)
            errors.append(repr(e))

    def write():
        n = 0
        while not stop.is_set():
            n += 1
            ids = [(n * 7 + j) % 60 for j in range(3)]
            engine.apply([doc(f'k{i}', f'walrus {i} {n}') for i in ids],
                         remove_items=[f'k{i}' for i in ids])
    writer = threading.Thread(target=write)
    readers = [threading.Thread(target=read) for _ in range(12)]  # (the pool has 8)
    writer.start()
    for t in readers:
        t.start()
    for t in readers:
        t.join(300)
    stop.set()
    writer.join(60)
    assert errors == [] and len(totals) == 12 * 15


# --- the indexer lock -------------------------------------------------------------------

@postgresql_only
def test_one_indexer_at_a_time_across_engines_and_the_other_takes_over(wsgi_app, pg_dsn):
    """Two processes (two engines, as on two machines) on one search database: the
    advisory lock lets one index; the other takes over when it releases the lock,
    or when its session ends (a process killed, a connection cut)."""
    db = wsgi_app.registry._zodb_databases['']
    wsgi_app.registry.kpw_indexer.stop()
    engines = [PostgresEngine(pg_dsn), PostgresEngine(pg_dsn)]
    first, second = (Indexer(db, engine) for engine in engines)
    try:
        assert first.acquire() and first.active
        assert not second.acquire() and not second.active
        assert first.drain() == 0 and second.drain() is None  # (None: another indexes)
        first.release()
        assert second.acquire() and not first.acquire()
        # the session holding the lock ends (the server's view of a process killed)
        held = sessions(pg_dsn, advisory_lock=True)
        assert len(held) == 1
        terminate(pg_dsn, held)
        assert second.active  # (it does not know yet)
        assert first.acquire() and first.active
        assert not second.acquire() and not second.active  # (it found out, and waits)
    finally:
        first.release()
        second.release()
        for engine in engines:
            engine.close()


def test_workspaces_in_two_schemas_of_one_database_are_apart(pg_dsn, search_cluster):
    other_dsn = pg_dsn.replace('search_path=', 'search_path=other_')
    schema = other_dsn.split('search_path=')[1].split("'")[0]
    sql(pg_dsn, f'CREATE SCHEMA {schema}')
    try:
        mine, theirs = PostgresEngine(pg_dsn), PostgresEngine(other_dsn)
        mine.apply([doc('f1', 'Vehicle')])
        assert theirs.query('vehicle', ALL).total == 0 and mine.query('vehicle', ALL).total == 1
        locks = [mine.indexer_lock(), theirs.indexer_lock()]
        assert all(lock.acquire() for lock in locks)
        for lock in locks:
            lock.release()
        mine.close()
        theirs.close()
    finally:
        sql(pg_dsn, f'DROP SCHEMA {schema} CASCADE')


@postgresql_only
def test_the_indexer_survives_a_search_database_out_of_reach_at_start(
        app, wsgi_app, tokens, search_cluster, monkeypatch):
    from tests.pg import free_port
    indexer = wsgi_app.registry.kpw_indexer
    indexer.stop()
    monkeypatch.setattr(indexer, 'retry_after', 0.05)
    lock = indexer._lock
    reachable = lock.dsn
    lock.dsn = reachable.replace(f'port={search_cluster.port}', f'port={free_port()}')
    indexer.start()  # (neither start nor its thread fails)
    assert not indexer.active
    open_api_file(app, tokens, 'Patient pelican')
    lock.dsn = reachable  # the database is back
    assert search(app, tokens, 'so.finance', 'pelican')['total'] == 1
    assert indexer.active


# --- kpw with the PostgreSQL engine ------------------------------------------------------

@postgresql_only
def test_kpw_reindex_fills_an_empty_postgresql_index_from_the_database(
        app, wsgi_app, tokens, var_dir, tmp_path, pg_dsn, search_settings):
    from kp_workspace.scripts import kpw
    f = open_api_file(app, tokens, 'Rebuilt raven')
    app.indexed()
    close_app(wsgi_app)
    sql(pg_dsn, f'TRUNCATE {TABLE}')  # (as a deployment switching to PostgreSQL starts)
    ini = write_ini(tmp_path, var_dir, **search_settings)
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--check'], out=out) == 3
    assert f'missing: {f["id"]}' in out.getvalue()
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'reindex'], out=out, err=io.StringIO()) == 0
    assert 'Reindexed 13 items' in out.getvalue()  # the demo's files, letters and summaries
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--check'], out=out) == 0
    assert found_by_a_new_app(var_dir, search_settings, 'raven') == [f['id']]
