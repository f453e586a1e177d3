"""kpw on databases that a server keeps (a ZEO server, RelStorage on PostgreSQL): the
checks read them beside a running app; backup and restore, which copy a data
directory's FileStorages, refuse them and say how such a deployment is backed up.
(The functional tests marked ``storages`` run kpw's other commands on them too.)"""
import configparser
import os
import shutil
import urllib.parse

import pytest
from pyramid.paster import get_app

from kp_workspace.audit import SHARDS
from tests.conftest import CLIENT, REPO, Browser, close_app, write_ini
from tests.scripts.test_kpw import run
from tests.views.test_api_attachments import pdf_bytes

SERVERS = ['zeo', 'postgresql']
BACKED_UP_WITH = {'zeo': "the ZEO server's FileStorages", 'postgresql': 'pg_dump'}


@pytest.mark.parametrize('storage', SERVERS, indirect=True)
def test_backup_and_restore_refuse_a_database_server_and_say_how(tmp_path, var_dir, storage):
    ini = write_ini(tmp_path, var_dir)
    before = sorted(os.listdir(var_dir))
    for argv in (['backup', str(tmp_path / 'backup')], ['restore', str(tmp_path / 'backup')],
                 ['restore', str(tmp_path / 'backup'), '--list']):
        status, out, err = run(ini, *argv)
        assert (status, out) == (1, ''), argv
        assert 'zodbconn.uri is not a FileStorage' in err and BACKED_UP_WITH[storage] in err
        assert 'secret.key' in err  # (the secret is not in the databases: it must be kept too)
    assert not (tmp_path / 'backup').exists()
    assert sorted(os.listdir(var_dir)) == before


@pytest.mark.parametrize('storage', SERVERS, indirect=True)
def test_audit_verify_reads_a_database_server_beside_the_app(tmp_path, var_dir, app, log_size):
    app.login('secretary.finance')  # (the app keeps its databases open and writes)
    entries = log_size()
    status, out, err = run(write_ini(tmp_path, var_dir), 'audit', 'verify')
    assert (status, err) == (0, '')
    assert f'The audit log is intact: {entries} entries in {SHARDS} chains.' in out


def test_serve_refuses_a_storage_it_cannot_share(tmp_path):
    ini = write_ini(tmp_path, tmp_path / 'var', **{'zodbconn.uri': 'memory://',
                                                    'zodbconn.uri.audit': 'memory://'})
    status, out, err = run(ini, 'serve', '--workers', '2')
    assert (status, out) == (1, '')
    assert 'names another storage (memory://)' in err


def example_config(tmp_path, cluster):
    """``postgresql.ini`` as shipped, its two databases moved to new ones on the test's
    cluster (same parameters; the search beside the main one, as shipped) and its data
    directory into ``tmp_path``.  :returns: the
    copy's path.  (Its secure cookies are left on: the test signs in through the API.)"""
    with open(os.path.join(REPO, 'postgresql.ini'), encoding='utf-8') as f:
        text = f.read()
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    lines = text.splitlines()
    for setting, name in (('zodbconn.uri', 'example'), ('zodbconn.uri.audit', 'example_audit')):
        shipped = parser['app:main'][setting]
        cluster.create_database(name)
        moved = urllib.parse.urlsplit(cluster.uri(name))._replace(
            query=urllib.parse.urlsplit(shipped).query)
        lines[lines.index(f'{setting} = {shipped}')] = f'{setting} = {moved.geturl()}'
    shipped = parser['app:main']['kp_workspace.search_dsn']
    lines[lines.index(f'kp_workspace.search_dsn = {shipped}')] = \
        f'kp_workspace.search_dsn = {cluster.dsn("example")}'
    marker = lines.index('use = egg:kp_workspace')
    lines.insert(marker + 1, f'kp_workspace.var_dir = {tmp_path / "var"}')
    path = tmp_path / 'postgresql.ini'
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return str(path)


def test_the_example_postgresql_ini_keeps_attachments_in_the_database(tmp_path, postgres):
    ini = example_config(tmp_path, postgres)
    status, out, err = run(ini, 'init', '--demo-if-empty')
    assert (status, err) == (0, '') and 'Demo data loaded' in out
    data = pdf_bytes(2)
    app = get_app(ini)
    try:
        browser = Browser(app, extra_environ={'REMOTE_ADDR': CLIENT})
        token = browser.token('so.finance')
        fid = browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                          params={'subject': 'Blob in PostgreSQL'}).json['id']
        att = browser.api('post', f'/api/v1/files/{fid}/attachments', token, status=201,
                          params={'title': 'Letter'},
                          upload_files=[('file', 'letter.pdf', data)]).json['id']
    finally:
        close_app(app)
    cache = tmp_path / 'var' / 'blobcache'
    assert cache.is_dir() and not (tmp_path / 'var' / 'blobs').exists()
    shutil.rmtree(cache)  # (the cache only: the blob itself is in PostgreSQL)
    app = get_app(ini)
    try:
        browser = Browser(app, extra_environ={'REMOTE_ADDR': CLIENT})
        got = browser.api('get', f'/api/v1/files/{fid}/attachments/{att}',
                          browser.token('so.finance'))
        assert got.body == data
    finally:
        close_app(app)
    assert run(ini, 'reindex')[0] == 0
    assert run(ini, 'reindex', '--check') == (0, 'The index matches the database.\n', '')
    # the search is in the main database's kpw_search table, and finds the new file
    rows = postgres.psql("SELECT count(*) FROM kpw_search WHERE title = 'Blob in PostgreSQL'",
                         'example')
    assert rows.strip() == '1'
    app = get_app(ini)
    try:
        browser = Browser(app, extra_environ={'REMOTE_ADDR': CLIENT})
        found = browser.api('get', '/api/v1/search', browser.token('so.finance'),
                            params={'q': 'blob postgresql'}).json
        assert {item['id'] for item in found['items']} == {fid}  # (the file, its letter)
        assert 'file' in {item['kind'] for item in found['items']}
    finally:
        close_app(app)


def test_a_database_that_cannot_be_opened_is_named_without_its_password(tmp_path):
    ini = write_ini(tmp_path, tmp_path / 'var', **{
        'zodbconn.uri': 'postgres://kpw:s3cret-word@127.0.0.1:1/kpw?connect_timeout=5',
        'zodbconn.uri.audit': 'postgres://kpw:s3cret-word@127.0.0.1:1/kpw_audit'})
    status, out, err = run(ini, 'audit', 'verify')
    assert (status, out) == (1, '')
    assert 'cannot open postgres://kpw:***@127.0.0.1:1/kpw?' in err and 's3cret' not in err


def test_every_process_commits_the_main_database_before_the_audit_log(tmp_path, postgres):
    """A transaction commits its databases in the order of their storages' sort keys;
    RelStorage's held a memory address, so two processes could lock the main database
    and the audit log in opposite orders and wait on each other until the commit lock
    timed out.  Named by the settings, every opening sorts them alike."""
    from zodburi import resolve_uri
    from kp_workspace.settings import read_settings
    for name in ('named_main', 'named_audit'):
        postgres.create_database(name)

    def sort_keys():
        settings = {'zodbconn.uri': postgres.uri('named_main') + '?keep_history=false',
                    'zodbconn.uri.audit': postgres.uri('named_audit') + '?keep_history=false',
                    'kp_workspace.var_dir': str(tmp_path / 'var')}
        read_settings({'here': str(tmp_path)}, settings)
        keys = []
        for setting in ('zodbconn.uri', 'zodbconn.uri.audit'):
            factory, _dbkw = resolve_uri(settings[setting])
            storage = factory()
            keys.append(storage.sortKey())
            storage.close()
        return keys
    first = sort_keys()
    assert first == sort_keys() and first[0] < first[1]
