"""Settings: the data directory, database URIs, the secret, typed values."""
import os
import stat
import urllib.parse

import pytest

from kp_workspace.settings import SettingsError, read_settings


def test_defaults_put_everything_in_var_beside_the_ini(tmp_path):
    settings = {}
    typed = read_settings({'here': str(tmp_path)}, settings)
    var = tmp_path / 'var'
    assert typed.var_dir == str(var)
    assert settings['zodbconn.uri'].startswith(f'file://{var}/Data.fs?blobstorage_dir=')
    assert settings['zodbconn.uri.audit'] == f'file://{var}/Audit.fs'
    secret_file = var / 'secret.key'
    assert typed.secret == secret_file.read_text().strip() and len(typed.secret) == 64
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    # the same secret on the next start
    assert read_settings({'here': str(tmp_path)}, {}).secret == typed.secret
    assert (typed.token_lifetime, typed.login_max_failures) == (43200, 5)


def test_kpw_var_dir_wins(tmp_path, monkeypatch):
    monkeypatch.setenv('KPW_VAR_DIR', str(tmp_path / 'elsewhere'))
    typed = read_settings({'here': str(tmp_path)}, {'kp_workspace.var_dir': str(tmp_path / 'ini')})
    assert typed.var_dir == str(tmp_path / 'elsewhere')
    assert (tmp_path / 'elsewhere' / 'blobs').is_dir()


def test_explicit_database_uris_are_kept(tmp_path):
    main = 'zeo://127.0.0.1:8100?blob_dir=/srv/blobs&shared_blob_dir=true'
    settings = {'zodbconn.uri': main, 'zodbconn.uri.audit': 'zeo://127.0.0.1:8101',
                'kp_workspace.secret': 's' * 40}
    read_settings({'here': str(tmp_path)}, settings)
    assert settings['zodbconn.uri'] == main
    assert settings['zodbconn.uri.audit'] == 'zeo://127.0.0.1:8101'
    assert not (tmp_path / 'var' / 'blobs').exists()  # (only the data directory's own FileStorage)


@pytest.mark.parametrize('uri', [
    'postgres://kpw@db.example:5432/kpw?keep_history=false',
    'zeo://127.0.0.1:8100?cache_size=25MB',
    'postgres://kpw@db.example/kpw',
])
def test_a_database_server_without_a_blob_dir_gets_a_blob_cache_in_the_data_directory(
        tmp_path, uri):
    settings = {'zodbconn.uri': uri, 'kp_workspace.secret': 's' * 40}
    read_settings({'here': str(tmp_path)}, settings)
    completed = urllib.parse.urlsplit(settings['zodbconn.uri'])
    query = urllib.parse.parse_qs(completed.query)
    assert query['blob_dir'] == [str(tmp_path / 'var' / 'blobcache')]
    assert query['shared_blob_dir'] == ['false']
    # everything the deployment said is kept
    original = urllib.parse.urlsplit(uri)
    assert completed._replace(query='') == original._replace(query='')
    for name, values in urllib.parse.parse_qs(original.query).items():
        assert query[name] == values


def test_a_shared_blob_directory_must_be_named(tmp_path):
    settings = {'zodbconn.uri': 'postgres://kpw@db/kpw?shared_blob_dir=true',
                'kp_workspace.secret': 's' * 40}
    with pytest.raises(SettingsError, match='names no blob_dir'):
        read_settings({'here': str(tmp_path)}, settings)


@pytest.mark.parametrize('name, value, message', [
    ('login_max_failures', 'five', 'whole number'),
    ('login_lockout', '0', 'greater than zero'),
    ('secure_cookies', 'maybe', 'true or false'),
    ('secret', 'short', 'at least 32'),
    ('default_locale', 'fr', 'en or ur'),
    ('indexer', 'process', 'thread or off'),
])
def test_bad_values_are_named(tmp_path, name, value, message):
    with pytest.raises(SettingsError, match=message):
        read_settings({'here': str(tmp_path)}, {f'kp_workspace.{name}': value})


def test_typed_values(tmp_path):
    typed = read_settings({'here': str(tmp_path)}, {
        'kp_workspace.secure_cookies': 'true', 'kp_workspace.token_lifetime': '60',
        'kp_workspace.evolve_on_start': 'no', 'kp_workspace.default_locale': 'ur'})
    assert typed.secure_cookies is True and typed.token_lifetime == 60
    assert typed.evolve_on_start is False and typed.default_locale == 'ur'


def test_an_empty_secret_file_left_by_a_crash_does_not_stop_the_next_start(tmp_path):
    # A process killed between creating secret.key and writing it (as an older
    # release could be) left it empty, and every later start failed on it.
    var = tmp_path / 'var'
    var.mkdir()
    (var / 'secret.key').write_text('')
    os.chmod(var / 'secret.key', 0o600)
    typed = read_settings({'here': str(tmp_path)}, {})
    assert len(typed.secret) == 64 and (var / 'secret.key').read_text().strip() == typed.secret
    assert read_settings({'here': str(tmp_path)}, {}).secret == typed.secret
    assert sorted(os.listdir(var)) == ['blobs', 'secret.key']  # no spare file left behind


def test_the_secret_file_never_appears_half_written(tmp_path, monkeypatch):
    # Killed before the link: no secret.key at all, so the next start makes one.
    from kp_workspace import settings as module
    var = tmp_path / 'var'

    def killed(src, dst):
        raise KeyboardInterrupt('killed')
    monkeypatch.setattr(module.os, 'link', killed)
    with pytest.raises(KeyboardInterrupt):
        read_settings({'here': str(tmp_path)}, {})
    assert not (var / 'secret.key').exists()
    monkeypatch.undo()
    secret = read_settings({'here': str(tmp_path)}, {}).secret
    assert (var / 'secret.key').read_text().strip() == secret


@pytest.mark.parametrize('before', [None, ''])
def test_of_two_processes_creating_the_secret_the_first_wins(tmp_path, monkeypatch, before):
    from kp_workspace import settings as module
    var = tmp_path / 'var'
    var.mkdir()
    if before is not None:
        (var / 'secret.key').write_text(before)
    theirs = 'f' * 64
    real_mkstemp = module.tempfile.mkstemp

    def other_process_finishes_first(**kw):
        (var / 'secret.key').write_text(theirs + '\n')
        return real_mkstemp(**kw)
    monkeypatch.setattr(module.tempfile, 'mkstemp', other_process_finishes_first)
    assert read_settings({'here': str(tmp_path)}, {}).secret == theirs
    assert (var / 'secret.key').read_text().strip() == theirs
    assert sorted(os.listdir(var)) == ['blobs', 'secret.key']
