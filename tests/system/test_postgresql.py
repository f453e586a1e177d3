"""Several app processes writing at once through RelStorage on a real PostgreSQL.

A workspace made by ``kpw init --demo-if-empty`` on two new PostgreSQL databases
(history-free, blobs in the database) is served by a ``pserve`` process and by
``kpw serve --workers 2`` (gunicorn, two more processes on the same databases),
sharing one data directory (the secret) and the search in PostgreSQL, as
``postgresql.ini`` has it (one process indexes: the holder of the advisory lock).  Officers open files, write
notes, attach PDFs and forward through one of them while the Secretaries note and
send the files back through the other, and browsers read through both; the mixed
load test's clients do it (``benchmarks/load_mixed.py``) and it checks every answer.

Then, with the servers stopped: every acknowledged file, note, attachment (its
blob, byte for byte) and move is in the database exactly once, nothing answered
503 is, no server logged a traceback, and ``kpw reindex --check`` finds the search
index in agreement with the database.
"""
import time

from benchmarks.load_mixed import (BROWSERS, KINDS, OFFICERS, SECRETARIES, Browser, Ledger,
                                   Officer, Secretary, check_database, server_log_figures)
from tests.system.server import init_workspace, kpw

SECONDS = 30       # of load at least...
MORE_SECONDS = 600  # ...and, on a slow machine, longer (up to this), until every kind of
                    # request was made and every officer opened a file


def clients(ports, ledger):
    """The load test's clients, each pointed at one of ``ports``: each department's
    officer at one process and its Secretary at the other, so that every file is
    written by both; one browser at each."""
    deadline = time.monotonic() + 3600  # (set once all have signed in)
    made = []
    for n, (officer, secretary) in enumerate(zip(OFFICERS, SECRETARIES)):
        made.append(Officer(*officer, ports[n % 2], ledger, deadline, n))
        made.append(Secretary(*secretary, ports[(n + 1) % 2], ledger, deadline, 10 + n))
    for n, login in enumerate(BROWSERS):
        made.append(Browser(login, ports[n % 2], ledger, deadline, 20 + n))
    start = time.monotonic()
    for client in made:
        client.deadline = start + SECONDS
        # (a new connection: gunicorn closes one left idle for 2 s while the others signed in)
        client.client.close()
    return made


def everything_done(ledger):
    with ledger.lock:
        opened_by = {subject.split()[1] for subject in ledger.subjects}
        return (all(ledger.statuses[kind] for kind in KINDS)
                and opened_by == {officer[0] for officer in OFFICERS})


def drive_until_done(made, ledger):
    """Let the clients run for :data:`SECONDS`, longer if not everything was done yet
    (up to :data:`MORE_SECONDS`), then until they stop."""
    limit = made[0].deadline + MORE_SECONDS
    while True:  # (a few seconds before the clients would stop: they see a new deadline)
        time.sleep(max(0, made[0].deadline - 3 - time.monotonic()))
        if everything_done(ledger) or made[0].deadline > limit:
            break
        for client in made:
            client.deadline += 5
    for client in made:
        client.join(900)
        assert not client.is_alive(), client.name


def test_processes_sharing_postgresql_lose_nothing(tmp_path, postgres, servers,
                                                   record_property):
    phases, mark = {}, time.monotonic()

    def phase(name):
        nonlocal mark
        phases[name] = round(time.monotonic() - mark, 1)
        mark = time.monotonic()
    postgres.create_database('kpw_main')
    postgres.create_database('kpw_audit')
    config, _var = init_workspace(str(tmp_path), **{
        'zodbconn.uri': postgres.uri('kpw_main') + '?keep_history=false',
        'zodbconn.uri.audit': postgres.uri('kpw_audit') + '?keep_history=false',
        'kp_workspace.search': 'postgresql', 'kp_workspace.search_dsn': postgres.dsn('kpw_main')})
    # pserve, and kpw serve: gunicorn alone (PostgreSQL is the database server)
    phase('init')
    one, two = servers(config), servers(config, workers=2)
    one.start()
    two.start()
    phase('start')
    assert 'sharing the database through PostgreSQL' in two.log_text()
    ledger = Ledger()
    made = clients([one.port, two.port], ledger)
    for client in made:
        client.start()
    drive_until_done(made, ledger)
    phase('load')
    one.wait_indexed()
    phase('indexed')
    for server in (one, two):
        server.stop()
    phase('stop')
    print(f'seconds by phase: {phases}; {len(ledger.files)} files, '
          f'{sum(map(len, ledger.notes.values()))} notes, '
          f'{sum(map(len, ledger.attachments.values()))} attachments, '
          f'{sum(ledger.moves.values())} moves acknowledged; {ledger.unavailable} answered 503; '
          f'requests: { {k: sum(v.values()) for k, v in ledger.statuses.items()} }; '
          f'slowest ms: { {k: round(max(v)) for k, v in ledger.latency.items()} }; '
          f'statuses: { {k: dict(v) for k, v in ledger.statuses.items()} }')
    record_property('phases', phases)
    logs = {server.log_path: server_log_figures(server.log_text()) for server in (one, two)}
    assert not ledger.errors, ledger.errors[:10]
    for path, figures in logs.items():
        assert figures['tracebacks'] == 0 and figures['unhandled errors'] == 0, (path, figures)
    for kind in KINDS:
        assert ledger.statuses[kind], (kind, dict(ledger.statuses))
    # Every officer opened files: two through each server.
    opened_by = {subject.split()[1] for subject in ledger.subjects}
    assert opened_by == {officer[0] for officer in OFFICERS}, opened_by
    assert sum(ledger.moves.values()) and sum(map(len, ledger.notes.values()))
    assert check_database(config, ledger) == []
    done = kpw(config, 'reindex', '--check')
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
