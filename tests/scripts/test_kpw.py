"""The kpw console script, run in-process against a real data directory."""
import io

import pytest

from kp_workspace.evolve import GENERATION
from kp_workspace.scripts import kpw
from tests.conftest import Browser, close_app, make_app, set_generation, write_ini

pytestmark = pytest.mark.storages


class FakeStdin(io.StringIO):
    def isatty(self):
        return False


@pytest.fixture
def ini(var_dir, tmp_path):
    return write_ini(tmp_path, var_dir)


def run(ini, *argv, stdin=''):
    out, err = io.StringIO(), io.StringIO()
    saved = kpw.sys.stdin
    kpw.sys.stdin = FakeStdin(stdin)
    try:
        status = kpw.main(['-c', ini, *argv], out=out, err=err)
    finally:
        kpw.sys.stdin = saved
    return status, out.getvalue(), err.getvalue()


def test_init_on_a_new_directory_without_demo(tmp_path):
    ini = write_ini(tmp_path, tmp_path / 'fresh')
    status, out, _ = run(ini, 'init', '--demo-if-empty')
    assert status == 0 and 'Demo data loaded (49 objects added)' in out
    # (+ 3 signers; the file, the acting charge and the 4 letters; the Cabinet Wing, its
    # 2 posts, 5 users and the cabinet meeting)
    status, out, _ = run(ini, 'init', '--demo-if-empty')  # not empty any more: nothing added
    assert status == 0 and 'Demo data' not in out and f'generation {GENERATION}' in out
    status, out, _ = run(ini, 'demo')
    assert 'Demo data loaded (0 objects added)' in out


def test_a_database_of_a_newer_release_is_refused_with_a_message(tmp_path):
    ini = write_ini(tmp_path, tmp_path / 'fresh', **{'kp_workspace.evolve_on_start': 'false'})
    assert run(ini, 'init')[0] == 0
    set_generation(tmp_path / 'fresh', GENERATION + 1)
    for command in (('evolve',), ('evolve', '--check'), ('reindex',)):
        status, out, err = run(ini, *command)
        assert status == 1 and out == '', command
        assert err == (f'kpw: The database is at generation {GENERATION + 1}, newer than this '
                       f'release ({GENERATION}); upgrade the software before opening it.\n')


def test_init_builds_a_new_database_where_start_up_does_not_evolve(tmp_path):
    ini = write_ini(tmp_path, tmp_path / 'fresh', **{'kp_workspace.evolve_on_start': 'false'})
    status, out, err = run(ini, 'init')  # (as production.ini and postgresql.ini set it)
    assert (status, err) == (0, '') and f'ready at generation {GENERATION}' in out
    status, out, _ = run(ini, 'evolve', '--check')
    assert status == 0 and 'pending' not in out


def test_user_add_and_passwd_then_sign_in(ini, var_dir):
    status, out, err = run(ini, 'user', 'add', 'new.officer', '--name', 'New Officer',
                           '--role', 'administrator', stdin='console-password-1\n')
    assert (status, err) == (0, '') and 'User new.officer created.' in out
    status, out, err = run(ini, 'user', 'passwd', 'new.officer', stdin='changed-password-2\n')
    assert status == 0
    app = make_app(var_dir)
    try:
        browser = Browser(app)
        browser.login('new.officer', 'console-password-1', status=401)
        browser.login('new.officer', 'changed-password-2')
        assert browser.get('/admin/users', status=200)
        audit = browser.get('/admin/audit').text
        assert 'user.password_reset' in audit and 'console' in audit
    finally:
        close_app(app)


def test_refusals_exit_1_with_a_message(ini):
    status, _out, err = run(ini, 'user', 'add', 'so.finance', '--name', 'Dup',
                            stdin='console-password-1\n')
    assert status == 1 and 'The login "so.finance" is taken.' in err
    status, _out, err = run(ini, 'user', 'add', 'weak', '--name', 'Weak', stdin='short\n')
    assert status == 1 and 'at least 10 characters' in err
    status, _out, err = run(ini, 'user', 'passwd', 'ghost', stdin='whatever-password\n')
    assert status == 1 and 'There is no user "ghost".' in err
    status, _out, err = run(ini, 'post', 'assign', 'no-such-post', 'so.hed')
    assert status == 1 and 'There is no post' in err


def test_post_assign_and_transfer(ini, var_dir):
    status, out, _ = run(ini, 'post', 'assign', 'secretary-finance', 'so.hed')
    assert status == 0 and 'so.hed now holds secretary-finance' in out
    status, _out, err = run(ini, 'post', 'assign', 'secretary-finance', 'so.hed')
    assert status == 1 and 'already holds' in err
    status, out, _ = run(ini, 'post', 'assign', 'secretary-finance', 'so.sit', '--transfer')
    assert status == 0
    app = make_app(var_dir)
    try:
        browser = Browser(app)
        me = browser.api('get', '/api/v1/me', browser.token('so.sit')).json
        assert [p['id'] for p in me['posts']] == ['so-sit', 'secretary-finance']
        me = browser.api('get', '/api/v1/me', browser.token('secretary.finance')).json
        assert me['posts'] == []
    finally:
        close_app(app)


def test_evolve_check_and_run(ini):
    status, out, _ = run(ini, 'evolve', '--check')
    assert status == 0 and f'at generation {GENERATION}; this release is at {GENERATION}.' in out
    status, out, _ = run(ini, 'evolve')
    assert status == 0 and f'Evolved from generation {GENERATION} to {GENERATION}.' in out


def test_missing_config_is_a_usage_error(tmp_path):
    err = io.StringIO()
    assert kpw.main(['-c', str(tmp_path / 'none.ini'), 'init'], err=err) == 2
    assert 'no configuration file' in err.getvalue()


def test_password_is_asked_twice_at_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True
    answers = iter(['first-password-1', 'second-password'])
    monkeypatch.setattr(kpw.getpass, 'getpass', lambda prompt: next(answers))
    with pytest.raises(kpw.DomainError):
        kpw.read_password(Tty())
    answers = iter(['same-password-1', 'same-password-1'])
    assert kpw.read_password(Tty()) == 'same-password-1'
