"""Administration pages: who may open them, and what they change and record."""
import pytest

from tests.conftest import check, confirm

ADMIN_PAGES = ['/admin', '/admin/users', '/admin/users/+add', '/admin/users/so.finance',
               '/admin/users/so.finance/password', '/admin/groups', '/admin/posts',
               '/admin/posts/+add', '/admin/posts/secretary-finance', '/admin/departments',
               '/admin/departments/+add', '/admin/departments/finance', '/admin/roles',
               '/admin/audit']

NOT_ADMINS = ['so.finance', 'secretary.finance', 'cs', 'cm', 'clerk.finance', 'so.hed',
              'diary.finance']


@pytest.mark.parametrize('path', ADMIN_PAGES)
def test_administrator_opens_every_admin_page(app, path):
    app.login('admin')
    app.get(path, status=200)


@pytest.mark.parametrize('login', NOT_ADMINS)
def test_other_roles_are_refused_every_admin_page(app, login):
    app.login(login)
    for path in ADMIN_PAGES:
        res = app.get(path, status=403)
        assert 'You do not have permission' in res.text
    home = app.get('/')
    assert 'Administration' not in home.text


def test_non_admin_cannot_post_to_admin_forms(app, open_site):
    app.login('secretary.finance')
    app.post('/admin/users/+add', {'csrf_token': app.csrf(), 'login': 'sneaky', 'name': 'Sneaky',
                                   'password': 'a-long-password-1',
                                   'password-confirm': 'a-long-password-1'}, status=403)
    assert open_site(lambda site, conn: 'sneaky' in site['principals'].users) is False


def test_anonymous_post_to_admin_is_sent_to_login(app):
    app.get('/login')
    app.post('/admin/users/+add', {'csrf_token': app.csrf()}, status=303)


@pytest.mark.storages
def test_create_user_then_sign_in_as_them(app, other, audit_entries):
    app.login('admin')
    form = app.get('/admin/users/+add').forms['kpw-form']
    form['login'] = 'so.budget2'
    form['name'] = 'Zainab Akhtar'
    form['email'] = 'zainab@kp.gov.pk.example'
    form['password'] = form['password-confirm'] = 'first-password-2026'
    res = form.submit('create_user', status=303)
    assert res.location.endswith('/admin/users/so.budget2')
    assert 'User so.budget2 created.' in res.follow().text
    entry = audit_entries(1)[0]
    assert (entry.actor, entry.action, entry.target) == ('admin', 'user.created', 'user:so.budget2')
    # the password the administrator chose works once: to choose her own, before anything
    page = other.login('so.budget2', 'first-password-2026').follow(status=303).follow()
    assert 'choose one of your own before you go on' in page.text
    assert other.get('/inbox', status=303).location.endswith('/account/password')
    other.get('/static/workspace.css', status=200)  # (the password page's own stylesheet)
    # the icon the browser asks for by itself flashes nothing (a session written by it,
    # answered after a later sign-in, would overwrite the newer session)
    assert 'Set-Cookie' not in other.get('/favicon.ico', status=200).headers
    other.post_json('/api/v1/auth/token', {'login': 'so.budget2',
                                           'password': 'first-password-2026'}, status=403)
    choose_own_password(other, 'first-password-2026', 'first-password-2026', status=400)
    choose_own_password(other, 'first-password-2026', 'her-own-password-2026')
    assert 'Zainab Akhtar' in other.get('/').text
    other.post_json('/api/v1/auth/token', {'login': 'so.budget2',
                                           'password': 'her-own-password-2026'}, status=201)
    assert 'so.budget2' in app.get('/admin/users').text


def choose_own_password(browser, current, new, status=303):
    form = browser.get('/account/password').forms['kpw-form']
    form['current'] = current
    form['password'] = form['password-confirm'] = new
    return form.submit(status=status)


def test_create_user_errors_are_shown_on_the_form(app, open_site):
    app.login('admin')
    form = app.get('/admin/users/+add').forms['kpw-form']
    form['login'] = 'so.finance'
    form['name'] = 'Duplicate'
    form['password'] = form['password-confirm'] = 'first-password-2026'
    res = form.submit('create_user', status=409)
    assert 'The login "so.finance" is taken.' in res.text
    form = res.forms['kpw-form']
    form['login'] = 'Bad Login!'
    form['password'] = form['password-confirm'] = 'first-password-2026'
    res = form.submit('create_user', status=400)
    assert 'A login is 2 to 40 lower-case letters' in res.text
    form = res.forms['kpw-form']
    form['login'] = 'fine.login'
    form['password'] = 'first-password-2026'
    form['password-confirm'] = 'other-password-2026'
    assert form.submit('create_user', status=400).text.count('Password did not match') >= 1
    assert open_site(lambda site, conn: 'fine.login' in site['principals'].users) is False


def test_script_in_a_name_is_shown_as_text(app):
    app.login('admin')
    form = app.get('/admin/users/+add').forms['kpw-form']
    form['login'] = 'xss.test'
    form['name'] = '<script>alert(1)</script>'
    form['password'] = form['password-confirm'] = 'first-password-2026'
    form.submit('create_user', status=303)
    page = app.get('/admin/users')
    assert '<script>alert(1)</script>' not in page.text
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in page.text


def test_edit_roles_and_deactivate(app, open_site, audit_entries):
    app.login('admin')
    form = app.get('/admin/users/clerk.finance').forms['kpw-form']
    form['name'] = 'Gul Rehman Khan'
    check(form, 'diary_clerk')
    res = form.submit('save', status=303)
    assert 'Saved.' in res.follow().text
    assert 'diary_clerk' in open_site(
        lambda site, conn: site['principals'].users['clerk.finance'].roles)
    actions = [e.action for e in audit_entries(3)]
    assert 'user.updated' in actions


def test_admin_cannot_deactivate_themselves(app):
    app.login('admin')
    form = app.get('/admin/users/admin').forms['kpw-form']
    form['active'] = False
    res = form.submit('save', status=400)
    assert 'You cannot deactivate your own account.' in res.text


def test_reset_password(app, other, audit_entries):
    other.login('so.hed')
    app.login('admin')
    form = app.get('/admin/users/so.hed/password').forms['kpw-form']
    form['password'] = form['password-confirm'] = 'reset-by-admin-2026'
    res = form.submit('reset_password', status=303)
    assert res.location.endswith('/admin/users/so.hed')
    other.get('/', status=303)  # their session ended
    other.login('so.hed', status=401)
    other.login('so.hed', 'reset-by-admin-2026')
    assert other.get('/', status=303).location.endswith('/account/password')
    choose_own_password(other, 'reset-by-admin-2026', 'so-hed-own-password-2026')
    other.get('/', status=200)
    assert 'user.password_reset' in [e.action for e in audit_entries(5)]


def test_unknown_user_page_is_404(app):
    app.login('admin')
    app.get('/admin/users/nobody', status=404)
    app.get('/admin/posts/nothing', status=404)
    app.get('/admin/departments/nowhere', status=404)


def test_create_post_with_roles_and_assign(app, other, audit_entries):
    app.login('admin')
    form = app.get('/admin/posts/+add').forms['kpw-form']
    form['post_id'] = 'deputy-secretary-finance'
    form['title'] = 'Deputy Secretary (Budget), Finance'
    form['department'] = 'finance'
    check(form, 'approver')
    res = form.submit('create_post', status=303)
    page = res.follow()
    assert 'Nobody holds this post.' in page.text
    form = page.forms['holder-form']
    form['login'] = 'so.hed'
    page = form.submit('op', value='assign', status=303).follow()
    assert 'Bilal Afridi now holds this post.' in page.text
    other.login('so.hed')
    home = other.get('/')
    assert 'Deputy Secretary (Budget), Finance' in home.text and 'Approver' in home.text
    actions = [e.action for e in audit_entries(3)]
    assert actions[:2] == ['login.succeeded', 'post.assigned']


@pytest.mark.storages
def test_transfer_moves_the_post_not_the_files(app, open_site, audit_entries):
    app.login('admin')
    page = app.get('/admin/posts/so-budget-finance')
    form = page.forms['holder-form']
    form['login'] = 'so.sit'
    res = confirm(form.submit('op', value='transfer', status=200)).follow()
    assert 'transferred to Fawad Ali' in res.text

    def holders(site, conn):
        p = site['principals']
        return (p.posts['so-budget-finance'].holders, p.users['so.finance'].post_ids,
                p.users['so.sit'].post_ids)
    assert open_site(holders) == (('so.sit',), (), ('so-sit', 'so-budget-finance'))
    entry = audit_entries(1)[0]
    assert entry.action == 'post.transferred'
    assert dict(entry.details) == {'previous': 'so.finance', 'successor': 'so.sit'}


def test_relieve_and_errors_on_the_post_page(app):
    app.login('admin')
    page = app.get('/admin/posts/so-sports')
    form = page.forms['holder-form']
    form['login'] = 'so.sports'
    res = form.submit('op', value='assign', status=409)
    assert 'already holds this post' in res.text
    form = res.forms['holder-form']
    form['login'] = 'no.such.user'
    res = form.submit('op', value='assign', status=404)
    assert 'There is no user' in res.text
    relieve = [f for f in res.forms.values() if f.action.endswith('/so-sports')
               and f.fields.get('op') and f.fields['op'][0].value == 'relieve'][0]
    res = confirm(relieve.submit(status=200)).follow()
    assert 'has been relieved of this post' in res.text
    assert 'Nobody holds this post.' in res.text


def test_departments_create_edit_and_code_clash(app, audit_entries):
    app.login('admin')
    form = app.get('/admin/departments/+add').forms['kpw-form']
    form['name'] = 'health'
    form['title'] = 'Health Department'
    form['title_ur'] = 'محکمہ صحت'
    form['code'] = 'FD'
    res = form.submit('create_department', status=409)
    assert 'Another department already uses the code FD.' in res.text
    form = res.forms['kpw-form']
    form['code'] = 'HD'
    res = form.submit('create_department', status=303).follow()
    assert 'Department Health Department created.' in res.text
    listing = app.get('/admin/departments')
    assert 'محکمہ صحت' in listing.text
    form = app.get('/admin/departments/health').forms['kpw-form']
    form['code'] = 'bad code'
    assert 'Use 1 to 10 capital letters' in form.submit('save', status=400).text
    assert audit_entries(1)[0].action == 'department.created'


def test_grant_and_withdraw_a_department_role(app, other, audit_entries):
    app.login('admin')
    page = app.get('/admin/departments/sports')
    grant = page.forms['grant-form']
    grant['principal'] = 'user:so.hed'
    grant['role'] = 'records_clerk'
    page = grant.submit('op', value='grant', status=303).follow()
    assert 'Role granted.' in page.text and 'user:so.hed' in page.text
    entry = audit_entries(1)[0]
    assert entry.action == 'role.granted'
    assert dict(entry.details) == {'principal': 'user:so.hed', 'role': 'records_clerk'}
    token = other.token('so.hed')
    assert 'records_clerk' in other.api('get', '/api/v1/me', token).json['roles']
    bad = page.forms['grant-form']
    bad['principal'] = 'user:ghost'
    res = bad.submit('op', value='grant', status=400)
    assert 'that exists' in res.text
    withdraw = [f for f in res.forms.values() if f.fields.get('principal')
                and f.fields['principal'][0].value == 'user:so.hed'][0]
    res = withdraw.submit('op', value='withdraw', status=303).follow()
    assert 'Role withdrawn.' in res.text


def test_roles_page_shows_the_table(app):
    app.login('admin')
    page = app.get('/admin/roles')
    assert 'Permissions by role' in page.text
    for title in ('Officer', 'Approver', 'Chief Minister', 'Records clerk', 'Diary clerk',
                  'Administrator', 'Sign documents', 'Manage users'):
        assert title in page.text


def test_groups(app, audit_entries):
    app.login('admin')
    page = app.get('/admin/groups')
    assert 'There are no groups yet.' in page.text
    form = page.forms['kpw-form']
    form['group_id'] = 'budget-committee'
    form['title'] = 'Budget Committee'
    page = form.submit('create_group', status=303).follow()
    assert 'Budget Committee' in page.text
    assert audit_entries(1)[0].action == 'group.created'
    form = page.forms['kpw-form']
    form['group_id'] = 'budget-committee'
    form['title'] = 'Again'
    form.submit('create_group', status=409)


def test_audit_log_pages_and_jumps_to_a_date(app, open_site):
    from kp_workspace.audit import Actor, ensure_audit_log

    def fill(site, conn):
        actor = Actor('filler', '127.0.0.1', ensure_audit_log(conn))
        for i in range(120):
            actor.record('test.filler', f'thing:{i}')
    open_site(fill, commit=True)
    app.login('admin')
    page = app.get('/admin/audit')
    assert 'login.succeeded' in page.text and 'thing:119' in page.text
    assert 'thing:0<' not in page.text
    older = page.click('Older entries')
    assert 'thing:0<' in older.text and 'user.created' in older.text
    assert 'thing:119' not in older.text
    assert 'No entries.' in app.get('/admin/audit', params={'until': '2001-01-01'}).text
    app.get('/admin/audit', params={'until': 'yesterday'}, status=400)
    assert 'not valid' in app.get('/admin/audit', params={'after': 'x'}).text


def test_users_list_pages(app, open_site):
    from kp_workspace.audit import Actor, ensure_audit_log

    def add_many(site, conn):
        actor = Actor('test', 'test', ensure_audit_log(conn))
        for i in range(60):
            site['principals'].add_user(actor, f'bulk{i:03d}', f'Bulk User {i}', 'bulk-password-1')
    open_site(add_many, commit=True)
    app.login('admin')
    first = app.get('/admin/users')
    assert '78 users in all.' in first.text
    second = first.click('Next page')
    # name order: admin, adviser.it and bulk000-bulk047 fill the first page
    assert 'bulk059' in second.text and 'so.finance' in second.text
    assert 'bulk000' not in second.text and 'bulk047' in first.text
    assert 'Next page' not in second.text


def test_department_edit_is_saved_and_recorded(app, audit_entries):
    app.login('admin')
    form = app.get('/admin/departments/sports').forms['kpw-form']
    form['title'] = 'Sports & Youth Affairs Department'
    form['code'] = 'SYA'
    res = form.submit('save', status=303).follow()
    assert 'Saved.' in res.text and 'Sports &amp; Youth Affairs Department' in res.text
    entry = audit_entries(1)[0]
    assert (entry.action, dict(entry.details)['code']) == ('department.updated', 'SPD -> SYA')
    form = res.forms['kpw-form']
    assert 'Nothing changed.' in form.submit('save', status=303).follow().text
    form['code'] = 'FD'
    assert 'Another department already uses the code FD.' in form.submit('save', status=409).text


def test_an_administrator_cannot_widen_their_own_access(app, open_site, audit_entries):
    """An administrator manages people, not secrets: giving themselves a post (whose
    files they would then read), a role, a group or a department role is refused,
    and changes nothing; their name they may still change."""
    app.login('admin')
    refused = 'You cannot change your own access'
    form = app.get('/admin/posts/secretary-finance').forms['holder-form']
    form['login'] = 'admin'
    assert refused in form.submit('op', value='assign', status=403).text
    form = app.get('/admin/posts/secretary-finance').forms['holder-form']
    form['login'] = 'admin'
    assert refused in form.submit('op', value='transfer', status=403).text
    grant = app.get('/admin/departments/finance').forms['grant-form']
    grant['principal'] = 'user:admin'
    grant['role'] = 'approver'
    assert refused in grant.submit('op', value='grant', status=403).text
    form = app.get('/admin/users/admin').forms['kpw-form']
    check(form, 'records_clerk')
    assert refused in form.submit('save', status=403).text

    def access(site, conn):
        p = site['principals']
        return (p.users['admin'].post_ids, p.users['admin'].roles,
                p.posts['secretary-finance'].holders,
                site['departments']['finance'].roles_of('user:admin'))
    assert open_site(access) == ((), ('administrator',), ('secretary.finance',), ())
    form = app.get('/admin/users/admin').forms['kpw-form']
    form['name'] = 'Workspace Administrator (KP)'
    assert 'Saved.' in form.submit('save', status=303).follow().text
    # the refusals are on record
    assert 'refused.forbidden' in [e.action for e in audit_entries(8)]


def test_an_administrator_cannot_be_given_a_post_by_another(app, other, open_site):
    """A second administrator (a "puppet" the first one made) cannot give the first a
    post or a department role: administrators hold neither."""
    app.login('admin')
    form = app.get('/admin/users/+add').forms['kpw-form']
    form['login'], form['name'] = 'puppet', 'Second Administrator'
    form['password'] = form['password-confirm'] = 'puppet-password-2026'
    check(form, 'administrator')
    form.submit('create_user', status=303)
    other.login('puppet', 'puppet-password-2026')
    choose_own_password(other, 'puppet-password-2026', 'puppet-own-password-2026')
    form = other.get('/admin/posts/secretary-finance').forms['holder-form']
    form['login'] = 'admin'
    assert 'administrators cannot hold posts' in form.submit('op', value='assign',
                                                             status=403).text
    grant = other.get('/admin/departments/finance').forms['grant-form']
    grant['principal'], grant['role'] = 'user:admin', 'approver'
    assert 'administrators cannot hold posts' in grant.submit('op', value='grant',
                                                              status=403).text
    # nor can a post holder be made an administrator while they hold it
    form = app.get('/admin/users/so.finance').forms['kpw-form']
    check(form, 'administrator')
    assert 'relieve them of it' in form.submit('save', status=403).text
    assert open_site(lambda site, conn: (
        site['principals'].users['admin'].post_ids,
        site['principals'].users['so.finance'].roles)) == ((), ())
