"""Mixed load on a real server: do reads, writes and uploads side by side stay correct?

Serves a new demo workspace (``kpw init --demo-if-empty``, ``pserve`` with a copy
of development.ini) and drives it for ``--seconds`` from ``--clients`` clients,
each a thread with a keep-alive connection of its own:

- officers (one a department, API token): open files, write notes, attach small
  PDFs, forward files to their Secretary; read their inbox, files, search, PDFs;
- Secretaries (API token): read their inbox, write notes on what arrived, send it
  back; read files, search, PDFs;
- two browser clients (signed in through the login form): the inbox page, file
  pages, the search page, a file's PDF.

Every answer is checked as it comes: no 5xx other than a 503 after the server's
conflict retries ran out (counted; it must say that nothing was saved), no other
refusal, no traceback in any body.  Afterwards, with the server stopped, the
database is compared with what the clients were told: every acknowledged note,
attachment, move and file is there exactly once, and nothing answered 503 is.

Prints requests a second by kind, status counts, latency median / p95 / max by
kind, the 503 count and what the server logged of conflicts.

    .venv/bin/python benchmarks/load_mixed.py [--seconds 180] [--clients 10]

Read scaling (``--reads-only``): the mixed load fills a new workspace for half a
minute; then readers only (officers and Secretaries through the API, browsers
through the pages: inbox, file, search, PDF) read it for ``--seconds`` on one
``pserve`` process, then on two app processes over ZEO (``kpw serve --workers
2``); it prints reads a second of each and the ratio two / one.  Use enough
clients to keep both processes busy (each serves four threads):

    .venv/bin/python benchmarks/load_mixed.py --reads-only --seconds 60 --clients 16

tests/system/test_load.py runs it for about a minute inside the suite.
"""
import argparse
import collections
import contextlib
import http.client
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kp_workspace.populate import DEMO_PASSWORD  # noqa: E402
from tests.system.server import (Client, Server, init_workspace, kpw, read_only_site,  # noqa: E402
                                 small_pdf)

OFFICERS = (('so.finance', 'finance', 'so-budget-finance', 'secretary-finance'),
            ('so.hed', 'higher-education', 'so-general-hed', 'secretary-hed'),
            ('so.sit', 'science-it', 'so-sit', 'secretary-sit'),
            ('so.sports', 'sports', 'so-sports', 'secretary-sports'))
SECRETARIES = (('secretary.finance', 'secretary-finance'), ('secretary.hed', 'secretary-hed'),
               ('secretary.sit', 'secretary-sit'), ('secretary.sports', 'secretary-sports'))
BROWSERS = ('so.finance', 'secretary.hed')
WORDS = ('repair', 'estimate', 'office', 'approval', 'budget', 'furniture', 'procurement')
KINDS = ('inbox', 'file', 'search', 'pdf', 'open', 'note', 'forward', 'upload')
PREFIX = 'Load '
IDLE = 0.05  # seconds a Secretary with nothing waiting lets pass before looking again


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Ledger:
    """What the clients were told, shared by all of them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.files = set()                       # acknowledged new files (ids)
        self.subjects = {}                       # acknowledged subject -> id
        self.refused_subjects = []               # 503 on opening a file
        self.notes = collections.defaultdict(list)        # file id -> acknowledged texts
        self.attachments = collections.defaultdict(list)  # file id -> acknowledged titles
        self.moves = collections.Counter()                # file id -> acknowledged moves
        self.refused = collections.defaultdict(list)      # file id -> texts / titles (503)
        self.latency = collections.defaultdict(list)      # kind -> ms
        self.resent = 0  # requests sent again after the server closed an idle connection
        self.statuses = collections.defaultdict(collections.Counter)  # kind -> status -> n
        self.errors = []
        self.unavailable = 0                     # 503s (each said "nothing was saved")

    def answer(self, kind, status, ms, body):
        """Count one answer.  :returns: True when it is a 2xx."""
        text = body if isinstance(body, str) else repr(body)
        with self.lock:
            self.latency[kind].append(ms)
            self.statuses[kind][status] += 1
            if 'Traceback' in text:
                self.errors.append((kind, status, 'a traceback in the answer', text[:300]))
            if status == 503:
                self.unavailable += 1
                if 'nothing was saved' not in text:
                    self.errors.append((kind, status, '503 without "nothing was saved"',
                                        text[:300]))
            elif not 200 <= status < 300:
                self.errors.append((kind, status, 'refused', text[:300]))
        return 200 <= status < 300


class Worker(threading.Thread):
    def __init__(self, name, port, ledger, deadline, seed):
        super().__init__(name=name, daemon=True)
        self.client = Client(port)
        self.ledger, self.deadline = ledger, deadline
        self.rng = random.Random(seed)
        self.known = []     # file ids this client may read
        self.n = 0

    def timed(self, kind, fn, *args, **kw):
        """Run one request.  :returns: ``(ok, status, body)``."""
        start = time.perf_counter()
        try:
            status, body = fn(*args, **kw)
        except (OSError, http.client.HTTPException) as e:
            with self.ledger.lock:
                self.ledger.errors.append((kind, None, 'connection failed', repr(e)))
            return False, None, None
        ms = (time.perf_counter() - start) * 1000
        return self.ledger.answer(kind, status, ms, body), status, body

    def call(self, kind, method, path, body=None):
        return self.timed(kind, self.client.call, method, path, body)

    def get_bytes(self, kind, path, expect=None):
        def get():
            status, res, data = self.client.raw('GET', path)
            if 200 <= status < 300:
                if expect is not None and not data.startswith(expect):
                    return 599, f'unexpected body {data[:100]!r}'
                return status, ''
            return status, data.decode('utf-8', 'replace')
        return self.timed(kind, get)

    def remember(self, fid):
        if fid not in self.known:
            self.known.append(fid)
            del self.known[:-30]

    def run(self):
        try:
            while time.monotonic() < self.deadline:
                self.step()
        except Exception as e:  # reported, never swallowed
            with self.ledger.lock:
                self.ledger.errors.append((self.name, None, 'client crashed', repr(e)))

    def read_something(self):
        choice = self.rng.random()
        if choice < 0.4 or not self.known:
            return self.inbox()
        fid = self.rng.choice(self.known)
        if choice < 0.7:
            self.call('file', 'GET', f'/api/v1/files/{fid}')
        elif choice < 0.9:
            self.call('search', 'GET', f'/api/v1/search?q={self.rng.choice(WORDS)}')
        else:
            self.get_bytes('pdf', f'/api/v1/files/{fid}/pdf', b'%PDF-')

    def inbox(self):
        ok, _status, body = self.call('inbox', 'GET', '/api/v1/inbox?limit=200')
        if ok:
            for row in body['items']:
                if row['kind'] == 'file':   # (a summary, as the demo's, is not read as a file)
                    self.remember(row['id'])
            return [row['id'] for row in body['items'] if row['kind'] == 'file'
                    and row['holder'] == self.post and row['subject'].startswith(PREFIX)]
        return None

    def write_note(self, fid):
        self.n += 1
        text = f'{PREFIX}note {self.name}.{self.n}: the {self.rng.choice(WORDS)} is in order.'
        ok, status, _body = self.call('note', 'POST', f'/api/v1/files/{fid}/notes',
                                      {'text': text})
        with self.ledger.lock:
            if ok:
                self.ledger.notes[fid].append(text)
            elif status == 503:
                self.ledger.refused[fid].append(text)

    def move(self, fid, action, params):
        ok, _status, _body = self.call('forward', 'POST', f'/api/v1/files/{fid}/actions/{action}',
                                       params)
        if ok:
            with self.ledger.lock:
                self.ledger.moves[fid] += 1
        return ok


class Officer(Worker):
    def __init__(self, login, dept, post, secretary, *args):
        super().__init__(login, *args)
        self.client.sign_in(login, DEMO_PASSWORD)
        self.dept, self.post, self.secretary = dept, post, secretary
        self.held = []

    def step(self):
        choice = self.rng.random()
        if not self.held or choice < 0.08:
            self.open_file()
        elif choice < 0.40:
            self.write_note(self.rng.choice(self.held))
        elif choice < 0.50:
            self.upload(self.rng.choice(self.held))
        elif choice < 0.58:
            fid = self.rng.choice(self.held)
            if self.move(fid, 'forward', {'to_post': self.secretary, 'remarks': 'please see'}):
                self.held.remove(fid)
        else:
            found = self.read_something()
            if found is not None:
                self.held = sorted(set(self.held) | set(found))

    def open_file(self):
        self.n += 1
        subject = f'{PREFIX}{self.name} {self.n}: {self.rng.choice(WORDS)} of the office'
        ok, status, body = self.call('open', 'POST', f'/api/v1/departments/{self.dept}/files',
                                     {'subject': subject})
        with self.ledger.lock:
            if ok:
                self.ledger.files.add(body['id'])
                self.ledger.subjects[subject] = body['id']
            elif status == 503:
                self.ledger.refused_subjects.append(subject)
        if ok:
            self.held.append(body['id'])
            self.remember(body['id'])

    def upload(self, fid):
        self.n += 1
        title = f'{PREFIX}{self.name}-{self.n}'
        ok, status, _body = self.timed(
            'upload', self.client.upload, f'/api/v1/files/{fid}/attachments',
            f'letter-{self.n}.pdf', small_pdf(title), title=title)
        with self.ledger.lock:
            if ok:
                self.ledger.attachments[fid].append(title)
            elif status == 503:
                self.ledger.refused[fid].append(title)


class Secretary(Worker):
    def __init__(self, login, post, *args):
        super().__init__(login, *args)
        self.client.sign_in(login, DEMO_PASSWORD)
        self.post = post
        self.held = []

    def step(self):
        choice = self.rng.random()
        if self.held and choice < 0.30:
            self.write_note(self.rng.choice(self.held))
        elif self.held and choice < 0.40:
            fid = self.rng.choice(self.held)
            if self.move(fid, 'return', {'remarks': 'seen; please proceed'}):
                self.held.remove(fid)
        else:
            found = self.read_something()
            if found is not None:
                self.held = found
            if not self.held:
                # (as a person would; asking again at once, hundreds of times a second,
                # took the clients' process from the officers who send the files)
                time.sleep(IDLE)


class Browser(Worker):
    """Reads the HTML pages through a signed-in session."""

    def __init__(self, login, *args):
        super().__init__(f'browser.{login}', *args)
        self.client.browser_sign_in(login, DEMO_PASSWORD)

    def page(self, kind, path):
        def get():
            status, _res, data = self.client.raw('GET', path)
            return status, data.decode('utf-8', 'replace')
        return self.timed(kind, get)

    def step(self):
        choice = self.rng.random()
        if choice < 0.35 or not self.known:
            ok, _status, text = self.page('inbox', '/inbox')
            if ok:
                for fid in re.findall(r'href="[^"]*/files/([0-9a-f]+)"', text):
                    self.remember(fid)
        elif choice < 0.7:
            self.page('file', f'/files/{self.rng.choice(self.known)}')
        elif choice < 0.9:
            self.page('search', f'/search?q={self.rng.choice(WORDS)}')
        else:
            self.get_bytes('pdf', f'/files/{self.rng.choice(self.known)}/pdf', b'%PDF-')


class Reader(Worker):
    """An officer or a Secretary who only reads, through the API: the inbox, files,
    search and PDFs (the read-scaling run, ``--reads-only``)."""

    def __init__(self, login, post, *args):
        super().__init__(login, *args)
        self.client.sign_in(login, DEMO_PASSWORD)
        self.post = post
        # files to open even when the post holds none now: those its searches find
        # (else it would only ever read its inbox, and the mix of reads would follow
        # which posts happen to hold files)
        for word in WORDS:
            status, body = self.client.call('GET', f'/api/v1/search?q={word}')
            for hit in (body or {}).get('items', []) if status == 200 else ():
                if hit['kind'] != 'summary':
                    self.remember(hit['id'])

    def step(self):
        self.read_something()


class ReadingBrowser(Browser):
    """A browser client of the read-scaling run: like :class:`Browser`, with files to
    open from the start (those its search pages link to), as :class:`Reader` has."""

    def __init__(self, login, *args):
        super().__init__(login, *args)
        for word in WORDS:
            status, _res, page = self.client.raw('GET', f'/search?q={word}')
            if status == 200:
                for fid in re.findall(r'href="[^"]*/files/([0-9a-f]+)"', page.decode()):
                    self.remember(fid)


def make_workers(port, ledger, clients, seconds, seed, reads_only=False):
    """The clients, signed in; with ``reads_only``, officers and Secretaries who only
    read (:class:`Reader`) beside browsers (:class:`ReadingBrowser`), more of each
    kind in turn."""
    deadline = time.monotonic() + 3600  # (set properly once all have signed in)
    rng = random.Random(seed)
    plan = ([('officer', o) for o in OFFICERS] + [('secretary', s) for s in SECRETARIES]
            + [('browser', b) for b in BROWSERS])
    kinds = len(plan)
    while reads_only and len(plan) < clients:
        plan.append(plan[len(plan) % kinds])
    while len(plan) < clients:  # more clients: more officers and Secretaries reading
        plan.append(('browser', rng.choice(BROWSERS)))
    workers = []
    for kind, spec in plan[:max(clients, 8)]:
        if reads_only and kind != 'browser':
            login, post = (spec[0], spec[2]) if kind == 'officer' else spec
            workers.append(Reader(login, post, port, ledger, deadline, rng.random()))
        elif reads_only:
            workers.append(ReadingBrowser(spec, port, ledger, deadline, rng.random()))
        elif kind == 'officer':
            workers.append(Officer(*spec, port, ledger, deadline, rng.random()))
        elif kind == 'secretary':
            workers.append(Secretary(*spec, port, ledger, deadline, rng.random()))
        else:
            workers.append(Browser(spec, port, ledger, deadline, rng.random()))
    start = time.monotonic()
    for w in workers:
        w.deadline = start + seconds
    return workers, start


def drive(port, clients, seconds, seed, reads_only=False):
    """Run the clients (``reads_only``: readers only) until ``seconds`` have passed.
    :returns: ``(ledger, elapsed)``."""
    ledger = Ledger()
    workers, start = make_workers(port, ledger, clients, seconds, seed, reads_only)
    for w in workers:
        w.start()
    for w in workers:
        w.join(seconds + 900)
        if w.is_alive():
            ledger.errors.append((w.name, None, 'client hung', ''))
    ledger.resent = sum(w.client.resent for w in workers)
    return ledger, time.monotonic() - start


def check_database(config, ledger):
    """Compare the stopped server's FileStorage with the ledger.  :returns: problems."""
    problems = []
    with read_only_site(config) as site:
        for subject in ledger.refused_subjects:
            if any(getattr(i, 'subject', None) == subject for i in site.desk.items.values()):
                problems.append(f'file refused with 503 was opened: {subject}')
        seen = collections.Counter()
        for item in site.desk.items.values():
            if item.kind == 'file' and item.subject.startswith(PREFIX):
                seen[item.subject] += 1
        for subject, count in seen.items():
            if subject not in ledger.subjects:
                problems.append(f'a file nobody was told of: {subject}')
            elif count != 1:
                problems.append(f'file there {count} times: {subject}')
        for subject, fid in ledger.subjects.items():
            item = site.desk.items.get(fid)
            if item is None or item.subject != subject:
                problems.append(f'acknowledged file missing: {fid} {subject}')
                continue
            notes = sorted(n.text for n in item.notes.values() if n.text.startswith(PREFIX))
            if notes != sorted(ledger.notes.get(fid, [])):
                missing = set(ledger.notes.get(fid, [])) - set(notes)
                problems.append(f'{fid}: notes differ (missing {sorted(missing)[:3]}, '
                                f'{len(notes)} there, {len(ledger.notes.get(fid, []))} '
                                'acknowledged)')
            numbers = [n.n for n in item.notes.values()]
            if numbers != list(range(1, len(numbers) + 1)):
                problems.append(f'{fid}: notes numbered {numbers}')
            titles = sorted(a.title for a in item.attachments.values())
            if titles != sorted(ledger.attachments.get(fid, [])):
                problems.append(f'{fid}: attachments {titles} != '
                                f'{sorted(ledger.attachments.get(fid, []))}')
            for att in item.attachments.values():
                with att.open() as f:
                    if f.read() != small_pdf(att.title):
                        problems.append(f'{fid}: the blob of {att.title} differs')
            if len(item.movements) != ledger.moves.get(fid, 0):
                problems.append(f'{fid}: {len(item.movements)} moves, '
                                f'{ledger.moves.get(fid, 0)} acknowledged')
            refused = set(ledger.refused.get(fid, ()))
            if refused & (set(notes) | set(titles)):
                problems.append(f'{fid}: refused with 503 but saved: {refused & set(notes)}')
    return problems


def server_log_figures(text):
    return {'unhandled errors': text.count('unhandled error'),
            'tracebacks': text.count('Traceback'),
            'conflicts retried': text.count('after a conflict'),
            'refused after retries': text.count('every attempt conflicted')}


def run(directory, clients=10, seconds=180, seed=None, workers=None):
    """The whole benchmark in ``directory`` (on one ``pserve`` process, or with
    ``workers``, on that many app processes sharing the database through ZEO: ``kpw
    serve``).  :returns: a dict of results."""
    seed = random.randrange(10 ** 6) if seed is None else seed
    phases = {}
    mark = time.monotonic()

    def phase(name):
        nonlocal mark
        phases[name] = round(time.monotonic() - mark, 1)
        mark = time.monotonic()
    config, _var = init_workspace(directory)
    server = Server(config, os.path.join(directory, 'server.log'), workers=workers)
    phase('init')
    try:
        server.start()
        phase('start')
        ledger, elapsed = drive(server.port, clients, seconds, seed)
        phase('load')
        server.wait_indexed(timeout=900)
        phase('indexer caught up')
        server.stop()
        phase('stop')
    finally:
        server.kill()
    problems = check_database(config, ledger)
    phase('database check')
    check = kpw(config, 'reindex', '--check')
    phase('reindex --check')
    return {'seed': seed, 'clients': max(clients, 8), 'workers': workers or 1,
            'elapsed': elapsed, 'ledger': ledger,
            'problems': problems, 'reindex_check': (check.returncode, check.stdout[-2000:]),
            'log': server_log_figures(server.log_text()), 'phases': phases}


def report(result):
    """The figures, as lines of text."""
    ledger, elapsed = result['ledger'], result['elapsed']
    processes = (f'{result["workers"]} processes over ZEO' if result['workers'] > 1
                 else 'one process')
    lines = [f'{result["clients"]} clients for {elapsed:.0f} s on {processes} '
             f'(seed {result["seed"]})']
    total = collections.Counter()
    every = []
    lines.append(f'  {"kind":8} {"req/s":>7} {"n":>6} {"median ms":>10} {"p95 ms":>8} '
                 f'{"max ms":>8}  statuses')
    for kind in KINDS:
        lat = ledger.latency.get(kind, [])
        statuses = ledger.statuses.get(kind, collections.Counter())
        total.update(statuses)
        every += lat
        if not lat:
            lines.append(f'  {kind:8} {0:7.1f} {0:6}')
            continue
        lines.append(f'  {kind:8} {len(lat) / elapsed:7.1f} {len(lat):6} '
                     f'{statistics.median(lat):10.1f} {percentile(lat, 0.95):8.1f} '
                     f'{max(lat):8.1f}  {dict(sorted(statuses.items()))}')
    if every:
        lines.append(f'  {"all":8} {len(every) / elapsed:7.1f} {len(every):6} '
                     f'{statistics.median(every):10.1f} {percentile(every, 0.95):8.1f} '
                     f'{max(every):8.1f}  {dict(sorted(total.items()))}')
    acked_notes = sum(len(v) for v in ledger.notes.values())
    lines.append(f'  acknowledged: {len(ledger.files)} files, {acked_notes} notes, '
                 f'{sum(len(v) for v in ledger.attachments.values())} attachments, '
                 f'{sum(ledger.moves.values())} moves')
    lines.append(f'  503 (nothing saved): {ledger.unavailable}; server log: {result["log"]}')
    lines.append(f'  errors seen by clients: {len(ledger.errors)} {ledger.errors[:5]}; '
                 f'sent again on a new connection (an idle one closed): '
                 f'{ledger.resent}')
    lines.append(f'  database check: {len(result["problems"])} problems '
                 f'{result["problems"][:5]}')
    code, out = result['reindex_check']
    lines.append(f'  kpw reindex --check: exit {code}: {out.strip().splitlines()[-1:]}')
    lines.append(f'  seconds by phase: {result["phases"]}')
    return lines


READ_KINDS = ('inbox', 'file', 'search', 'pdf')


def group_cpu_seconds(pgid):
    """CPU seconds (user + system) used so far by each process of group ``pgid`` (a
    server's: ``pserve``, or ``kpw serve`` with its ZEO server and gunicorn workers).
    :returns: ``{pid: (command, seconds)}``."""
    ticks, found = os.sysconf('SC_CLK_TCK'), {}
    for name in os.listdir('/proc'):
        try:
            with open(f'/proc/{name}/stat') as f:
                head, fields = f.read().rsplit(')', 1)
            fields = fields.split()
            if int(fields[2]) == pgid:
                found[int(name)] = (head.split('(', 1)[1],
                                    (int(fields[11]) + int(fields[12])) / ticks)
        except (OSError, IndexError, ValueError):
            continue
    return found


def cores_busy(before, after, seconds):
    """``{command: cores}``: the CPU each kind of process used between two
    :func:`group_cpu_seconds`, over ``seconds`` (the workers of one kind summed)."""
    busy = collections.Counter()
    for pid, (command, used) in after.items():
        busy[command] += (used - before.get(pid, (command, 0))[1]) / seconds
    return {command: round(cores, 2) for command, cores in busy.most_common()}


def restore_sigint():
    """Let SIGINT work again when this was started in the background: a shell starts
    background jobs with SIGINT ignored, the servers started from here would inherit
    that, and then :meth:`Server.stop`'s SIGINT could not stop them."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def client_cpu_seconds():
    times = os.times()
    return times.user + times.system


def run_reads(directory, clients=10, seconds=60, seed=None, warmup=10, filling=30):
    """Read throughput on one process, then on two over ZEO (``kpw serve --workers 2``),
    on the same data: a new demo workspace that the mixed load first fills for
    ``filling`` seconds (files, notes, PDF attachments, moves).  Each run warms up for
    ``warmup`` seconds, then ``clients`` readers (:class:`Reader` and browsers) read
    for ``seconds``.  :returns: a dict of results; ``ratio`` is requests a second on
    two processes over those on one."""
    seed = random.randrange(10 ** 6) if seed is None else seed
    config, _var = init_workspace(directory)
    server = Server(config, os.path.join(directory, 'filling.log'))
    try:
        server.start()
        filled, _elapsed = drive(server.port, 10, filling, seed)
        server.wait_indexed(timeout=900)
        server.stop()
    finally:
        server.kill()
    runs = {}
    for workers in (None, 2):
        server = Server(config, os.path.join(directory, f'reads-{workers or 1}.log'),
                        workers=workers)
        try:
            server.start()
            server.wait_indexed(timeout=900)
            drive(server.port, clients, warmup, seed, reads_only=True)  # (caches filled)
            before = group_cpu_seconds(server.process.pid), client_cpu_seconds()
            ledger, elapsed = drive(server.port, clients, seconds, seed, reads_only=True)
            processes = cores_busy(before[0], group_cpu_seconds(server.process.pid), elapsed)
            clients_busy = (client_cpu_seconds() - before[1]) / elapsed
            server.stop()
        finally:
            server.kill()
        runs[workers or 1] = {'ledger': ledger, 'elapsed': elapsed,
                              'log': server_log_figures(server.log_text()),
                              # cores busy on average: the server's processes, these clients
                              'cores': (sum(processes.values()), clients_busy),
                              'processes': processes}
    rates = {n: sum(len(run['ledger'].latency.get(k, ())) for k in READ_KINDS) / run['elapsed']
             for n, run in runs.items()}
    return {'seed': seed, 'clients': max(clients, 8), 'runs': runs, 'rates': rates,
            'ratio': rates[2] / rates[1] if rates[1] else None,
            'filled': {'files': len(filled.files), 'errors': filled.errors[:5]}}


def report_reads(result):
    """The read-scaling figures, as lines of text."""
    lines = [f'{result["clients"]} readers (seed {result["seed"]}), on a demo workspace filled '
             f'with {result["filled"]["files"]} files by the mixed load']
    for n, run in result['runs'].items():
        ledger = run['ledger']
        processes = f'{n} processes over ZEO' if n > 1 else 'one process'
        lines.append(f'  {processes}: {result["rates"][n]:.1f} reads/s over '
                     f'{run["elapsed"]:.0f} s; cores busy: the server {run["cores"][0]:.2f} '
                     f'{run["processes"]}, the clients {run["cores"][1]:.2f} (of '
                     f'{os.cpu_count()}; load average {os.getloadavg()[0]:.1f}); '
                     f'{result["rates"][n] / max(run["cores"][0], 0.01):.0f} reads per '
                     'CPU-second of the server')
        lines.append(f'    {"kind":8} {"req/s":>7} {"n":>6} {"median ms":>10} {"p95 ms":>8}  '
                     'statuses')
        for kind in READ_KINDS:
            lat = ledger.latency.get(kind, [])
            if lat:
                lines.append(f'    {kind:8} {len(lat) / run["elapsed"]:7.1f} {len(lat):6} '
                             f'{statistics.median(lat):10.1f} {percentile(lat, 0.95):8.1f}  '
                             f'{dict(sorted(ledger.statuses[kind].items()))}')
        lines.append(f'    errors seen by clients: {len(ledger.errors)} {ledger.errors[:3]}; '
                     f'server log: {run["log"]}')
    ratio = result['ratio']
    lines.append(f'  two processes / one: {ratio:.2f}x' if ratio else '  ratio: no reads')
    def rate(n, kind):
        run = result['runs'][n]
        return len(run['ledger'].latency.get(kind, ())) / run['elapsed']
    lines.append('  by kind: ' + ', '.join(f'{kind} {rate(2, kind) / rate(1, kind):.2f}x'
                                           for kind in READ_KINDS if rate(1, kind)))
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--seconds', type=float, default=180)
    parser.add_argument('--clients', type=int, default=10, help='at least 8')
    parser.add_argument('--seed', type=int)
    parser.add_argument('--keep', help='work in this directory (kept) instead of a temporary one')
    parser.add_argument('--workers', type=int,
                        help='serve with this many app processes through ZEO (kpw serve)')
    parser.add_argument('--reads-only', action='store_true',
                        help='read throughput (inbox, file, search, PDF) on one process, then '
                             'on two over ZEO, and their ratio (each run --seconds long)')
    args = parser.parse_args()
    if args.reads_only:
        restore_sigint()
        with (contextlib.nullcontext(args.keep) if args.keep
              else tempfile.TemporaryDirectory(prefix='kpw-reads-')) as directory:
            os.makedirs(directory, exist_ok=True)
            result = run_reads(directory, args.clients, args.seconds, args.seed)
        print('\n'.join(report_reads(result)))
        return 1 if any(run['ledger'].errors for run in result['runs'].values()) else 0
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        result = run(args.keep, args.clients, args.seconds, args.seed, args.workers)
    else:
        with tempfile.TemporaryDirectory(prefix='kpw-load-') as tmp:
            result = run(tmp, args.clients, args.seconds, args.seed, args.workers)
    print('\n'.join(report(result)))
    bad = result['ledger'].errors or result['problems'] or result['reindex_check'][0]
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
