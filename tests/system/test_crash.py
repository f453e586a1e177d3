"""A real server killed with SIGKILL at random moments under concurrent writes.

Four officers (one a department) open files, write notes, attach small PDFs and
forward files to their Secretary over the API, each from a thread of its own,
while the server is killed (SIGKILL to its process group) at a random moment, six
times (and twice more while it starts up).  After each restart: the server
started cleanly, every write that was acknowledged (2xx received) is there,
nothing was written twice (a note, an attachment, a forward or a file whose
request was cut off is there once or not at all), nothing answered 503 is there,
and tokens issued before the kill still work.  After the last round the
search indexer catches up and ``kpw reindex --check`` finds the index equal to
the database.

Each round's figures (writes acknowledged, found, cut off, kills) are printed
(``pytest -s``) and kept as the test's properties.
"""
import http.client
import random
import threading
import time

from ZODB.POSException import POSKeyError

from kp_workspace.populate import DEMO_PASSWORD
from tests.system.server import Client, kpw, read_only_site, small_pdf

OFFICERS = (('so.finance', 'finance', 'secretary-finance'),
            ('so.hed', 'higher-education', 'secretary-hed'),
            ('so.sit', 'science-it', 'secretary-sit'),
            ('so.sports', 'sports', 'secretary-sports'))
ROUNDS = 6
REQUEST_JOIN = 360  # seconds: a client waits at most one request timeout after a kill
CUT = (OSError, http.client.HTTPException)  # the server died under the request


class Ledger:
    """What each officer was told was saved, and what it sent without an answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.files = {}      # file id -> {'owner', 'subject', 'notes', 'attachments', 'forwarded'}
        self.cut = []        # (kind, detail) of requests cut off by a kill
        self.acked = 0
        self.refused = 0     # 503 answers (retries ran out; nothing saved)
        self.errors = []     # answers that are never right (5xx, unexpected 4xx)

    def ack(self):
        with self.lock:
            self.acked += 1


def refused(body, ledger):
    """A 503 after the server's retries ran out: it must say that nothing was saved."""
    with ledger.lock:
        ledger.refused += 1
    return 'nothing was saved' in (body or {}).get('error', '')


def officer_loop(w, client, ledger, stop, rng, round_no):
    login, dept, secretary = OFFICERS[w]
    k = 0
    while not stop.is_set():
        k += 1
        subject = f'Crash {w}.{round_no}.{k}: repair of the office'
        try:
            status, body = client.call('POST', f'/api/v1/departments/{dept}/files',
                                       {'subject': subject})
        except CUT:
            ledger.cut.append(('file', subject))
            return
        if status == 503 and refused(body, ledger):
            continue
        if status != 201:
            ledger.errors.append(('file', status, body))
            return
        record = {'owner': w, 'subject': subject, 'notes': [], 'attachments': [],
                  'forwarded': False, 'refused': []}
        with ledger.lock:
            ledger.files[body['id']] = record
        ledger.ack()
        fid = body['id']
        for j in range(rng.randint(2, 8)):
            if stop.is_set():
                return
            if rng.random() < 0.25:
                title = f'crash-{w}-{round_no}-{k}-{j}'
                try:
                    status, body = client.upload(f'/api/v1/files/{fid}/attachments',
                                                 f'{title}.pdf', small_pdf(title), title=title)
                except CUT:
                    ledger.cut.append(('attachment', title))
                    return
                if status == 201:
                    record['attachments'].append(title)
                    ledger.ack()
                elif status == 503 and refused(body, ledger):
                    record['refused'].append(title)
                else:
                    ledger.errors.append(('attachment', status, body))
            else:
                text = f'Crash note {w}.{round_no}.{k}.{j}: estimate received and checked.'
                try:
                    status, body = client.call('POST', f'/api/v1/files/{fid}/notes',
                                               {'text': text})
                except CUT:
                    ledger.cut.append(('note', text))
                    return
                if status == 201:
                    record['notes'].append(text)
                    ledger.ack()
                elif status == 503 and refused(body, ledger):
                    record['refused'].append(text)
                else:
                    ledger.errors.append(('note', status, body))
        try:
            status, body = client.call('POST', f'/api/v1/files/{fid}/actions/forward',
                                       {'to_post': secretary, 'remarks': 'for approval'})
        except CUT:
            ledger.cut.append(('forward', fid))
            return
        if status == 200:
            record['forwarded'] = True
            ledger.ack()
        elif not (status == 503 and refused(body, ledger)):
            ledger.errors.append(('forward', status, body))


def check_file(fid, record, data, problems):
    """Compare what the API (or the database) shows of one file with the ledger."""
    texts = [n['text'] for n in data['notes']]
    numbers = [n['n'] for n in data['notes']]
    titles = [a['title'] for a in data['attachments']]
    forwards = [m for m in data['movements'] if m['action'] == 'forward']
    for text in record['notes']:
        if text not in texts:
            problems.append(f'{fid}: acknowledged note missing: {text}')
    for title in record['attachments']:
        if title not in titles:
            problems.append(f'{fid}: acknowledged attachment missing: {title}')
    if record['forwarded'] and len(forwards) != 1:
        problems.append(f'{fid}: acknowledged forward: {len(forwards)} movements')
    if len(set(texts)) != len(texts) or len(set(titles)) != len(titles):
        problems.append(f'{fid}: a note or attachment is there twice')
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f'{fid}: notes numbered {numbers}')
    for refused_write in record['refused']:
        if refused_write in texts or refused_write in titles:
            problems.append(f'{fid}: refused with 503 but saved: {refused_write}')
    if len(forwards) > 1:
        problems.append(f'{fid}: forwarded {len(forwards)} times')
    return len(record['notes']) + len(record['attachments']) + bool(record['forwarded']) + 1


def check_over_api(clients, ledger):
    """:returns: ``(writes found, problems)``."""
    problems, found = [], 0
    for fid, record in list(ledger.files.items()):
        status, data = clients[record['owner']].call('GET', f'/api/v1/files/{fid}')
        if status != 200:
            problems.append(f'{fid}: acknowledged file answers {status} {data}')
            continue
        if data['subject'] != record['subject']:
            problems.append(f'{fid}: subject {data["subject"]!r}')
        before = len(problems)
        counted = check_file(fid, record, data, problems)
        if len(problems) == before:
            found += counted
    return found, problems


def check_database(config, ledger):
    """The same checks on the FileStorage itself, plus: no file opened twice, and
    every attachment's blob is the PDF that was sent.  :returns: problems."""
    problems = []
    with read_only_site(config) as site:
        subjects = {}
        for item in site.desk.items.values():
            if getattr(item, 'subject', '').startswith('Crash '):
                subjects.setdefault(item.subject, []).append(item.id)
                dept = site['departments'][item.department]
                if dept.get(item.id) is not item:
                    problems.append(f'{item.id}: not in its department')
        for subject, ids in subjects.items():
            if len(ids) > 1:
                problems.append(f'file opened {len(ids)} times: {subject}')
        for fid, record in ledger.files.items():
            item = site.desk.items.get(fid)
            if item is None:
                problems.append(f'{fid}: acknowledged file not in the database')
                continue
            data = {'notes': [{'text': n.text, 'n': n.n} for n in item.notes.values()],
                    'attachments': [{'title': a.title} for a in item.attachments.values()],
                    'movements': [{'action': m.action} for m in item.movements]}
            check_file(fid, record, data, problems)
            for att in item.attachments.values():
                try:
                    with att.open() as f:
                        if f.read() != small_pdf(att.title):
                            problems.append(f'{fid}: the blob of {att.title} differs')
                except POSKeyError as e:  # (its record is committed, its file is not there)
                    problems.append(f'{fid}: the blob of {att.title} (acknowledged: '
                                    f'{att.title in record["attachments"]}) is missing: {e}')
    return problems


def test_acknowledged_writes_survive_sigkill_and_the_index_agrees(workspace, servers,
                                                                  record_property):
    config, _var = workspace
    seed = random.randrange(10 ** 6)
    rng = random.Random(seed)
    server = servers(config).start()
    clients = []
    for login, _dept, _sec in OFFICERS:
        client = Client(server.port)
        client.sign_in(login, DEMO_PASSWORD)
        clients.append(client)
    ledger = Ledger()
    rounds = []
    for round_no in range(1, ROUNDS + 1):
        stop = threading.Event()
        acked_before, cut_before = ledger.acked, len(ledger.cut)
        threads = [threading.Thread(target=officer_loop, daemon=True,
                                    args=(w, clients[w], ledger, stop,
                                          random.Random(rng.random()), round_no))
                   for w in range(len(OFFICERS))]
        for t in threads:
            t.start()
        # a random moment once writes are flowing: mid-commit, mid-upload, mid-index
        deadline = time.monotonic() + 300
        while ledger.acked - acked_before < 4 and time.monotonic() < deadline \
                and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        time.sleep(rng.uniform(0.05, 3.0))
        server.kill()
        stop.set()
        for t in threads:
            t.join(REQUEST_JOIN)
        assert not any(t.is_alive() for t in threads), 'a client hung after the kill'
        assert not ledger.errors, f'round {round_no} (seed {seed}): {ledger.errors[:5]}'

        kills = 1
        if round_no % 3 == 0:  # once in a while, kill it again while it starts up
            server.start(wait=False)
            time.sleep(rng.uniform(0, 1.5))
            server.kill()
            kills += 1
        log_before = len(server.log_text())
        for client in clients:
            client.close()
        server.start()  # (asserts /healthz answers 200)
        for client in clients:
            client.port = server.port
        started = server.log_text()[log_before:]
        assert 'Traceback' not in started and 'ERROR' not in started, started[-4000:]

        found, problems = check_over_api(clients, ledger)
        assert not problems, f'round {round_no} (seed {seed}): {problems[:10]}'
        figures = {'round': round_no, 'acknowledged': ledger.acked - acked_before,
                   'acknowledged_total': ledger.acked, 'found_total': found,
                   'cut_off': len(ledger.cut) - cut_before, 'kills': kills,
                   'refused_503_total': ledger.refused}
        rounds.append(figures)
        print(f'crash round {round_no}: {figures["acknowledged"]} writes acknowledged '
              f'({ledger.acked} in all), {found} found, {figures["cut_off"]} cut off, '
              f'{kills} kill(s), {ledger.refused} refused with 503 in all')
    assert sum(r['kills'] for r in rounds) >= 5
    record_property('crash_rounds', rounds)
    record_property('crash_seed', seed)

    server.wait_indexed(timeout=600)
    assert server.stop() is not None
    problems = check_database(config, ledger)
    assert not problems, f'seed {seed}: {problems[:10]}'
    check = kpw(config, 'reindex', '--check')
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    assert 'The index matches the database.' in check.stdout

