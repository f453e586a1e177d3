"""Writing over HTTP while the archive grows: does any officer wait for the search index?

Builds an archive (the demo data plus ``--files`` case files through the domain),
serves it with the real server (``pserve`` + waitress, a process of its own) and
drives it over HTTP from ``--clients`` client threads, each an officer of another
department, each opening a file and writing its first note, again and again.
Meanwhile a prober writes a note with a word of its own about twice a second
and searches for it until it is found: the lag from commit to searchable.
Then it searches over HTTP (the words of benchmarks/search_scale.py).

Prints, per run: files + notes a second, median / p95 / max latency of the write
requests, lag from commit to searchable (median and max), search median and p95.

    .venv/bin/python benchmarks/write_http.py [--files 10000] [--clients 1 4]
        [--seconds 60] [--archive DIR]

``--archive DIR`` keeps the filled archive in DIR and reuses it next time (each run
works on a copy), since filling 100,000 files takes minutes.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.desk_scale import fill  # noqa: E402
from benchmarks.search_scale import VOCABULARY, percentile, settle, subject  # noqa: E402
from kp_workspace.populate import DEMO_PASSWORD  # noqa: E402
from kp_workspace.scripts import kpw  # noqa: E402
from kp_workspace.site import close_databases  # noqa: E402
from tests.conftest import SECRET, make_app, write_ini  # noqa: E402

BIN = os.path.dirname(sys.executable)
WRITERS = [('so.finance', 'finance'), ('so.hed', 'higher-education'), ('so.sit', 'science-it'),
           ('so.sports', 'sports')]
SEARCHER = 'secretary.finance'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def server_ini(directory, var, port):
    path = os.path.join(directory, 'server.ini')
    with open(path, 'w') as f:
        f.write(f"""[app:main]
use = egg:kp_workspace
kp_workspace.var_dir = {var}
kp_workspace.secret = {SECRET}

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
threads = 4

[loggers]
keys = root, kp_workspace
[logger_kp_workspace]
level = INFO
handlers =
qualname = kp_workspace.views.errors
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARN
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
""")
    return path


class Client:
    """One keep-alive HTTP connection with a bearer token."""

    def __init__(self, port, login=None):
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
        self.token = None
        if login:
            self.token = self.call('POST', '/api/v1/auth/token',
                                   {'login': login, 'password': DEMO_PASSWORD})[1]['token']

    def call(self, method, path, body=None):
        headers = {'Content-Type': 'application/json'}
        if self.token:
            headers['Authorization'] = f'Bearer {self.token}'
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=headers)
        res = self.conn.getresponse()
        raw = res.read()
        if res.status >= 400:
            raise RuntimeError(f'{method} {path}: {res.status} {raw[:200]!r}')
        return res.status, (json.loads(raw) if raw else None)


def wait_ready(port, timeout=600):
    """Until /healthz answers 200 and, when it reports one, the index has caught up."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            status, body = Client(port).call('GET', '/healthz')
            search = (body or {}).get('search') or {}
            if status == 200 and not search.get('pending'):
                return
        except (OSError, RuntimeError, http.client.HTTPException):
            pass
        time.sleep(0.5)
    raise RuntimeError('the server did not become ready')


def write_loop(client, login, dept, stop, latencies, pairs, errors):
    try:
        n = 0
        while not stop.is_set():
            n += 1
            start = time.perf_counter()
            _s, f = client.call('POST', f'/api/v1/departments/{dept}/files',
                                {'subject': f'Load test {login} {n}: repair of the office'})
            middle = time.perf_counter()
            client.call('POST', f'/api/v1/files/{f["id"]}/notes',
                        {'text': f'Estimate for the repair received, item {n}.'})
            end = time.perf_counter()
            latencies += [(middle - start) * 1000, (end - middle) * 1000]
            pairs.append(end)
    except Exception as e:  # reported at the end
        errors.append(repr(e))


def probe_loop(writer, reader, stop, lags, errors):
    """Write a note with a word never seen before; search until it is found."""
    try:
        _s, f = writer.call('POST', '/api/v1/departments/finance/files',
                            {'subject': 'Lag probe file'})
        n = 0
        while not stop.is_set():
            n += 1
            word = f'probe{n}x{os.getpid()}'
            writer.call('POST', f'/api/v1/files/{f["id"]}/notes', {'text': f'Marker {word}'})
            written = time.perf_counter()
            while True:
                _s, found = reader.call('GET', f'/api/v1/search?q={word}')
                if found['total']:
                    lags.append(time.perf_counter() - written)
                    break
                if time.perf_counter() - written > 300:
                    raise RuntimeError(f'{word} not found after 300 s')
                time.sleep(0.02)
            time.sleep(0.5)
    except Exception as e:
        errors.append(repr(e))


def search_latencies(port, runs=3):
    client = Client(port, SEARCHER)
    queries = ([VOCABULARY[i] for i in range(0, 300, 15)] + [VOCABULARY[i] for i in
               range(1000, 3000, 100)] + ['procurement', f'{VOCABULARY[3]}+{VOCABULARY[1500]}'])
    times = []
    for q in queries:
        for _ in range(runs):
            start = time.perf_counter()
            client.call('GET', f'/api/v1/search?q={q}')
            times.append((time.perf_counter() - start) * 1000)
    return times


def run(port, clients, seconds):
    stop = threading.Event()
    latencies, pairs, lags, errors = [], [], [], []
    # (tokens are taken one after the other, before the clock starts)
    threads = [threading.Thread(target=write_loop, args=(Client(port, login), login, dept, stop,
                                                         latencies, pairs, errors))
               for login, dept in WRITERS[:clients]]
    threads.append(threading.Thread(target=probe_loop, args=(
        Client(port, 'so.finance'), Client(port, 'so.finance'), stop, lags, errors)))
    start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - start  # (the writers stop now; the prober may still wait)
    for t in threads:
        t.join(600)
    wait_ready(port)
    searches = search_latencies(port)
    return {'rate': len([p for p in pairs if p - start <= elapsed]) / elapsed,
            'pairs': len(pairs), 'latencies': latencies,
            'lags': lags, 'searches': searches, 'errors': errors}


def summarise_conflicts(path):
    """What the server logged of retried conflicts: how many, by class of object."""
    counts = {}
    with open(path, errors='replace') as f:
        for line in f:
            if 'after a conflict' in line or 'every attempt conflicted' in line:
                kind = re.search(r'class ([\w.]+)', line)
                kind = kind.group(1) if kind else 'unknown'
                if 'every attempt' in line:
                    kind += ' (refused)'
                counts[kind] = counts.get(kind, 0) + 1
    return counts or 'none'


def build_archive(var, tmp, files):
    ini = write_ini(tmp, var)
    kpw.main(['-c', ini, 'init', '--demo'], out=open(os.devnull, 'w'))
    app = make_app(var)
    try:
        fill(app, 0, files, subject=subject)
        settle(app)
        print(f'  segments of the index: {app.registry.kpw_search.segment_count()}')
    finally:
        stop = getattr(getattr(app.registry, 'kpw_indexer', None), 'stop', None)
        if stop is not None:
            stop()
        close_databases(app.registry)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--files', type=int, default=10_000)
    parser.add_argument('--clients', type=int, nargs='+', default=[1, 4])
    parser.add_argument('--seconds', type=float, default=60)
    parser.add_argument('--archive', help='keep (or reuse) the filled archive here')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='kpw-write-bench-') as tmp:
        var = os.path.join(tmp, 'var')
        if args.archive and os.path.exists(os.path.join(args.archive, 'Data.fs')):
            shutil.copytree(args.archive, var)
        else:
            print(f'filling {args.files} files')
            build_archive(var, tmp, args.files)
            if args.archive:
                shutil.copytree(var, args.archive)
        for clients in args.clients:
            port = free_port()
            log = open(os.path.join(tmp, f'server-{clients}.log'), 'w')
            server = subprocess.Popen([os.path.join(BIN, 'pserve'), server_ini(tmp, var, port)],
                                      stderr=log)
            try:
                wait_ready(port)
                result = run(port, clients, args.seconds)
            finally:
                server.terminate()
                server.wait(60)
                log.close()
            conflicts = summarise_conflicts(os.path.join(tmp, f'server-{clients}.log'))
            if os.environ.get('KPW_BENCH_LOGS'):
                shutil.copy(os.path.join(tmp, f'server-{clients}.log'),
                            os.environ['KPW_BENCH_LOGS'])
            lat, lags, s = result['latencies'], result['lags'], result['searches']
            if result['errors']:
                print(f'  ERRORS: {result["errors"][:5]}')
            print(f'  conflicts retried: {conflicts}')
            if not lat:
                continue
            print(f'\n{args.files} files, {clients} client(s), {args.seconds:.0f} s: '
                  f'{result["rate"]:.1f} files + notes a second ({result["pairs"]} pairs)')
            print(f'  write requests: median {statistics.median(lat):.1f} ms, p95 '
                  f'{percentile(lat, 0.95):.1f} ms, max {max(lat):.1f} ms '
                  f'({len(lat)} requests)')
            if lags:
                print(f'  commit to searchable: median {statistics.median(lags):.2f} s, '
                      f'max {max(lags):.2f} s ({len(lags)} probes)')
            print(f'  search (HTTP, {SEARCHER}, {len(s)} queries): median '
                  f'{statistics.median(s):.1f} ms, p95 {percentile(s, 0.95):.1f} ms')


if __name__ == '__main__':
    main()
