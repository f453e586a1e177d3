"""Do the lists people open all day stay fast as the archive grows?

Builds a real FileStorage database with the demo data, fills it with case files
spread over the Finance and Higher Education posts (each forwarded once, some
with notes), and measures through the WSGI app (WebTest, in-process):

  - GET /api/v1/inbox and GET /inbox for secretary.finance
  - GET /api/v1/files/{id} and GET /files/{id} for one file
  - GET / (the home page: counts per list, what waits longest) for secretary.finance,
    and GET / and GET /sent for so.finance (who sent half the archive)

at 1,000 files and again at the full size (default 100,000).  Prints the
median of each and the ratio big/small: close to 1 means the cost does not grow
with the archive.

    .venv/bin/python benchmarks/desk_scale.py [--files 100000] [--runs 40]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import transaction
from pyramid.threadlocal import manager
from ZODB.POSException import ConflictError

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kp_workspace.access import Officer  # noqa: E402
from kp_workspace.audit import Actor, ensure_audit_log  # noqa: E402
from kp_workspace.content_types.casefile import open_file  # noqa: E402
from kp_workspace.content_types.movable import move, write_note  # noqa: E402
from kp_workspace.scripts import kpw  # noqa: E402
from kp_workspace.site import ROOT_KEY, close_databases  # noqa: E402
from tests.conftest import Browser, make_app, write_ini  # noqa: E402

SENDERS = [('so.finance', 'finance', 'secretary-finance'), ('so.hed', 'higher-education',
                                                             'secretary-hed')]


def default_subject(i):
    return f'Benchmark file {i}: procurement of stationery'


def fill(app, start, stop, batch=1000, subject=default_subject):
    db = app.registry._zodb_databases['']
    done = start
    # the domain announces changes through the current registry (search indexing)
    manager.push({'registry': app.registry, 'request': None})
    try:
        _fill(db, done, stop, batch, subject)
    finally:
        manager.pop()
    print()


def _fill(db, done, stop, batch, subject):
    while done < stop:
        try:
            done = _fill_batch(db, done, stop, batch, subject)
        except ConflictError:  # (with the indexer, say): the batch is done again, as a request
            continue
        print(f'  {done:>7} files', end='\r', flush=True)


def _fill_batch(db, done, stop, batch, subject):
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            site = conn.root()[ROOT_KEY]
            users = site['principals'].users
            actor = Actor('benchmark', '127.0.0.1', ensure_audit_log(conn))
            for i in range(done, min(stop, done + batch)):
                login, dept, to_post = SENDERS[i % 2]
                officer = Officer(users[login], site, actor)
                casefile = open_file(site['departments'][dept], officer,
                                     subject(i),
                                     priority=('routine', 'urgent', 'immediate')[i % 3])
                if i % 5 == 0:
                    write_note(casefile, officer, f'Note on file {i}. ' * 5)
                move(casefile, officer, 'forward', to_post, 'for approval', alert=None)
        return min(stop, done + batch)
    finally:
        tm.abort()
        conn.cacheMinimize()
        conn.close()


def samples_ms(browser, path, token=None, runs=40):
    """The milliseconds of ``runs`` GETs of ``path`` (with the bearer ``token``, if any)."""
    headers = {'Authorization': f'Bearer {token}'} if token else {}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        browser.get(path, headers=headers, status=200)
        times.append((time.perf_counter() - start) * 1000)
    return times


def median_ms(browser, path, token=None, runs=40):
    return statistics.median(samples_ms(browser, path, token, runs))


def measure(app, runs):
    browser = Browser(app)
    token = browser.token('secretary.finance')
    browser.login('secretary.finance')
    inbox = browser.get('/api/v1/inbox', headers={'Authorization': f'Bearer {token}'}).json
    file_id = inbox['items'][0]['id']
    sender = Browser(app)
    sender.login('so.finance')
    for path in ('/inbox', f'/files/{file_id}', '/'):
        browser.get(path)  # warm the caches once
    for path in ('/', '/sent'):
        sender.get(path)
    return {
        'page home': median_ms(browser, '/', None, runs),
        'sender home': median_ms(sender, '/', None, runs),
        'sender sent': median_ms(sender, '/sent', None, runs),
        'API inbox': median_ms(browser, '/api/v1/inbox', token, runs),
        'API file': median_ms(browser, f'/api/v1/files/{file_id}', token, runs),
        'page inbox': median_ms(browser, '/inbox', None, runs),
        'page file': median_ms(browser, f'/files/{file_id}', None, runs),
        'inbox total': inbox['total'],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--files', type=int, default=100_000)
    parser.add_argument('--small', type=int, default=1_000)
    parser.add_argument('--runs', type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='kpw-bench-') as tmp:
        var = os.path.join(tmp, 'var')
        kpw.main(['-c', write_ini(tmp, var), 'init', '--demo'], out=open(os.devnull, 'w'))
        app = make_app(var)
        try:
            print(f'filling {args.small} files')
            fill(app, 0, args.small)
            small = measure(app, args.runs)
            print(f'filling up to {args.files} files')
            start = time.perf_counter()
            fill(app, args.small, args.files)
            print(f'  ({(args.files - args.small) / (time.perf_counter() - start):.0f} files/s)')
            big = measure(app, args.runs)
        finally:
            close_databases(app.registry)
        size = os.path.getsize(os.path.join(var, 'Data.fs')) >> 20
    print(f'\nData.fs at {args.files} files: {size} MB; secretary.finance holds '
          f'{small["inbox total"]} then {big["inbox total"]} files\n')
    print(f'{"median (ms)":<14}{args.small:>10}{args.files:>10}{"ratio":>8}')
    for key in ('API inbox', 'page inbox', 'API file', 'page file', 'page home', 'sender home',
                'sender sent'):
        print(f'{key:<14}{small[key]:>10.2f}{big[key]:>10.2f}{big[key] / small[key]:>8.2f}')


if __name__ == '__main__':
    main()
