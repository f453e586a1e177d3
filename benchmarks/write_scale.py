"""Writing and rebuilding the search index at archive scale.

Builds a real archive (FileStorages, the demo data) through the domain and grows it
to each size of ``--sizes``: case files opened with their first note, ``--batch``
files a transaction, the app's indexer thread taking them in as it goes.  At each
size it prints:

  - files with their first note a second, created in-process through the domain
    (``open_file`` + ``write_note``, what the views call: checks, numbers, desk
    registers, audit, queue), counted until the search index holds them:
      * one file a transaction (as one request does), from 1 and ``--threads`` threads
      * ``--batch`` files a transaction (a bulk import; how the archive is grown)
  - the same through the WSGI app (WebTest, in-process, one client):
    ``POST /api/v1/departments/{id}/files`` then ``POST /api/v1/files/{id}/notes``
  - ``kpw reindex`` (a child process, ``--processes`` if given): documents a second by
    the clock and per CPU-second of its processes, and the peak RSS of its process tree
    (the sum over its processes, sampled every 50 ms) and of its largest process
  - whether ``kpw reindex --check`` finds the rebuilt index equal to the database

The machine may be shared: the CPU-second figures vary less than the clock ones.

    .venv/bin/python benchmarks/write_scale.py [--sizes 10000 100000] [--sample 1000]
        [--threads 4] [--batch 100] [--processes N] [--archive DIR] [--skip-writes]

``--archive DIR`` keeps the grown archive in DIR (one folder per size) and starts from
the largest one there next time; measurements always run on a copy.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import transaction
from pyramid.threadlocal import manager
from ZODB.POSException import ConflictError

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.search_scale import VOCABULARY, subject  # noqa: E402
from kp_workspace.access import Officer  # noqa: E402
from kp_workspace.audit import Actor, ensure_audit_log  # noqa: E402
from kp_workspace.content_types.casefile import open_file  # noqa: E402
from kp_workspace.content_types.movable import write_note  # noqa: E402
from kp_workspace.scripts import kpw  # noqa: E402
from kp_workspace.site import ROOT_KEY, close_databases  # noqa: E402
from tests.conftest import Browser, make_app, write_ini  # noqa: E402

WRITERS = [('so.finance', 'finance'), ('so.hed', 'higher-education'), ('so.sit', 'science-it'),
           ('so.sports', 'sports')]


def note_text(i):
    words = [VOCABULARY[(i * 7 + k * 131) % len(VOCABULARY)] for k in range(12)]
    return f'Estimate received for item {i}: {" ".join(words)}. Put up for orders, please.'


def _officer(site, conn, login):
    return Officer(site['principals'].users[login], site,
                   Actor('benchmark', '127.0.0.1', ensure_audit_log(conn)))


def create(db, numbers, login, dept):
    """Open a file and write its first note for each of ``numbers``, all in one
    transaction (retried after a conflict, as a request is)."""
    while True:
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        try:
            with tm:
                site = conn.root()[ROOT_KEY]
                officer = _officer(site, conn, login)
                department = site['departments'][dept]
                for i in numbers:
                    casefile = open_file(department, officer, subject(i),
                                         priority=('routine', 'urgent', 'immediate')[i % 3])
                    write_note(casefile, officer, note_text(i))
            return
        except ConflictError:
            continue
        finally:
            tm.abort()
            conn.close()


def grow(app, start, stop, batch):
    """Files ``start``..``stop``, ``batch`` a transaction, spread over the departments;
    until indexed.  :returns: files a second."""
    db = app.registry._zodb_databases['']
    began = time.perf_counter()
    for first in range(start, stop, batch):
        login, dept = WRITERS[(first // batch) % len(WRITERS)]
        create(db, range(first, min(stop, first + batch)), login, dept)
        print(f'  {min(stop, first + batch):>8} files', end='\r', flush=True)
    app.registry.kpw_indexer.wait_idle(3600)
    print()
    return (stop - start) / (time.perf_counter() - began)


def per_transaction(app, start, count, threads):
    """``count`` files, one a transaction, from ``threads`` threads (one department
    each); until indexed.  :returns: files a second."""
    db = app.registry._zodb_databases['']
    share = count // threads
    errors = []

    def work(n):
        manager.push({'registry': app.registry, 'request': None})
        try:
            login, dept = WRITERS[n]
            for i in range(start + n * share, start + (n + 1) * share):
                create(db, [i], login, dept)
        except Exception as e:  # (reported below)
            errors.append(repr(e))
        finally:
            manager.pop()
    began = time.perf_counter()
    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    app.registry.kpw_indexer.wait_idle(3600)
    if errors:
        raise RuntimeError(errors[:3])
    return share * threads / (time.perf_counter() - began)


def through_wsgi(app, start, count):
    """``count`` files with a note through the JSON API, one client; until indexed."""
    browser = Browser(app, extra_environ={'REMOTE_ADDR': '127.0.0.1'})
    token = browser.token('so.finance')
    began = time.perf_counter()
    for i in range(start, start + count):
        made = browser.api('post_json', '/api/v1/departments/finance/files', token,
                           status=201, params={'subject': subject(i)}).json
        browser.api('post_json', f'/api/v1/files/{made["id"]}/notes', token, status=201,
                    params={'text': note_text(i)})
    app.registry.kpw_indexer.wait_idle(3600)
    return count / (time.perf_counter() - began)


def _tree(pid):
    """``pid`` and its descendants (from /proc)."""
    children = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open(f'/proc/{name}/stat') as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, ()))
    return found


def _memory_kb(pid):
    """``(VmRSS, VmHWM)`` of ``pid`` in kB (0, 0 when it is gone)."""
    found = {}
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith(('VmRSS:', 'VmHWM:')):
                    found[line[:5]] = int(line.split()[1])
    except OSError:
        pass
    return found.get('VmRSS', 0), found.get('VmHWM', 0)


def reindex(ini, processes):
    """Run ``kpw reindex`` as a child.  :returns: (seconds, CPU seconds, peak RSS of the
    tree in MB (its processes' RSS summed, sampled), the largest peak of one of its
    processes in MB (VmHWM, which starts again at exec, unlike ru_maxrss))."""
    args = [sys.executable, '-m', 'kp_workspace.scripts.kpw', '-c', ini, 'reindex']
    if processes is not None:
        args += ['--processes', str(processes)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, highest = 0, {}
    while child.poll() is None:
        total = 0
        for pid in _tree(child.pid):
            rss, hwm = _memory_kb(pid)
            total += rss
            highest[pid] = max(highest.get(pid, 0), hwm)
        peak = max(peak, total)
        time.sleep(0.05)
    seconds = time.perf_counter() - began
    if child.returncode:
        raise RuntimeError(f'kpw reindex exited with {child.returncode}')
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, peak / 1024, max(highest.values(), default=0) / 1024


def check(ini):
    with open(os.devnull, 'w') as devnull:
        return kpw.main(['-c', ini, 'reindex', '--check'], out=devnull, err=devnull)


def documents(var):
    from whoosh.filedb.filestore import FileStorage
    return FileStorage(os.path.join(var, 'search')).open_index().doc_count()


def copy(source, target):
    shutil.copytree(source, target)
    for junk in ('Data.fs.lock', 'Audit.fs.lock', os.path.join('search', '.indexer.lock')):
        try:
            os.remove(os.path.join(target, junk))
        except FileNotFoundError:
            pass


def measure(args, tmp, grown, size):
    var = os.path.join(tmp, f'measure-{size}')
    copy(grown, var)
    ini = write_ini(tmp, var)
    print(f'\n== {size:,} files')
    if not args.skip_writes:
        app = make_app(var)
        manager.push({'registry': app.registry, 'request': None})
        try:
            next_number = 10_000_000
            for threads in sorted({1, args.threads}):
                rate = per_transaction(app, next_number, args.sample, threads)
                next_number += args.sample
                print(f'file + first note, one a transaction, {threads} thread(s): '
                      f'{rate:.0f} files/s (until indexed)')
            rate = grow(app, next_number, next_number + args.sample, args.batch)
            next_number += args.sample
            print(f'file + first note, {args.batch} a transaction: {rate:.0f} files/s '
                  '(until indexed)')
            rate = through_wsgi(app, next_number, max(1, args.sample // 2))
            print(f'file + first note through the WSGI app (2 requests), one client: '
                  f'{rate:.0f} files/s (until indexed)')
        finally:
            manager.pop()
            close_databases(app.registry)
    seconds, cpu, tree_mb, largest_mb = reindex(ini, args.processes)
    docs = documents(var)
    print(f'kpw reindex{"" if args.processes is None else f" --processes {args.processes}"}: '
          f'{docs:,} documents in {seconds:.1f} s = {docs / seconds:.0f} documents/s '
          f'({docs / cpu:.0f} per CPU-second); peak RSS {tree_mb:.0f} MB for all its '
          f'processes, {largest_mb:.0f} MB the largest')
    status = check(ini)
    print(f'kpw reindex --check after it: {"clean" if status == 0 else f"DIFFERS ({status})"}')
    shutil.rmtree(var)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--sizes', type=int, nargs='+', default=[10_000, 100_000])
    parser.add_argument('--sample', type=int, default=1000,
                        help='files created for each write measurement')
    parser.add_argument('--threads', type=int, default=4)
    parser.add_argument('--batch', type=int, default=100, help='files a transaction, bulk')
    parser.add_argument('--processes', type=int, help='passed to kpw reindex')
    parser.add_argument('--archive', help='keep (or reuse) the grown archives here')
    parser.add_argument('--skip-writes', action='store_true', help='only measure the rebuild')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='kpw-write-scale-') as tmp:
        grown, have = os.path.join(tmp, 'grown'), 0
        kept = sorted((int(name), name) for name in os.listdir(args.archive or tmp)
                      if name.isdigit()) if args.archive and os.path.isdir(args.archive) else []
        kept = [(n, name) for n, name in kept if n <= max(args.sizes)]
        if kept:
            have = kept[-1][0]
            copy(os.path.join(args.archive, kept[-1][1]), grown)
        else:
            kpw.main(['-c', write_ini(tmp, grown), 'init', '--demo'],
                     out=open(os.devnull, 'w'))
        for size in sorted(args.sizes):
            if size > have:
                app = make_app(grown)
                manager.push({'registry': app.registry, 'request': None})
                try:
                    print(f'growing the archive to {size:,} files')
                    rate = grow(app, have, size, args.batch)
                    print(f'  ({rate:.0f} files/s while growing, {args.batch} a transaction, '
                          'until indexed)')
                finally:
                    manager.pop()
                    close_databases(app.registry)
                have = size
                if args.archive:
                    os.makedirs(args.archive, exist_ok=True)
                    target = os.path.join(args.archive, str(size))
                    if not os.path.exists(target):
                        copy(grown, target)
            measure(args, tmp, grown, size)


if __name__ == '__main__':
    main()
