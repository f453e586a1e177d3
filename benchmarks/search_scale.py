"""Search at archive scale: indexing throughput, latency, reindex memory, our overhead.

Fills a real database through the domain (each committed batch is indexed after
commit, as in production), then prints:

  - indexing throughput (documents per second) while filling (the indexer thread
    keeping up with the queue the filling transactions add to), and of a full
    ``kpw reindex`` (run as a child process, whose peak RSS is the reindex memory)
  - median and 95th percentile latency of GET /api/v1/search (WebTest, in-process)
    for secretary.finance, over a mix of rare and common words
  - the ratio of our search call (principal filter, facets, snippets from the
    database, the visibility re-check) to a bare query of the engine on the same index

With ``--engine postgresql`` the index is in PostgreSQL: a database of a private
cluster started for the run (as the tests start one), or the one ``--dsn`` names.

    .venv/bin/python benchmarks/search_scale.py [--files 100000] [--engine postgresql [--dsn DSN]]
"""
import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.desk_scale import fill  # noqa: E402
from kp_workspace.scripts import kpw  # noqa: E402
from kp_workspace.search.engine import MAX_SEGMENT_DOCS  # noqa: E402
from kp_workspace.site import close_databases  # noqa: E402
from tests.conftest import Browser, make_app, write_ini  # noqa: E402
from tests.pg import Cluster  # noqa: E402

rng = random.Random(7)
VOCABULARY = [''.join(rng.choice('bcdfghklmnprstvz') + rng.choice('aeiou') for _ in range(3))
              for _ in range(3000)]


def subject(i):
    r = random.Random(i)
    words = [r.choice(VOCABULARY[:300]), r.choice(VOCABULARY), r.choice(VOCABULARY)]
    return f'{" ".join(words)} procurement file {i}'


def live_index_mb(path):
    """The size of the index's current generation (replaced files wait a while
    before they are deleted, for searchers still reading them)."""
    from whoosh.filedb.filestore import FileStorage
    ix = FileStorage(path).open_index()
    prefixes = tuple(seg.segment_id() + '.' for seg in ix._segments())
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)
               if f.startswith(prefixes)) / 1024 / 1024


def postgres_index_mb(engine):
    def size(cur):
        cur.execute("SELECT pg_total_relation_size('kpw_search')")
        return cur.fetchone()[0]
    return engine._run(size) / 1024 / 1024


def bare_postgres(engine, principals, q):
    """A bare PostgreSQL query: the same tsquery and principals, the count and a page
    of 20 by rank (no facets, snippets or re-check)."""
    params = {'principals': principals, 'query': engine.parse(q)}

    def run(cur):
        cur.execute('SELECT count(*) FROM kpw_search WHERE allowed && %(principals)s::text[] '
                    'AND words @@ %(query)s::tsquery', params)
        cur.fetchone()
        cur.execute('SELECT key, title FROM kpw_search WHERE allowed && %(principals)s::text[] '
                    'AND words @@ %(query)s::tsquery '
                    'ORDER BY ts_rank(words, %(query)s::tsquery) DESC LIMIT 20', params)
        return cur.fetchall()
    return lambda: engine._run(run)


def bare_whoosh(engine, principals):
    """Bare Whoosh queries: the same held searcher and set of documents the user may
    open (built once, as the engine keeps it), a page of stored fields.  :returns:
    ``(function of a query giving its bare query, closer)``"""
    from whoosh.idsets import BitSet
    from whoosh.query import Or, Term
    searcher = engine.ix.searcher()
    allowed = BitSet(searcher.docs_for_query(Or([Term('allowed', p) for p in principals])),
                     size=searcher.doc_count_all())

    def bare(q):
        def run():
            page = searcher.search_page(engine.parse(q), 1, pagelen=20, filter=allowed)
            page.total
            [hit.fields() for hit in page]
        return run
    return bare, searcher.close


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def settle(app, timeout=3600):
    """Until the index holds every change and no merge is due: the steady state of a
    server that has run a while (the merger works in the background meanwhile)."""
    app.registry.kpw_indexer.wait_idle(timeout)
    deadline = time.monotonic() + timeout
    while app.registry.kpw_search.merges_due():
        if time.monotonic() > deadline:
            raise TimeoutError('merges are still due')
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--files', type=int, default=100_000)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--engine', choices=('whoosh', 'postgresql'), default='whoosh')
    parser.add_argument('--dsn', help='with --engine postgresql: the search database (default: '
                                      'a private PostgreSQL cluster for the run)')
    args = parser.parse_args()
    cluster = None
    settings = {'kp_workspace.search': args.engine}
    if args.engine == 'postgresql':
        if not args.dsn:
            cluster = Cluster().start()
            args.dsn = cluster.create_database('kpw_search_bench')
        settings['kp_workspace.search_dsn'] = args.dsn
    try:
        run(args, settings)
    finally:
        if cluster is not None:
            cluster.stop()


def run(args, settings):
    postgres = args.engine == 'postgresql'
    with tempfile.TemporaryDirectory(prefix='kpw-search-bench-') as tmp:
        var = os.path.join(tmp, 'var')
        ini = write_ini(tmp, var, **settings)
        kpw.main(['-c', ini, 'init', '--demo'], out=open(os.devnull, 'w'))
        app = make_app(var, **settings)
        try:
            start = time.perf_counter()
            fill(app, 0, args.files, subject=subject)
            app.registry.kpw_indexer.wait_idle(3600)  # (the indexer thread works meanwhile)
            fill_seconds = time.perf_counter() - start
            engine = app.registry.kpw_search
            settle(app)
            segments = None if postgres else engine.segment_count()
            docs = engine.doc_count() if postgres else engine.ix.doc_count()
            browser = Browser(app)
            token = browser.token('secretary.finance')
            queries = ([VOCABULARY[i] for i in range(0, 300, 15)]            # common words
                       + [VOCABULARY[i] for i in range(1000, 3000, 100)]     # rare words
                       + ['procurement', f'{VOCABULARY[3]} {VOCABULARY[1500]}'])
            api_times, ours, bare, after_change = [], [], [], []
            first_file = browser.api('get', '/api/v1/inbox', token).json['items'][0]['id']
            from kp_workspace.search.documents import principals_for
            from kp_workspace.search.query import search

            import transaction
            from kp_workspace.access import Officer
            from kp_workspace.audit import Actor
            from kp_workspace.site import ROOT_KEY
            db = app.registry._zodb_databases['']
            tm = transaction.TransactionManager()
            conn = db.open(transaction_manager=tm)
            tm.begin()
            site = conn.root()[ROOT_KEY]
            officer = Officer(site['principals'].users['secretary.finance'], site,
                              Actor('bench', '', None))
            principals = principals_for(officer)
            if postgres:
                bare_query, close_bare = (lambda q: bare_postgres(engine, principals, q)), None
            else:
                bare_query, close_bare = bare_whoosh(engine, principals)
            for q in queries:
                api_times += timed(lambda: browser.get(
                    '/api/v1/search', params={'q': q},
                    headers={'Authorization': f'Bearer {token}'}, status=200), args.runs)
                ours += timed(lambda: search(engine, officer, q, pagelen=20), args.runs)
                bare += timed(bare_query(q), args.runs)
            if close_bare is not None:
                close_bare()
            # the first search after the index changed (the engine opens a new searcher)
            for i, q in enumerate(queries[:20]):
                browser.api('post_json', f'/api/v1/files/{first_file}/notes', token,
                            status=201, params={'text': f'benchmark note {i}'})
                app.registry.kpw_indexer.wait_idle()
                after_change += timed(lambda: browser.get(
                    '/api/v1/search', params={'q': q},
                    headers={'Authorization': f'Bearer {token}'}, status=200), 1)
            tm.abort()
            conn.close()
        finally:
            close_databases(app.registry)
        # a full reindex in a child process: its peak RSS is the reindex's memory
        start = time.perf_counter()
        subprocess.run([sys.executable, '-m', 'kp_workspace.scripts.kpw', '-c', ini, 'reindex'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reindex_seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        # the same queries again on the rebuilt, optimised (single-segment) index
        app = make_app(var, **settings)
        try:
            browser = Browser(app)
            token = browser.token('secretary.finance')
            after = []
            for q in queries:
                after += timed(lambda: browser.get(
                    '/api/v1/search', params={'q': q},
                    headers={'Authorization': f'Bearer {token}'}, status=200), args.runs)
            index_mb = (postgres_index_mb(app.registry.kpw_search) if postgres
                        else live_index_mb(os.path.join(var, 'search')))
        finally:
            close_databases(app.registry)
    print(f'engine: {args.engine}; files: {args.files}; index documents: {docs}; index size '
          f'(with its indexes): {index_mb:.0f} MB'
          + ('' if postgres else f'; segments after the fill: {segments}'))
    print(f'indexing while filling (domain + ZODB + index): {args.files / fill_seconds:.0f} '
          f'files/s')
    print(f'full reindex: {docs / reindex_seconds:.0f} documents/s '
          f'({reindex_seconds:.0f} s), peak memory {peak_mb:.0f} MB')
    print(f'GET /api/v1/search over {len(queries)} queries x {args.runs}: median '
          f'{statistics.median(api_times):.1f} ms, p95 {percentile(api_times, 0.95):.1f} ms')
    print(f'GET /api/v1/search right after a change to the index (new searcher): median '
          f'{statistics.median(after_change):.1f} ms, p95 {percentile(after_change, 0.95):.1f} ms')
    rebuilt = ('vacuumed and analysed' if postgres else
               f'merged into segments of at most {MAX_SEGMENT_DOCS:,}')
    print(f'GET /api/v1/search after kpw reindex (rebuilt index, {rebuilt}): median '
          f'{statistics.median(after):.1f} ms, p95 {percentile(after, 0.95):.1f} ms')
    bare_what = ('bare SQL (same tsquery and principals, count and a page by rank'
                 if postgres else 'bare Whoosh (same query, held searcher and set of allowed '
                 'documents')
    print(f'our search call: median {statistics.median(ours):.1f} ms; {bare_what}; no facets, '
          f'snippets or re-check): median {statistics.median(bare):.1f} ms; overhead ratio '
          f'{statistics.median(ours) / statistics.median(bare):.2f}')


if __name__ == '__main__':
    main()
