"""Do the department dashboard's charts stay fast as the archive grows?

The charts (pending by age and by desk, the overdue trend of eight weeks, the
average time at each desk) read the desk registers: what each post holds now and
the stays of a day or more completed at each post.  Their cost should follow the
department's current work and its last weeks, not the years of closed files
behind it.  So this builds a real FileStorage database with the demo data and:

1. the recent work: ``--recent`` files in Finance and Higher Education opened over
   the last ten weeks on a simulated clock, each kept some days with the Section
   Officer, forwarded, kept some days with the Secretary, and most returned and
   closed (a fifth still waiting, many of those overdue);
2. measures through the WSGI app (WebTest, in-process) the dashboard
   ``GET /departments/finance`` and the files behind a bar
   (``?age=7-14``, ``?overdue_on=<a week ago>``) as secretary.finance;
3. adds the archive: files opened, moved and closed one to five years ago, until
   there are ``--files`` in all; measures again and prints both and the ratio.

    .venv/bin/python benchmarks/dashboard_scale.py [--recent 1000] [--files 100000]
"""
import argparse
import contextlib
import datetime
import os
import random
import sys
import tempfile
import time

import transaction
from pyramid.threadlocal import manager

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.desk_scale import median_ms  # noqa: E402
from kp_workspace.access import Officer  # noqa: E402
from kp_workspace.audit import Actor, ensure_audit_log  # noqa: E402
from kp_workspace.content_types import movable  # noqa: E402
from kp_workspace.content_types.casefile import open_file  # noqa: E402
from kp_workspace.scripts import kpw  # noqa: E402
from kp_workspace.site import ROOT_KEY, close_databases  # noqa: E402
from kp_workspace.workflows.casefile import CASEFILE as CASEFILE_WORKFLOW  # noqa: E402
from tests.conftest import Browser, make_app, write_ini  # noqa: E402

DAY = datetime.timedelta(days=1)
DEPARTMENTS = [('so.finance', 'secretary.finance', 'finance', 'secretary-finance'),
               ('so.hed', 'secretary.hed', 'higher-education', 'secretary-hed')]


class Clock:
    """The time the domain sees while filling (``movable.now``)."""

    def __init__(self):
        self.at = None

    def __call__(self):
        return self.at


def _one(site, actor, clock, rng, i, opened, close_all):
    so, secretary, dept, to_post = DEPARTMENTS[i % 2]
    users = site['principals'].users
    officer = Officer(users[so], site, actor)
    head = Officer(users[secretary], site, actor)
    clock.at = opened
    casefile = open_file(site['departments'][dept], officer, f'Matter {i}: works and accounts',
                         priority=('routine', 'urgent', 'immediate')[i % 3])
    now = datetime.datetime.now(datetime.timezone.utc)
    clock.at = min(now, opened + rng.uniform(0, 9) * DAY)
    if not close_all and clock.at >= now - DAY and rng.random() < .5:
        return  # still with the Section Officer
    CASEFILE_WORKFLOW.run(casefile, 'forward', officer, to_post=to_post)
    clock.at = min(now, clock.at + rng.uniform(0, 12) * DAY)
    if not close_all and (clock.at >= now - DAY or rng.random() < .2):
        return  # still with the Secretary
    CASEFILE_WORKFLOW.run(casefile, 'return', head)
    clock.at = min(now, clock.at + rng.uniform(0, 2) * DAY)
    CASEFILE_WORKFLOW.run(casefile, 'close', officer)


def fill(app, start, stop, when, close_all, batch=500, seed=12):
    """Files ``start``..``stop``, each opened at ``when(rng)``."""
    db = app.registry._zodb_databases['']
    clock = Clock()
    real_now = movable.now
    movable.now = clock
    manager.push({'registry': app.registry, 'request': None})
    rng = random.Random(seed + start)
    try:
        done = start
        while done < stop:
            tm = transaction.TransactionManager()
            conn = db.open(transaction_manager=tm)
            try:
                with tm:
                    site = conn.root()[ROOT_KEY]
                    actor = Actor('benchmark', '127.0.0.1', ensure_audit_log(conn))
                    for i in range(done, min(stop, done + batch)):
                        _one(site, actor, clock, rng, i, when(rng), close_all)
            finally:
                conn.cacheMinimize()
                conn.close()
            done = min(stop, done + batch)
            print(f'  {done:>7} files', end='\r', flush=True)
    finally:
        movable.now = real_now
        manager.pop()
    print()


def measure(app, runs):
    browser = Browser(app)
    browser.login('secretary.finance')
    week_ago = (datetime.date.today() - datetime.timedelta(days=7)).isoformat()
    paths = {'dashboard': '/departments/finance',
             'files by age': '/departments/finance/files?age=7-14',
             'overdue a week ago': f'/departments/finance/files?overdue_on={week_ago}'}
    page = browser.get(paths['dashboard'])
    values = [int(v.text) for v in page.html.select('.chart-columns .chart-value')]
    for path in paths.values():
        browser.get(path)  # warm the caches once
    found = {name: median_ms(browser, path, runs=runs) for name, path in paths.items()}
    found['trend'] = values
    return found


def stays(app):
    conn = app.registry._zodb_databases[''].open()
    try:
        desk = conn.root()[ROOT_KEY].desk
        return (sum(len(s) for s in desk._stays.values()),
                desk.held_count(['secretary-finance', 'so-budget-finance']))
    finally:
        conn.transaction_manager.abort()
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--recent', type=int, default=1_000)
    parser.add_argument('--files', type=int, default=100_000)
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument('--keep', metavar='DIR',
                        help='build in DIR (new) and keep it, to look at: pserve DIR/test.ini')
    args = parser.parse_args()
    now = datetime.datetime.now(datetime.timezone.utc)
    if args.keep:
        os.makedirs(args.keep)
    with (contextlib.nullcontext(args.keep) if args.keep
          else tempfile.TemporaryDirectory(prefix='kpw-bench-')) as tmp:
        var = os.path.join(tmp, 'var')
        kpw.main(['-c', write_ini(tmp, var), 'init', '--demo'], out=open(os.devnull, 'w'))
        app = make_app(var, **{'kp_workspace.indexer': 'off'})
        try:
            print(f'the last ten weeks: {args.recent} files')
            fill(app, 0, args.recent, lambda rng: now - rng.uniform(0, 70) * DAY, False)
            small = measure(app, args.runs)
            small_stays, held = stays(app)
            print(f'the archive: up to {args.files} files, one to five years old')
            start = time.perf_counter()
            fill(app, args.recent, args.files,
                 lambda rng: now - rng.uniform(365, 5 * 365) * DAY, True)
            rate = (args.files - args.recent) / (time.perf_counter() - start)
            big = measure(app, args.runs)
            big_stays, _held = stays(app)
        finally:
            close_databases(app.registry)
        size = os.path.getsize(os.path.join(var, 'Data.fs')) >> 20
    print(f'\nfilled at {rate:.0f} files/s; Data.fs at {args.files} files: {size} MB')
    print(f'Finance desks hold {held} files; stays of a day or more kept: {small_stays} '
          f'then {big_stays}')
    print(f'overdue trend (8 weeks), both times: {small["trend"]} / {big["trend"]}\n')
    print(f'{"median (ms)":<20}{args.recent:>10}{args.files:>10}{"ratio":>8}')
    for key in ('dashboard', 'files by age', 'overdue a week ago'):
        print(f'{key:<20}{small[key]:>10.2f}{big[key]:>10.2f}{big[key] / small[key]:>8.2f}')


if __name__ == '__main__':
    main()
