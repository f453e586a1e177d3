"""``kpw backup`` / ``kpw restore`` on real FileStorage data directories, one of
them backed up while a real server process keeps writing."""
import contextlib
import hashlib
import io
import json
import os
import threading
import time
import urllib.request
import uuid

import transaction

from kp_workspace import backup as backups
from kp_workspace import main
from kp_workspace.audit import ROOT_KEY as AUDIT_KEY
from kp_workspace.scripts import kpw
from kp_workspace.site import ROOT_KEY
from tests.conftest import SECRET, Browser, close_app, write_ini
from tests.scripts.test_kpw import FakeStdin
from tests.search.test_indexer import call, login, serve


def run(ini, *argv):
    out, err = io.StringIO(), io.StringIO()
    saved = kpw.sys.stdin
    kpw.sys.stdin = FakeStdin('')
    try:
        with contextlib.redirect_stderr(err):  # (argparse writes its usage errors there)
            status = kpw.main(['-c', str(ini), *argv], out=out, err=err)
    except SystemExit as e:
        status = e.code
    finally:
        kpw.sys.stdin = saved
    return status, out.getvalue(), err.getvalue()


def own_secret_ini(directory, var_dir):
    """An .ini that sets no secret: the workspace keeps it in var/secret.key."""
    directory.mkdir(parents=True, exist_ok=True)
    path = write_ini(directory, var_dir)
    with open(path) as f:
        lines = [line for line in f.read().split('\n')
                 if not line.startswith('kp_workspace.secret')]
    with open(path, 'w') as f:
        f.write('\n'.join(lines))
    return path


def open_app(var_dir, secret=None):
    settings = {'kp_workspace.var_dir': str(var_dir), 'kp_workspace.indexer': 'off'}
    if secret:
        settings['kp_workspace.secret'] = secret
    return main({'here': str(var_dir)}, **settings)


def png(seed):
    return b'\x89PNG\r\n\x1a\n' + hashlib.sha256(seed.encode()).digest() * 64


def add_file(browser, token, subject, note, attachment):
    f = browser.api('post_json', '/api/v1/departments/finance/files', token,
                    params={'subject': subject}, status=201).json
    browser.api('post_json', f'/api/v1/files/{f["id"]}/notes', token, params={'text': note},
                status=201)
    browser.api('post', f'/api/v1/files/{f["id"]}/attachments', token, status=201,
                params={'title': subject}, upload_files=[('file', 'scan.png', png(attachment))])
    return f


def snapshot(var_dir, secret=None):
    """Everything a restore must bring back, read straight from the databases."""
    app = open_app(var_dir, secret)
    try:
        dbs = app.registry._zodb_databases
        tm = transaction.TransactionManager()
        conn = dbs[''].open(transaction_manager=tm)
        try:
            site = conn.root()[ROOT_KEY]
            items, notes = {}, set()
            for item_id, item in site.desk.items.items():
                notes.update((f'{item.kind}:{item_id}', str(n.n)) for n in item.notes.values())
                atts = {}
                for att_id, att in getattr(item, 'attachments', {}).items():
                    with att.open() as f:
                        atts[att_id] = f.read()
                items[item_id] = (item.subject, [n.text for n in item.notes.values()], atts)
            log = conn.get_connection('audit').root()[AUDIT_KEY]
            entries, _ = log.page(limit=10 ** 6)
            audit = [(e.at, e.actor, e.action, e.target, e.client, e.details) for e in entries]
            signing = (site.signing.ca_cert_pem, site.signing._ca_key_pem)
            tm.abort()
        finally:
            conn.close()
        return {'items': items, 'notes': notes, 'audit': audit, 'signing': signing}
    finally:
        close_app(app)


def blob_tree(var_dir):
    root = os.path.join(var_dir, 'blobs')
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (folder == root and d == 'tmp')]
        for name in files:
            if name.endswith('.blob'):
                with open(os.path.join(folder, name), 'rb') as f:
                    found[os.path.relpath(os.path.join(folder, name), root)] = f.read()
    return found


def manifests(dest):
    return [m for m in backups.runs(dest)]


def test_full_then_incremental_backup_restores_everything(tmp_path):
    var = tmp_path / 'var'
    ini = own_secret_ini(tmp_path / 'site', var)
    assert run(ini, 'init', '--demo-if-empty')[0] == 0
    dest = tmp_path / 'backup'
    app = open_app(var)  # (open, as a server would hold it, through both backups)
    try:
        browser = Browser(app)
        token = browser.token('so.finance')
        first = add_file(browser, token, 'Pension arrears of 2024', 'Arrears verified.', 'one')
        status, out, err = run(ini, 'backup', str(dest))
        assert (status, err) == (0, '') and 'main database: full' in out
        second = add_file(browser, token, 'Treasury vault audit',
                          'The quokka ledger balances.', 'two')
        status, out, err = run(ini, 'backup', str(dest))
        assert (status, err) == (0, '') and 'main database: incremental' in out
    finally:
        close_app(app)

    one, two = manifests(dest)
    assert [one['databases'][n]['kind'] for n in ('main', 'audit')] == ['full', 'full']
    assert [two['databases'][n]['kind'] for n in ('main', 'audit')] == \
        ['incremental', 'incremental']
    # only the new transactions and the new blob files were copied the second time
    assert 0 < two['databases']['main']['size'] < one['databases']['main']['size']
    source_blobs = blob_tree(var)
    assert one['blobs']['copied'] and set(one['blobs']['copied']) | set(two['blobs']['copied']) \
        == set(source_blobs)
    assert not set(one['blobs']['copied']) & set(two['blobs']['copied'])
    assert len(two['blobs']['copied']) == 1 and two['blobs']['total'] == len(source_blobs)
    assert [os.path.splitext(f)[1] for f in sorted(os.listdir(dest / 'main'))
            if f.endswith('fs')] == ['.fs', '.deltafs']
    for rel, digest in {**one['checksums'], **two['checksums']}.items():
        with open(dest / rel, 'rb') as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest
    assert one['generation'] == two['generation'] > 0
    assert two['keys']['secret.key'].startswith('keys/secret-')
    assert oct(os.stat(dest / two['keys']['secret.key']).st_mode & 0o777) == '0o600'
    before = snapshot(var)

    # restore into a new, empty data directory
    restored = tmp_path / 'restored'
    ini2 = own_secret_ini(tmp_path / 'site2', restored)
    status, out, err = run(ini2, 'restore', str(dest))
    assert status == 0 and 'kpw:' not in err, err
    assert 'Reindexed' in out and 'RESTORED.txt' in out
    assert (restored / 'secret.key').read_bytes() == (var / 'secret.key').read_bytes()
    assert blob_tree(restored) == source_blobs  # byte for byte
    after = snapshot(restored)
    assert after['items'] == before['items']
    assert after['items'][second['id']][1] == ['The quokka ledger balances.']
    assert after['items'][first['id']][2] and after['items'][second['id']][2]
    assert after['signing'] == before['signing']  # the CA key, opened with the restored secret
    # the audit log as backed up, plus one entry for the restore itself
    assert after['audit'][1:] == before['audit']
    assert after['audit'][0][1:4] == ('console', 'workspace.restored', 'workspace')
    status, out, err = run(ini2, 'audit', 'verify')
    assert status == 0, out + err  # the restored chain is intact, the restore's entry on it
    note = (restored / 'RESTORED.txt').read_text()
    assert two['name'] in note and 'search index: rebuilt' in note
    assert run(ini2, 'reindex', '--check')[:2] == (0, 'The index matches the database.\n')
    app = open_app(restored)
    try:
        browser = Browser(app)
        found = browser.api('get', '/api/v1/search', browser.token('so.finance'),
                            params={'q': 'quokka'}).json
        assert [i['id'] for i in found['items']] == [second['id']]
        att_id = before['items'][second['id']][2]
        (att_id, data), = att_id.items()
        got = browser.api('get', f'/api/v1/files/{second["id"]}/attachments/{att_id}',
                          browser.token('so.finance'))
        assert got.body == data == png('two')
    finally:
        close_app(app)

    # --at: the first run, without the second file
    earlier = tmp_path / 'earlier'
    ini3 = own_secret_ini(tmp_path / 'site3', earlier)
    status, out, err = run(ini3, 'restore', str(dest), '--at', one['started'])
    assert status == 0 and 'kpw:' not in err and one['name'] in out
    state = snapshot(earlier)
    assert first['id'] in state['items'] and second['id'] not in state['items']
    assert len(blob_tree(earlier)) == one['blobs']['total']
    status, out, _ = run(ini3, 'restore', str(dest), '--list')
    assert status == 0 and one['name'] in out and two['name'] in out


def test_refusals_say_why_and_change_nothing(tmp_path, var_dir):
    ini = write_ini(tmp_path, var_dir)  # (the secret is set in the .ini)
    dest = tmp_path / 'backup'
    assert run(ini, 'backup', str(dest))[0] == 0
    assert json.loads(next((dest / 'runs').iterdir()).read_text())['keys']['secret'] \
        .startswith('set in the configuration')
    refusals = 0

    def refused(config, *argv, says, status=1):
        nonlocal refusals
        got, out, err = run(config, *argv)
        assert got == status and says in err, (argv, got, err)
        refusals += 1

    # restore into a non-empty data directory: the existing one, or one with one file
    refused(ini, 'restore', str(dest), says='is not empty')
    busy = tmp_path / 'busy'
    busy.mkdir()
    (busy / 'keep.txt').write_text('mine')
    refused(_ini(tmp_path, 'b', busy), 'restore', str(dest), says='is not empty')
    assert os.listdir(busy) == ['keep.txt']
    empty = tmp_path / 'empty'
    ini_empty = _ini(tmp_path, 'e', empty)
    # from something that is not a backup; at a time before the first run; a bad time
    refused(ini_empty, 'restore', str(tmp_path), says='is not a kpw backup')
    refused(ini_empty, 'restore', str(dest), '--at', '2001-01-01', says='No backup run')
    refused(ini_empty, 'restore', str(dest), '--at', 'yesterday', says='is not a time',
            status=2)
    # a configuration whose secret is not the backed-up workspace's
    other = _ini(tmp_path, 'o', empty, secret='another-secret-' + 'y' * 40)
    refused(other, 'restore', str(dest), says='is not the secret of the backed-up workspace')
    # ...or that sets none, while the backup has no secret.key
    refused(own_secret_ini(tmp_path / 'n', empty), 'restore', str(dest),
            says='set the same value in this configuration')
    assert backups._empty(empty)
    # backups into the data directory, or into a directory that is not a backup
    refused(ini, 'backup', str(var_dir / 'backups'), says='inside the data directory')
    os.symlink(var_dir, tmp_path / 'link')
    refused(ini, 'backup', str(tmp_path / 'link' / 'b'), says='inside the data directory')
    refused(ini, 'backup', str(busy), says='is not empty and is not a kpw backup')
    (tmp_path / 'afile').write_text('x')
    refused(ini, 'backup', str(tmp_path / 'afile'), says='is not a directory')
    # a backup of another workspace (another secret) into the same directory
    refused(_ini(tmp_path, 'w', var_dir, secret='a-third-secret-' + 'z' * 40), 'backup',
            str(dest), says='holds backups of a workspace with another secret')
    # a database that is not a FileStorage
    zeo = _ini(tmp_path, 'z', empty, **{'zodbconn.uri': 'zeo://127.0.0.1:1'})
    refused(zeo, 'backup', str(tmp_path / 'zb'), says='is not a FileStorage')
    # a damaged backup: the restore stops and leaves the directory empty again
    first = json.loads(next((dest / 'runs').iterdir()).read_text())
    (dest / 'main' / f'{first["databases"]["main"]["repozo_date"]}.fs').write_bytes(b'FS21')
    refused(ini_empty, 'restore', str(dest), says='cannot be recovered')
    assert backups._empty(empty)
    # no database where the configuration says; a backup of another format; no run in it;
    # a manifest that cannot be read
    refused(ini_empty, 'backup', str(tmp_path / 'nb'), says='There is no main database')
    odd = tmp_path / 'odd'
    odd.mkdir()
    (odd / backups.MARKER).write_text('kpw backup, format 99.\n')
    refused(ini, 'backup', str(odd), says='of another format')
    (odd / backups.MARKER).write_text('kpw backup, format 1.\n')
    refused(ini_empty, 'restore', str(odd), says='holds no completed backup run')
    (odd / 'runs').mkdir()
    (odd / 'runs' / 'x.json').write_text('{"broken')
    refused(ini_empty, 'restore', str(odd), says='cannot be read')
    # a second backup while one holds the lock
    lock = backups._lock(str(dest))
    try:
        refused(ini, 'backup', str(dest), says='Another kpw backup')
    finally:
        lock.close()
        # a manifest that does not match the databases it names
    (run_file,) = (dest / 'runs').iterdir()
    manifest = json.loads(run_file.read_text())
    (dest / 'main' / f'{manifest["databases"]["main"]["repozo_date"]}.fs').unlink()
    assert run(ini, 'backup', str(dest))[0] == 0  # (a new full one: the chain was broken)
    (run_file,) = [p for p in (dest / 'runs').iterdir() if p != run_file]
    manifest = json.loads(run_file.read_text())
    last_tid = manifest['databases']['main']['last_tid']
    manifest['databases']['main']['last_tid'] = '00' * 8
    run_file.write_text(json.dumps(manifest))
    refused(ini_empty, 'restore', str(dest), says='the backup says 0000000000000000')
    assert backups._empty(empty)
    # (the right cut again: the demo's blobs, the letters' scans, are all restored)
    manifest['databases']['main']['last_tid'] = last_tid
    manifest['databases']['audit']['audit_entries'] += 1
    run_file.write_text(json.dumps(manifest))
    refused(ini_empty, 'restore', str(dest), says='The restored audit log has')
    assert refusals == 21


def _ini(tmp_path, name, var, secret=SECRET, **settings):
    directory = tmp_path / f'ini-{name}'
    directory.mkdir(exist_ok=True)
    path = write_ini(directory, var, **settings)
    if secret != SECRET:
        with open(path) as f:
            text = f.read().replace(SECRET, secret)
        with open(path, 'w') as f:
            f.write(text)
    return path


def test_a_tampered_blob_is_found_on_restore(tmp_path):
    var = tmp_path / 'var'
    ini = own_secret_ini(tmp_path / 'site', var)
    assert run(ini, 'init', '--demo-if-empty')[0] == 0
    app = open_app(var)
    try:
        browser = Browser(app)
        add_file(browser, browser.token('so.finance'), 'Tampered', 'Note.', 'three')
    finally:
        close_app(app)
    dest = tmp_path / 'backup'
    assert run(ini, 'backup', str(dest))[0] == 0
    rel = sorted(manifests(dest)[0]['blobs']['copied'])[0]   # (the demo letters' too)
    (key,) = (dest / 'keys').iterdir()
    target = tmp_path / 'restored'
    ini2 = own_secret_ini(tmp_path / 'r', target)

    def refused(says):
        status, _out, err = run(ini2, 'restore', str(dest))
        assert status == 1 and says in err, err
        assert backups._empty(target)  # (whatever it wrote is gone again)

    blob, secret = (dest / 'blobs' / rel).read_bytes(), key.read_bytes()
    os.remove(dest / 'blobs' / rel)
    refused('1 blob files are missing from the backup')
    (dest / 'blobs' / rel).write_bytes(png('forged'))
    refused('has been changed since it was copied')
    (dest / 'blobs' / rel).write_bytes(blob)
    key.write_text('f' * 64 + '\n')
    refused("The backup's secret key")
    os.remove(key)
    refused('The backup lacks its secret key')
    key.write_bytes(secret)
    (target / 'blobs' / 'tmp').mkdir(parents=True)  # (empty folders are no obstacle)
    status, _out, err = run(ini2, 'restore', str(dest))
    assert status == 0 and 'kpw:' not in err, err
    assert blob_tree(target) == blob_tree(var)


def upload(url, file_id, token, data):
    """POST an attachment as multipart form data."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.png"\r\n'
            f'Content-Type: image/png\r\n\r\n').encode() + data + f'\r\n--{boundary}--\r\n'.encode()
    request = urllib.request.Request(
        f'{url}/api/v1/files/{file_id}/attachments', data=body,
        headers={'Content-Type': f'multipart/form-data; boundary={boundary}',
                 'Authorization': f'Bearer {token}'})
    with urllib.request.urlopen(request, timeout=60) as res:
        return json.loads(res.read())


def test_a_backup_taken_while_a_server_writes_restores_every_acknowledged_note(
        tmp_path, var_dir):
    process, url = serve(tmp_path, var_dir)
    acknowledged, uploaded, stop, errors = [], [], threading.Event(), []

    def write():
        try:
            token = login(url)
            f = call(url, '/api/v1/departments/finance/files', {'subject': 'Busy file'}, token)
            n = 0
            while not stop.is_set():
                n += 1
                call(url, f'/api/v1/files/{f["id"]}/notes', {'text': f'Busy note {n}'}, token)
                acknowledged.append((f['id'], f'Busy note {n}'))
                if n % 3 == 0:  # blobs committed while the backup copies them
                    att = upload(url, f['id'], token, png(f'busy {n}'))
                    uploaded.append((f['id'], att['id'], png(f'busy {n}')))
                if n % 5 == 0:  # a new file now and then: new objects, new index entries
                    f = call(url, '/api/v1/departments/finance/files',
                             {'subject': f'Busy file {n}'}, token)
        except Exception as e:  # (reported below, not swallowed)
            errors.append(e)
    writer = threading.Thread(target=write)
    writer.start()
    dest = tmp_path / 'backup'
    ini = write_ini(tmp_path, var_dir)
    try:
        while len(acknowledged) < 10 and writer.is_alive():
            writer.join(0.05)
        assert run(ini, 'backup', str(dest))[0] == 0  # a full one while writing
        while len(acknowledged) < 20 and writer.is_alive():
            writer.join(0.05)
        before, attached = list(acknowledged), list(uploaded)
        status, out, err = run(ini, 'backup', str(dest))  # an incremental one while writing
        assert status == 0 and 'kpw:' not in err, err
        while len(acknowledged) < len(before) + 5 and writer.is_alive():
            writer.join(0.05)  # (still writing after the backup ended)
    finally:
        stop.set()
        writer.join(120)
        process.terminate()
        process.wait(60)
    assert not errors and len(acknowledged) >= len(before) + 5
    assert 'main database: incremental' in out
    restored = tmp_path / 'restored'
    ini2 = _ini(tmp_path, 'r', restored)
    status, out, err = run(ini2, 'restore', str(dest))
    assert status == 0 and 'kpw:' not in err, err
    assert run(ini2, 'reindex', '--check')[:2] == (0, 'The index matches the database.\n')
    state = snapshot(restored, SECRET)
    notes = {(item_id, text) for item_id, (_s, texts, _a) in state['items'].items()
             for text in texts}
    assert set(before) <= notes
    for file_id, att_id, data in attached:
        assert state['items'][file_id][2][att_id] == data
    # the audit database was cut after the main one: every note restored has its entry
    written = {(target, dict(details).get('n')) for _at, _who, action, target, _c, details
               in state['audit'] if action == 'note.written'}
    assert state['notes'] <= written
    # every attachment the restored database has opens (its blob file is there)
    assert sum(len(atts) for _s, _t, atts in state['items'].values()) >= len(attached) > 3
    status, out, err = run(ini2, 'audit', 'verify')
    assert status == 0, out + err


def test_a_run_that_stopped_half_way_is_completed_and_a_clock_set_back_is_refused(
        tmp_path, var_dir):
    ini = write_ini(tmp_path, var_dir)
    dest = tmp_path / 'backup'
    assert run(ini, 'backup', str(dest))[0] == 0
    # a run killed after repozo wrote its file and before it listed it: dropped, not recovered
    stray = dest / 'main' / '2000-01-01-00-00-00.deltafs'
    stray.write_bytes(b'half a transaction')
    status, out, err = run(ini, 'backup', str(dest))
    assert status == 0 and not stray.exists(), err
    restored = tmp_path / 'restored'
    ini2 = _ini(tmp_path, 'r', restored)
    status, _out, err = run(ini2, 'restore', str(dest))
    assert status == 0 and 'kpw:' not in err, err
    # a file dated after now (the clock went back): repozo would not see it, so refuse
    dat = sorted((dest / 'main').glob('*.dat'))[-1]
    future = dest / 'main' / '2999-01-01-00-00-00.deltafs'
    future.write_bytes(b'')
    with open(dat, 'a') as f:
        f.write(f'{future} 0 0 d41d8cd98f00b204e9800998ecf8427e\n')
    status, _out, err = run(ini, 'backup', str(dest))
    assert status == 1 and 'has the clock been set back?' in err


def test_small_parts(tmp_path):
    path = tmp_path / 'part.fs'
    path.write_bytes(b'FS21')
    assert backups._last_tid(str(path)) is None  # a storage with no transaction yet
    path.write_bytes(b'x' * 40 + (1000).to_bytes(8, 'big'))
    try:
        backups._last_tid(str(path))
        raise AssertionError('not refused')
    except backups.BackupError as e:
        assert 'does not end with a whole transaction' in str(e)
    path.write_bytes(b'T' * 8 + (5).to_bytes(8, 'big') + b'x' * 15 + (23).to_bytes(8, 'big'))
    try:
        backups._last_tid(str(path))
        raise AssertionError('not refused')
    except backups.BackupError as e:
        assert 'does not end with a whole transaction' in str(e)
    assert backups._facts_at('main', str(path), None) == {}
    assert backups._blob_tid('0xzz.blob') is None and backups._blob_tid('0x0a.blob') == 10
    assert not backups._empty(str(path)) and backups._empty(str(tmp_path / 'none'))
    repository = tmp_path / 'repo'
    repository.mkdir()
    (repository / (time.strftime('%Y-%m-%d-%H-%M-%S', time.gmtime()) + '.fs')).write_bytes(b'')
    backups._wait_for_a_new_second(str(repository))  # (returns in the next second)
    try:
        backups._repozo_backup(str(tmp_path), str(repository), False)  # (not a FileStorage)
        raise AssertionError('not refused')
    except backups.BackupError as e:
        assert 'repozo could not back up' in str(e)


def test_a_main_database_without_blobs(tmp_path):
    var, restored = tmp_path / 'var', tmp_path / 'restored'
    ini = _ini(tmp_path, 'a', var, **{'zodbconn.uri': f'file://{var}/Data.fs'})
    ini2 = _ini(tmp_path, 'b', restored, **{'zodbconn.uri': f'file://{restored}/Data.fs'})
    assert run(ini, 'init', '--demo-if-empty')[0] == 0
    status, out, _ = run(ini, 'backup', str(tmp_path / 'backup'))
    assert status == 0 and 'blob files: 0 copied' in out
    status, out, err = run(ini2, 'restore', str(tmp_path / 'backup'))
    assert status == 0 and 'kpw:' not in err, err
    assert run(ini2, 'reindex', '--check')[0] == 0
