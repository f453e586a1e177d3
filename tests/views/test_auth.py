"""Signing in and out in the browser: passwords, throttling, CSRF, sessions."""
import pytest

import ZODB
import ZODB.FileStorage

from kp_workspace.populate import DEMO_PASSWORD
from tests.conftest import CLIENT, Browser, close_app, copy_demo, make_app


def test_login_page_has_labelled_fields_and_csrf(app):
    page = app.get('/login')
    assert '<label for="login"' in page.text and '<label for="password"' in page.text
    form = page.forms[0]
    assert form['csrf_token'].value
    cookie = [v for k, v in page.headerlist if k == 'Set-Cookie'][0]
    assert 'HttpOnly' in cookie and 'SameSite=Lax' in cookie


def test_demo_user_signs_in_and_sees_their_post(app):
    res = app.login('so.finance')
    assert res.location.endswith('/')
    home = res.follow()
    assert 'Ayesha Khan' in home.text
    assert 'Section Officer (Budget), Finance' in home.text
    assert 'Officer' in home.text


def test_anonymous_is_sent_to_login_and_back(app):
    res = app.get('/admin/users', status=303)
    assert '/login?came_from=%2Fadmin%2Fusers' in res.location
    form = res.follow().forms[0]
    form['login'], form['password'] = 'admin', 'kp-demo-2026'
    res = form.submit(status=303)
    assert res.location.endswith('/admin/users')


def test_came_from_cannot_leave_the_site(app):
    form = app.get('/login', params={'came_from': '//evil.example/x'}).forms[0]
    form['login'], form['password'] = 'admin', 'kp-demo-2026'
    res = form.submit(status=303)
    assert res.location == 'http://localhost/'


def test_wrong_password_is_refused_and_recorded(app, audit_entries):
    res = app.login('so.finance', 'wrong-password-1', status=401)
    assert 'The login or password is not right.' in res.text
    assert 'kpw.login' not in str(app.cookies)
    entry = audit_entries(1)[0]
    assert (entry.action, entry.target, entry.client) == ('login.failed', 'user:so.finance', CLIENT)
    app.get('/', status=303)  # still signed out


def test_unknown_login_gives_the_same_answer(app):
    res = app.login('nobody.here', 'whatever-password', status=401)
    assert 'The login or password is not right.' in res.text


def test_empty_form_is_a_clear_400(app):
    res = app.login('', '', status=400)
    assert 'Enter your login and password.' in res.text


def test_throttling_refuses_the_address_even_for_the_right_password(app, audit_entries):
    for _ in range(4):
        app.login('secretary.finance', 'not-the-password', status=401)
    res = app.login('secretary.finance', 'not-the-password', status=429)
    assert 'Too many failed sign-in attempts' in res.text
    assert res.headers['Retry-After'] == '900'
    res = app.login('secretary.finance', status=429)
    assert 'Try again in 15 minutes' in res.text
    assert 0 < int(res.headers['Retry-After']) <= 900
    assert audit_entries(1)[0].action == 'login.refused_locked'
    # other logins are not affected
    app.login('so.finance')


def test_a_stranger_hammering_a_login_does_not_lock_out_its_user(wsgi_app, audit_entries):
    """Twenty wrong passwords for the Chief Minister from one address: that address
    is refused, and the Chief Minister, from their own address, still signs in."""
    stranger = Browser(wsgi_app, extra_environ={'REMOTE_ADDR': '203.0.113.9'})
    user = Browser(wsgi_app, extra_environ={'REMOTE_ADDR': '10.1.1.1'})
    statuses = [stranger.login('cm', f'guess-{n}', status=(401, 429)).status_int
                for n in range(20)]
    assert statuses == [401] * 4 + [429] * 16
    stranger.login('cm', status=429)  # even the right password, from that address
    user.login('cm')
    assert 'Chief Minister' in user.get('/').text
    # X-Forwarded-For from an untrusted client names nobody
    form = stranger.get('/login').forms[0]
    form['login'], form['password'] = 'cm', DEMO_PASSWORD
    form.submit(status=429, headers={'X-Forwarded-For': '10.1.1.1'})


def test_guesses_spread_over_many_addresses_slow_the_login_down_but_never_close_it(
        tmp_path, demo_template):
    """Past the limit, every attempt on the login waits a growing, bounded delay
    (recorded in the audit log), and the right password still works."""
    var = copy_demo(demo_template, tmp_path / 'var')
    wsgi = make_app(var, **{'kp_workspace.login_delay_ms': '1',
                            'kp_workspace.login_max_delay_ms': '8'})
    try:
        for n in range(12):
            guesser = Browser(wsgi, extra_environ={'REMOTE_ADDR': f'198.51.100.{n}'})
            guesser.login('cs', 'wrong-password', status=401)  # one try each: never refused
        delays = [int(dict(e.details).get('delay_ms', 0))
                  for e in audit_log_entries(wsgi) if e.action == 'login.failed']
        assert delays == [0, 0, 0, 0, 0, 1, 2, 4, 8, 8, 8, 8]
        user = Browser(wsgi, extra_environ={'REMOTE_ADDR': '10.1.1.1'})
        user.login('cs')
        # the success started the count again: no more delay
        guesser = Browser(wsgi, extra_environ={'REMOTE_ADDR': '198.51.100.200'})
        guesser.login('cs', 'wrong-password', status=401)
        last = [e for e in audit_log_entries(wsgi) if e.action == 'login.failed'][-1]
        assert 'delay_ms' not in dict(last.details)
    finally:
        close_app(wsgi)


def test_trusted_proxy_names_the_client_in_x_forwarded_for(tmp_path, demo_template):
    var = copy_demo(demo_template, tmp_path / 'var')
    wsgi = make_app(var, **{'kp_workspace.trusted_proxies': '127.0.0.1 10.0.0.2'})
    try:
        proxy = Browser(wsgi, extra_environ={'REMOTE_ADDR': '127.0.0.1'})

        def attempt(forwarded, password='wrong-password', status=401):
            form = proxy.get('/login').forms[0]
            form['login'], form['password'] = 'cm', password
            return form.submit(status=status, headers={'X-Forwarded-For': forwarded})
        for _ in range(4):
            # the client may prepend anything; the proxies' right-most entry counts
            attempt('10.9.9.9, 203.0.113.5, 10.0.0.2')
        attempt('1.2.3.4, 203.0.113.5', status=429)
        attempt('203.0.113.6', password=DEMO_PASSWORD, status=303)  # someone else: fine
    finally:
        close_app(wsgi)


def test_one_login_however_it_is_written_and_logins_of_any_length(wsgi_app):
    """' CM ', 'cm' and 'Cm' are one login for the count; a 5,000-character login is
    counted like any other and answers the same 401."""
    stranger = Browser(wsgi_app, extra_environ={'REMOTE_ADDR': '203.0.113.9'})
    for spelling in (' CM ', 'cm', 'Cm', 'cM\t'):
        stranger.login(spelling, 'a-guess', status=401)
    stranger.login('CM', 'a-guess', status=429)
    long_login = 'x' * 5000
    for _ in range(4):
        res = stranger.login(long_login, 'a-guess', status=401)
    assert 'The login or password is not right.' in res.text
    stranger.login(long_login, 'a-guess', status=429)
    Browser(wsgi_app, extra_environ={'REMOTE_ADDR': '10.1.1.1'}).login('cm')
    # only its start is on record: a stranger cannot fill the audit log with logins
    targets = {e.target for e in audit_log_entries(wsgi_app) if e.action.startswith('login.')}
    assert 'user:' + 'x' * 40 + '…' in targets
    assert max(len(t) for t in targets) <= 46


def test_the_api_token_endpoint_is_throttled_the_same_way(wsgi_app):
    stranger = Browser(wsgi_app, extra_environ={'REMOTE_ADDR': '203.0.113.9'})
    user = Browser(wsgi_app, extra_environ={'REMOTE_ADDR': '10.1.1.1'})
    body = {'login': 'cm', 'password': 'a-guess'}
    for _ in range(4):
        stranger.post_json('/api/v1/auth/token', body, status=401)
    res = stranger.post_json('/api/v1/auth/token', body, status=429)
    assert 'Too many failed sign-in attempts' in res.json['error']
    assert res.headers['Retry-After'] == '900'
    res = stranger.post_json('/api/v1/auth/token', {'login': 'cm', 'password': DEMO_PASSWORD},
                             status=429)
    assert int(res.headers['Retry-After']) <= 900
    # the browser page and the API share the count: the page refuses that address too
    stranger.login('cm', status=429)
    assert user.token('cm')
    user.login('cm')


def test_lock_expires(app, open_site):
    import datetime
    for _ in range(5):
        app.login('cs', 'not-the-password', status=(401, 429))
    app.login('cs', status=429)

    def age(site, conn):
        records = site.login_attempts._by_address
        for key in list(records.keys()):
            record = records[key]
            record.locked_until -= datetime.timedelta(minutes=16)
            records[key] = record
    open_site(age, commit=True)
    app.login('cs')


def test_successful_login_resets_the_count(app):
    for _ in range(4):
        app.login('cm', 'not-the-password', status=401)
    app.login('cm')
    app.post('/logout', {'csrf_token': app.csrf()}, status=303)
    for _ in range(4):
        app.login('cm', 'not-the-password', status=401)
    app.login('cm')
    app.post('/logout', {'csrf_token': app.csrf()}, status=303)
    for _ in range(4):
        app.post_json('/api/v1/auth/token', {'login': 'cm', 'password': 'nope'}, status=401)
    app.token('cm')
    for _ in range(4):
        app.post_json('/api/v1/auth/token', {'login': 'cm', 'password': 'nope'}, status=401)
    app.token('cm')


def test_step_9_drops_the_old_locks_and_keeps_the_counts(tmp_path, demo_template):
    """A database of the release before: the Chief Minister's login locked for everyone."""
    import datetime

    from kp_workspace import evolve
    from kp_workspace.security.throttle import LoginThrottle, SignInThrottle
    from kp_workspace.site import ROOT_KEY
    var = copy_demo(demo_template, tmp_path / 'var')
    db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var / 'Data.fs'),
                                              blob_dir=str(var / 'blobs')))
    now = datetime.datetime.now(datetime.timezone.utc)
    with db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        old = site.login_attempts = LoginThrottle()
        for _ in range(5):
            old.failed('cm', now, 5, 900, 900)  # locked
        for _ in range(3):
            old.failed('cs', now, 5, 900, 900)
        site.generation = 7
    db.close()
    wsgi = make_app(var)
    try:
        assert wsgi.registry.kpw_generations == (7, evolve.GENERATION)
        Browser(wsgi, extra_environ={'REMOTE_ADDR': '10.1.1.1'}).login('cm')  # not locked
        conn = wsgi.registry._zodb_databases[''].open()
        try:
            throttle = conn.root()[ROOT_KEY].login_attempts
            assert isinstance(throttle, SignInThrottle)
            assert throttle._by_login['cs'].count == 3 and 'cm' not in throttle._by_login
        finally:
            conn.close()
    finally:
        close_app(wsgi)


def audit_log_entries(wsgi):
    """Every audit entry of ``wsgi``'s audit log, oldest first."""
    from kp_workspace.audit import ROOT_KEY
    conn = wsgi.registry._zodb_databases['audit'].open()
    try:
        entries, _cursor = conn.root()[ROOT_KEY].page(limit=1000)
        return list(reversed(entries))
    finally:
        conn.transaction_manager.abort()
        conn.close()


def test_login_post_without_csrf_token_is_refused(app):
    app.get('/login')
    res = app.post('/login', {'login': 'admin', 'password': 'kp-demo-2026'}, status=400)
    assert 'This form has expired' in res.text
    app.get('/', status=303)


def test_forged_post_with_a_wrong_token_changes_nothing(app, open_site):
    app.login('admin')
    res = app.post('/admin/departments/+add', {
        'csrf_token': 'f' * 40, 'name': 'forged', 'title': 'Forged Department', 'code': 'FRG',
        'title_ur': ''}, status=400)
    assert 'did not come from this site' in res.text
    assert open_site(lambda site, conn: 'forged' in site['departments']) is False


def test_logout_ends_the_session(app, audit_entries):
    app.login('so.hed')
    page = app.get('/')
    res = page.forms[0].submit(status=303)  # the sign-out form in the header
    assert res.location.endswith('/login')
    assert 'You have signed out.' in res.follow().text
    app.get('/', status=303)
    assert audit_entries(2)[0].action == 'logout'


def test_logout_get_asks_for_confirmation(app):
    app.get('/logout', status=303)  # signed out: nothing to confirm
    app.login('so.hed')
    assert 'Sign out of KP Digital Workspace' in app.get('/logout').text


def test_session_cookie_replayed_after_logout_is_useless(app, other):
    app.login('so.finance')
    stolen = app.cookies['kpw_session']
    other.set_cookie('kpw_session', stolen)
    other.get('/', status=200)  # a copied cookie works while the session lives...
    app.post('/logout', {'csrf_token': app.csrf()}, status=303)
    other.get('/', status=303)  # ...and not after its owner signs out


def test_deactivation_ends_open_sessions(app, other):
    other.login('so.sit')
    other.get('/', status=200)
    app.login('admin')
    form = app.get('/admin/users/so.sit').forms['kpw-form']
    form['active'] = False
    form.submit('save', status=303)
    other.get('/', status=303)
    other.login('so.sit', status=401)


def test_password_change_keeps_this_session_and_ends_others(app, other):
    app.login('so.sports')
    other.login('so.sports')
    form = app.get('/account/password').forms['kpw-form']
    form['current'] = 'kp-demo-2026'
    form['password'] = 'a-new-secret-2026'
    form['password-confirm'] = 'a-new-secret-2026'
    res = form.submit('change_password', status=303)
    assert 'Your password has been changed' in res.follow().text
    app.get('/', status=200)
    other.get('/', status=303)
    other.login('so.sports', 'a-new-secret-2026')


def test_password_change_needs_the_current_password(app):
    app.login('so.sports')
    form = app.get('/account/password').forms['kpw-form']
    form['current'] = 'not-my-password'
    form['password'] = form['password-confirm'] = 'a-new-secret-2026'
    res = form.submit('change_password', status=400)
    assert 'The current password is not right.' in res.text


@pytest.mark.parametrize('password, message', [
    ('short', 'at least 10 characters'),
    ('aaaaaaaaaaaa', 'more different characters'),
])
def test_weak_new_password_is_refused(app, password, message):
    app.login('so.sports')
    form = app.get('/account/password').forms['kpw-form']
    form['current'] = 'kp-demo-2026'
    form['password'] = form['password-confirm'] = password
    assert message in form.submit('change_password', status=400).text


@pytest.mark.parametrize('issued', ['just now', 'eleven minutes ago'])
def test_a_page_under_way_while_signing_in_does_not_sign_the_user_out(app, monkeypatch,
                                                                       issued):
    """A browser's other requests (the favicon's, a second tab's) that left before
    the sign-in and come back after it must not bring back the old session: a
    signed-out session is sent back only when a page changes it (a fresh one, or
    one issued longer ago than the session's reissue time, ten minutes)."""
    import time
    import types

    import pyramid.session
    import webtest
    app.get('/login')
    signed_out = app.cookies['kpw_session']
    app.login('so.finance')
    if issued == 'eleven minutes ago':
        later = time.time() + 660
        monkeypatch.setattr(pyramid.session, 'time', types.SimpleNamespace(time=lambda: later))
    late = webtest.TestApp(app.app)
    late.set_cookie('kpw_session', signed_out)
    for res in (late.get('/nothing-here', status=404), late.get('/login')):
        for header in res.headers.getall('Set-Cookie'):  # what the browser would keep
            name, _, rest = header.partition('=')
            app.set_cookie(name, rest.split(';')[0])
    assert app.get('/').status_int == 200  # still signed in (not sent to the login page)


def test_a_page_with_a_message_shows_it_once(app):
    app.login('so.finance')
    app.post('/logout', {'csrf_token': app.csrf()}, status=303)
    page = app.get('/login')
    assert 'You have signed out.' in page.text
    assert 'You have signed out.' not in app.get('/login').text


def test_the_audit_log_records_the_address_the_throttle_counts(wsgi_app):
    """A client cannot choose the address it is recorded under: X-Forwarded-For is
    believed only from a trusted proxy (none by default)."""
    Browser(wsgi_app, extra_environ={'REMOTE_ADDR': '198.51.100.7',
                                     'HTTP_X_FORWARDED_FOR': '10.9.9.9'}).login('so.finance')
    entry = [e for e in audit_log_entries(wsgi_app) if e.action == 'login.succeeded'][-1]
    assert entry.client == '198.51.100.7'


def keep_cookies(browser, res):
    """What a browser does with a late answer: keep the cookies it sets."""
    for header in res.headers.getall('Set-Cookie'):
        name, _, rest = header.partition('=')
        browser.set_cookie(name, rest.split(';')[0])


@pytest.mark.parametrize('path', ['/', '/inbox', '/login', '/nothing-here'])
def test_a_page_under_way_while_changing_the_password_does_not_sign_the_user_out(app, path):
    """A request that left with the session of before the change (a second tab, a
    page the user left by submitting the form) and is answered after it finds that
    session ended; it must not send back an emptied session over the new one (the
    end-to-end sign-in once bounced to the login page this way)."""
    import webtest
    app.login('so.sports')
    before = app.cookies['kpw_session']
    form = app.get('/account/password').forms['kpw-form']
    form['current'] = 'kp-demo-2026'
    form['password'] = form['password-confirm'] = 'a-new-secret-2026'
    form.submit('change_password', status=303)
    late = webtest.TestApp(app.app)
    late.set_cookie('kpw_session', before)
    res = late.get(path, status='*')
    assert res.status_int in (303, 404, 200)
    if path != '/login':
        assert res.status_int != 200  # the old session is no longer signed in
    keep_cookies(app, res)
    assert 'Sign out' in app.get('/', status=200).text  # this session still signed in
