"""Settings: the data directory, database URIs, the secret, typed values."""
import os
import stat

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
    settings = {'zodbconn.uri': 'zeo://127.0.0.1:8100', 'zodbconn.uri.audit': 'zeo://127.0.0.1:8101',
                'kp_workspace.secret': 's' * 40}
    read_settings({'here': str(tmp_path)}, settings)
    assert settings['zodbconn.uri'] == 'zeo://127.0.0.1:8100'
    assert settings['zodbconn.uri.audit'] == 'zeo://127.0.0.1:8101'


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
