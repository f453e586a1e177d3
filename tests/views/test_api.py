"""The JSON API: tokens, /me, JSON errors, the OpenAPI document."""
import datetime

import pytest

from tests.conftest import CLIENT


def test_token_then_me(app, audit_entries):
    res = app.post_json('/api/v1/auth/token', {'login': 'so.finance', 'password': 'kp-demo-2026'},
                        status=201)
    token, expires = res.json['token'], res.json['expires_at']
    assert token.startswith('kpw_') and len(token) > 40
    assert res.headers['Cache-Control'] == 'no-store'
    lifetime = datetime.datetime.fromisoformat(expires) - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(hours=11) < lifetime <= datetime.timedelta(hours=12)
    me = app.api('get', '/api/v1/me', token).json
    assert me == {
        'login': 'so.finance', 'name': 'Ayesha Khan', 'roles': ['officer'],
        'posts': [{'id': 'so-budget-finance', 'title': 'Section Officer (Budget), Finance',
                   'department': 'finance', 'department_title': 'Finance Department'}],
    }
    actions = [(e.action, e.client) for e in audit_entries(2)]
    assert actions == [('token.issued', CLIENT), ('login.succeeded', CLIENT)]


def test_token_is_stored_only_as_a_keyed_hash(app, open_site):
    token = app.token('cm')

    def stored(site, conn):
        return list(site.tokens._by_digest.keys())
    digests = open_site(stored)
    assert token not in digests and all(len(d) == 64 for d in digests)


@pytest.mark.parametrize('login, roles', [
    ('admin', ['administrator']),
    ('secretary.finance', ['approver']),
    ('cm', ['chief_minister']),
    ('clerk.finance', ['records_clerk']),
])
def test_me_roles(app, login, roles):
    assert app.api('get', '/api/v1/me', app.token(login)).json['roles'] == roles


def test_wrong_password_is_401_json(app, audit_entries):
    res = app.post_json('/api/v1/auth/token', {'login': 'cm', 'password': 'nope-nope-nope'},
                        status=401)
    assert res.json == {'error': 'The login or password is not right.'}
    assert audit_entries(1)[0].action == 'login.failed'
    assert dict(audit_entries(1)[0].details) == {'channel': 'api'}


def test_api_throttling_shares_the_lock_with_the_browser(app):
    for _ in range(5):
        app.post_json('/api/v1/auth/token', {'login': 'cs', 'password': 'bad-bad-bad'},
                      status=(401, 429))
    res = app.post_json('/api/v1/auth/token', {'login': 'cs', 'password': 'kp-demo-2026'},
                        status=429)
    assert 'Too many failed sign-in attempts' in res.json['error']
    app.login('cs', status=429)


@pytest.mark.parametrize('body', ['not json', '[1, 2]', '{"login": 5, "password": []}', '{}'])
def test_malformed_token_requests_are_400(app, body):
    res = app.post('/api/v1/auth/token', body, content_type='application/json', status=400)
    assert 'error' in res.json


def test_me_needs_a_token(app):
    res = app.get('/api/v1/me', status=401)
    assert res.json == {'error': 'Sign in first: send a valid bearer token.'}
    assert res.headers['WWW-Authenticate'] == 'Bearer'
    app.get('/api/v1/me', headers={'Authorization': 'Bearer kpw_forged'}, status=401)
    app.get('/api/v1/me', headers={'Authorization': 'Basic YWRtaW46eA=='}, status=401)


def test_api_ignores_the_browser_session(app):
    """A session cookie alone never authenticates an API call (so no CSRF is possible)."""
    app.login('admin')
    app.get('/api/v1/me', status=401)


def test_revoke(app, audit_entries):
    token = app.token('so.hed')
    app.api('delete', '/api/v1/auth/token', token, status=204)
    assert audit_entries(1)[0].action == 'token.revoked'
    app.api('get', '/api/v1/me', token, status=401)
    app.api('delete', '/api/v1/auth/token', token, status=401)


def test_token_expires(app, open_site):
    token = app.token('so.hed')

    def expire(site, conn):
        for record in site.tokens._by_digest.values():
            record.expires -= datetime.timedelta(hours=13)
        site.tokens._p_changed = True
        site.tokens._by_digest._p_changed = True
        for key in list(site.tokens._by_digest.keys()):
            site.tokens._by_digest[key] = site.tokens._by_digest[key]
    open_site(expire, commit=True)
    res = app.api('get', '/api/v1/me', token, status=401)
    assert 'error' in res.json


def test_expired_tokens_are_purged_when_new_ones_are_issued(open_site):
    from kp_workspace.security.tokens import TokenStore, token_key

    class U:
        login, epoch = 'x', 0
    store = TokenStore()
    key = token_key('k' * 40)
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    old, _r = store.issue(key, U, 60, '1.1.1.1', now=now)
    assert store.lookup(key, old, now=now) is not None
    later = now + datetime.timedelta(minutes=5)
    assert store.lookup(key, old, now=later) is None
    store.issue(key, U, 60, '1.1.1.1', now=later)
    assert len(store) == 1
    assert not store.revoke(key, old)


def test_password_reset_and_deactivation_end_tokens(app, other):
    token = other.token('so.sit')
    other.api('get', '/api/v1/me', token)
    app.login('admin')
    form = app.get('/admin/users/so.sit/password').forms['kpw-form']
    form['password'] = form['password-confirm'] = 'reset-by-admin-2026'
    form.submit('reset_password', status=303)
    other.api('get', '/api/v1/me', token, status=401)
    # the password the administrator set gives no token: it must be changed first
    other.post_json('/api/v1/auth/token', {'login': 'so.sit', 'password': 'reset-by-admin-2026'},
                    status=403)
    other.login('so.sit', 'reset-by-admin-2026')
    form = other.get('/account/password').forms['kpw-form']
    form['current'] = 'reset-by-admin-2026'
    form['password'] = form['password-confirm'] = 'so-sit-own-password-2026'
    form.submit(status=303)
    token = other.token('so.sit', 'so-sit-own-password-2026')
    form = app.get('/admin/users/so.sit').forms['kpw-form']
    form['active'] = False
    form.submit('save', status=303)
    other.api('get', '/api/v1/me', token, status=401)
    other.post_json('/api/v1/auth/token', {'login': 'so.sit',
                                           'password': 'so-sit-own-password-2026'}, status=401)


def test_unknown_api_path_is_json_404(app):
    assert app.get('/api/v1/nothing', status=404).json == {
        'error': 'There is nothing at this address, or you may not see it.'}


def test_wrong_method_is_json(app):
    res = app.put_json('/api/v1/me', {}, status=404)
    assert 'error' in res.json


def test_openapi_document(app):
    doc = app.get('/api/v1/openapi.json').json
    assert doc['openapi'].startswith('3.')
    assert {'/api/v1/auth/token', '/api/v1/me'} <= set(doc['paths'])
    assert set(doc['paths']['/api/v1/auth/token']) == {'post', 'delete'}


def test_healthz(app, wsgi_app):
    app.indexed()
    assert app.get('/healthz').json == {
        'status': 'ok',
        'search': {'pending': 0, 'lag_seconds': 0.0, 'failed': 0, 'indexer': 'this process'},
        'ocr': {'waiting': 0}}


def test_healthz_reports_a_broken_database(app, monkeypatch):
    from kp_workspace.views import health

    def broken(request, dbname=None):
        raise OSError('storage gone')
    monkeypatch.setattr(health, 'get_connection', broken)
    res = app.get('/healthz', status=503)
    assert res.json == {'status': 'unavailable'}


def test_unexpected_errors_are_a_page_or_json_never_a_traceback(app, monkeypatch):
    from kp_workspace.views.api import me as me_module
    from kp_workspace.views import home as home_module

    def broken(*args, **kw):
        raise RuntimeError('boom')
    token = app.token('so.finance')
    monkeypatch.setattr(me_module, 'effective_roles', broken)
    res = app.api('get', '/api/v1/me', token, status=500)
    assert res.json == {'error': 'An internal error occurred; it has been logged.'}
    monkeypatch.setattr(home_module, 'role_titles', broken)
    app.login('so.finance')
    res = app.get('/', status=500)
    assert 'Nothing was saved' in res.text and 'Traceback' not in res.text and 'boom' not in res.text


def test_openapi_describes_every_api_route(app):
    from kp_workspace.views import ROUTES
    doc = app.get('/api/v1/openapi.json').json
    api_paths = {pattern for name, pattern in ROUTES
                 if pattern.startswith('/api/') and name != 'api_openapi'}
    assert api_paths <= set(doc['paths']), api_paths - set(doc['paths'])
