"""What is put on record (classified reading, exports, refusals) and /admin/audit:
filters, paging on a big log, CSV export safe against formulas."""
import csv
import datetime
import io

import pytest
from pyramid.events import BeforeRender
from ZODB.POSException import ConflictError

from kp_workspace.audit import Actor, AuditEntry, ensure_audit_log
from tests.conftest import CLIENT

UTC = datetime.timezone.utc


def api(app, tokens, login, method, path, status=200, **kw):
    return app.api(method, path, tokens(login), status=status, **kw)


def new_file(app, tokens, classification='routine', login='so.finance'):
    return api(app, tokens, login, 'post_json', '/api/v1/departments/finance/files', 201,
               params={'subject': 'Purchase of buses', 'classification': classification}
               ).json['id']


def recorded(audit_entries, log_size, before, count=1):
    """The entries recorded since the log had ``before`` entries (exactly ``count``)."""
    assert log_size() == before + count
    return audit_entries(count) if count else []


# reading and exporting ---------------------------------------------------------------------
@pytest.mark.parametrize('classification', ['confidential', 'secret'])
def test_reading_a_classified_file_is_recorded(app, tokens, audit_entries, log_size,
                                               classification):
    fid = new_file(app, tokens, classification)
    before = log_size()
    api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}')
    (e,) = recorded(audit_entries, log_size, before)
    assert (e.action, e.actor, e.target, e.client) == ('file.viewed', 'so.finance',
                                                         f'file:{fid}', CLIENT)
    assert ('classification', classification) in e.details
    app.login('so.finance')
    before = log_size()
    app.get(f'/files/{fid}')
    assert recorded(audit_entries, log_size, before)[0].action == 'file.viewed'


def test_reading_a_routine_file_is_not_recorded(app, tokens, log_size):
    fid = new_file(app, tokens)
    before = log_size()
    api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}')
    app.login('so.finance')
    before_page = log_size()
    app.get(f'/files/{fid}')
    assert log_size() == before_page and before_page == before + 1  # (the sign-in only)


def test_exporting_a_file_is_recorded(app, tokens, audit_entries, log_size):
    fid = new_file(app, tokens)
    before = log_size()
    res = api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}/pdf')
    assert res.content_type == 'application/pdf'
    (e,) = recorded(audit_entries, log_size, before)
    assert (e.action, e.target) == ('file.exported', f'file:{fid}')
    app.login('so.finance')
    before = log_size()
    app.get(f'/files/{fid}/pdf')
    assert recorded(audit_entries, log_size, before)[0].action == 'file.exported'


# refusals ------------------------------------------------------------------------------------
def demo_draft(app, tokens):
    inbox = api(app, tokens, 'secretary.finance', 'get', '/api/v1/inbox').json['items']
    file_id = inbox[0]['id']
    (draft,) = api(app, tokens, 'secretary.finance', 'get',
                   f'/api/v1/files/{file_id}').json['drafts']
    return file_id, draft['id']


def test_a_forbidden_approval_is_recorded_and_changes_nothing(app, tokens, audit_entries,
                                                              log_size):
    fid = new_file(app, tokens)
    did = api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/drafts', 201,
              params={'kind': 'letter', 'subject': 'Buses', 'body': 'Please.'}).json['id']
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/drafts/{did}/actions/submit',
        params={})
    before = log_size()
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/drafts/{did}/actions/approve', 403,
        params={})
    (e,) = recorded(audit_entries, log_size, before)
    assert (e.action, e.actor, e.target, e.client) == ('refused.forbidden', 'so.finance',
                                                         f'file:{fid}', CLIENT)
    details = dict(e.details)
    assert details['status'] == '403' and details['attempt'] == 'approve'
    assert details['message'] == 'You may not approve this.'
    draft = api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json['drafts'][0]
    assert draft['state'] == 'pending' and draft['approved_by'] is None


def test_a_refused_forward_is_recorded_and_changes_nothing(app, tokens, audit_entries,
                                                           log_size):
    fid = new_file(app, tokens)
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
        params={'to_post': 'secretary-finance'})
    before = log_size()
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward', 409,
        params={'to_post': 'so-general-hed'})  # no longer the holder
    (e,) = recorded(audit_entries, log_size, before)
    assert (e.action, e.target) == ('refused.conflict', f'file:{fid}')
    assert dict(e.details)['attempt'] == 'forward'
    data = api(app, tokens, 'secretary.finance', 'get', f'/api/v1/files/{fid}').json
    assert data['holder']['id'] == 'secretary-finance' and len(data['movements']) == 1


def test_a_refused_transition_in_the_browser_is_recorded(app, audit_entries, log_size):
    app.login('so.finance')
    form = app.get('/departments/finance/files/new').forms['kpw-form']
    form['subject'] = 'Chairs'
    fid = form.submit('open_file', status=303).location.rsplit('/', 1)[1]
    before = log_size()
    app.post(f'/files/{fid}/actions/return', {'csrf_token': app.csrf()}, status=409)
    (e,) = recorded(audit_entries, log_size, before)
    assert (e.action, e.target, dict(e.details)['attempt']) == ('refused.conflict',
                                                                 f'file:{fid}', 'return')


def test_a_wrong_pin_is_recorded_once_and_signs_nothing(app, tokens, audit_entries, log_size):
    file_id, draft_id = demo_draft(app, tokens)
    act = f'/api/v1/drafts/{draft_id}/actions'
    api(app, tokens, 'secretary.finance', 'post_json', f'{act}/approve', params={})
    before = log_size()
    api(app, tokens, 'secretary.finance', 'post_json', f'{act}/sign', 403,
        params={'pin': '111111'})
    (e,) = recorded(audit_entries, log_size, before)
    assert (e.action, e.actor) == ('signing.wrong_pin', 'secretary.finance')
    draft = api(app, tokens, 'secretary.finance', 'get', f'/api/v1/files/{file_id}').json[
        'drafts'][0]
    assert draft['signatures'] == [] and draft['number'] is None


def test_a_csrf_failure_is_recorded_and_changes_nothing(app, audit_entries, log_size):
    app.login('so.finance')
    form = app.get('/departments/finance/files/new').forms['kpw-form']
    form['subject'] = 'Tables'
    fid = form.submit('open_file', status=303).location.rsplit('/', 1)[1]
    before = log_size()
    app.post(f'/files/{fid}/actions/forward', {'to_post': 'secretary-finance'}, status=400)
    (e,) = recorded(audit_entries, log_size, before)
    assert (e.action, e.actor, e.target) == ('refused.csrf', 'so.finance', f'file:{fid}')
    assert 'With: <strong>Section Officer (Budget), Finance</strong>' in app.get(f'/files/{fid}')


def test_reaching_for_a_file_one_may_not_see_is_recorded(app, tokens, audit_entries,
                                                         log_size):
    fid = new_file(app, tokens, 'secret')
    tokens('so.hed')  # (issuing it is recorded)
    before = log_size()
    res = api(app, tokens, 'so.hed', 'get', f'/api/v1/files/{fid}', 404)
    assert 'may not see it' in res.json['error']  # (the same answer as for no file at all)
    (e,) = recorded(audit_entries, log_size, before)
    assert (e.action, e.actor, e.target) == ('refused.not_visible', 'so.hed', f'file:{fid}')
    app.login('so.hed')
    before = log_size()
    app.get(f'/files/{fid}/pdf', status=404)
    assert recorded(audit_entries, log_size, before)[0].action == 'refused.not_visible'


def test_addresses_that_lead_nowhere_are_not_recorded(app, tokens, log_size):
    fid = new_file(app, tokens)
    token = tokens('so.finance')
    before = log_size()
    app.api('get', '/api/v1/files/doesnotexist', token, status=404)
    app.api('get', f'/api/v1/files/{fid}/attachments/nope', token, status=404)
    app.api('post_json', '/api/v1/drafts/nofile-1/actions/approve', token, status=404,
            params={})
    app.get('/wp-login.php', status=404)
    app.get('/files/doesnotexist', status=303)  # (signed out: to the login page)
    app.post('/login', {'login': 'x'}, status=400)  # a signed-out form without its token
    assert log_size() == before


def test_a_refusal_retried_after_a_conflict_is_recorded_once(app, wsgi_app, audit_entries,
                                                             log_size):
    """The first attempt notes its refusal, then conflicts (a read conflict while its
    page is drawn: a refused request commits nothing, so it cannot conflict later) and
    is retried: one entry, from the attempt whose answer was sent."""
    app.login('so.finance')
    form = app.get('/departments/finance/files/new').forms['kpw-form']
    form['subject'] = 'Cupboards'
    fid = form.submit('open_file', status=303).location.rsplit('/', 1)[1]
    attempts = []

    def collide_once(event):
        request = event['request']
        if request is None or not request.path.endswith('/actions/return'):
            return
        attempt = request.environ['retry.attempt']
        if attempt not in attempts:  # (its first page: the refusal's)
            attempts.append(attempt)
            if attempt == 0:
                raise ConflictError('a read conflict while the page is drawn (test)')
    wsgi_app.registry.registerHandler(collide_once, (BeforeRender,))
    try:
        token = app.csrf()
        before = log_size()
        app.post(f'/files/{fid}/actions/return', {'csrf_token': token}, status=409)
    finally:
        wsgi_app.registry.unregisterHandler(collide_once, (BeforeRender,))
    assert attempts == [0, 1]
    (e,) = recorded(audit_entries, log_size, before)
    assert e.action == 'refused.conflict'


def test_the_audit_page_is_for_administrators_only_and_refusing_it_is_recorded(
        app, audit_entries, log_size):
    app.get('/admin/audit', status=303)  # signed out: to the login page
    app.login('so.finance')
    before = log_size()
    app.get('/admin/audit', status=403)
    app.get('/admin/audit', params={'format': 'csv'}, status=403)
    entries = recorded(audit_entries, log_size, before, 2)
    assert {(e.action, e.target) for e in entries} == {('refused.forbidden', 'route:admin_audit')}


# /admin/audit ---------------------------------------------------------------------------------
def fill(open_site, rows):
    """Append ``rows`` of (actor, action, target, details) in one transaction."""
    def run(site, conn):
        log = ensure_audit_log(conn)
        for actor, action, target, details in rows:
            Actor(actor, '10.1.1.1', log).record(action, target, **details)
    open_site(run, commit=True)


def rows_of(page):
    return page.html.select('table.audit tbody tr')


def test_filters_by_user_object_and_action(app, open_site):
    fill(open_site, [('alice', 'file.viewed', 'file:F1', {}),
                     ('bob', 'file.viewed', 'file:F2', {}),
                     ('alice', 'refused.forbidden', 'file:F2', {'status': '403'}),
                     ('alice', 'refused.conflict', 'file:F3', {})])
    app.login('admin')
    page = app.get('/admin/audit', params={'user': 'ALICE'})
    assert len(rows_of(page)) == 3
    page = app.get('/admin/audit', params={'user': 'alice', 'object': 'file:F2'})
    assert [r.select('td')[2].select_one('code').text
            for r in rows_of(page)] == ['refused.forbidden']
    assert rows_of(page)[0].select('td')[2].text.startswith('Refused: not allowed')  # in words
    page = app.get('/admin/audit', params={'action': 'refused'})
    assert [r.select('td')[3].text for r in rows_of(page)] == ['file:F3', 'file:F2']
    page = app.get('/admin/audit', params={'action': 'refused', 'object': 'F9'})
    assert 'No entries.' in page.text
    assert page.html.select_one('#f-action')['value'] == 'refused'  # the form keeps it


@pytest.mark.parametrize('params', [
    {'until': 'yesterday'}, {'since': '2026-13-01'}, {'until': '9999-12-31'},
    {'since': '0001-01-01'}, {'since': '2026-03-02', 'until': '2026-03-01'},
    {'user': 'x' * 201}, {'until': '2026-01-01', 'format': 'csv', 'since': '1900-01-01'},
])
def test_bad_filters_are_400_with_a_message(app, params):
    app.login('admin')
    page = app.get('/admin/audit', params=params, status=400)
    assert 'role="alert"' in page.text and 'Traceback' not in page.text


@pytest.mark.parametrize('after', ['x', '1e26', str(2 ** 70), '-' + str(2 ** 70)])
def test_a_bad_page_link_shows_the_newest_entries(app, after):
    app.login('admin')
    page = app.get('/admin/audit', params={'after': after})
    assert 'not valid' in page.text and rows_of(page)


def test_a_date_range(app, open_site):
    # (dated after every other entry: the log keeps each shard's chain, and each
    # connection's entries, in key order, so an entry dated before the newest one its
    # connection or shard wrote is filed just after that one -- a connection from the
    # pool that had written the start-up's entries made this test fail now and then)
    def run(site, conn):
        log = ensure_audit_log(conn)
        for day in range(1, 11):
            log.append(AuditEntry(datetime.datetime(2030, 3, day, 12, tzinfo=UTC), 'old',
                                  'test.dated', f'day:{day}', '', ()))
    open_site(run, commit=True)
    app.login('admin')
    page = app.get('/admin/audit', params={'since': '2030-03-04', 'until': '2030-03-06'})
    assert [r.select('td')[3].text for r in rows_of(page)] == ['day:6', 'day:5', 'day:4']
    lines = app.get('/admin/audit', params={'since': '2030-03-09', 'user': 'old',
                                            'format': 'csv'}).text.splitlines()
    assert len(lines) == 3 and 'day:10' in lines[1] and 'day:9' in lines[2]


def test_a_rare_match_in_a_big_log_is_found_page_by_page(app, open_site):
    from kp_workspace.views.admin import audit as view
    fill(open_site, [('needle', 'test.rare', 'thing:needle', {})])
    fill(open_site, [('hay', 'test.common', f'thing:{n}', {}) for n in range(view.SCAN + 50)])
    app.login('admin')
    page = app.get('/admin/audit', params={'user': 'needle'})
    assert not rows_of(page) and 'Searched back to' in page.text  # (read SCAN, no more)
    page = page.click('Older entries')
    assert [r.select('td')[3].text for r in rows_of(page)] == ['thing:needle']
    assert 'Searched back to' not in page.text and 'Older entries' not in page.text


def test_csv_export_is_filtered_safe_and_recorded(app, open_site, audit_entries):
    fill(open_site, [('=cmd|"/c calc"!A1', 'test.evil', '+1+1', {'note': '@SUM(A1:A9)'}),
                     ('-2', 'test.evil', 'file:F1', {'x': 'plain'}),
                     ('carol', 'test.fine', 'file:F1', {})])
    app.login('admin')
    res = app.get('/admin/audit', params={'action': 'test.evil', 'format': 'csv'})
    assert res.content_type == 'text/csv' and 'attachment' in res.content_disposition
    rows = list(csv.reader(io.StringIO(res.text)))
    assert rows[0][:6] == ['when', 'who', 'action', 'object', 'details', 'from']
    assert [r[1] for r in rows[1:]] == ["'-2", '\'=cmd|"/c calc"!A1']
    assert rows[2][3] == "'+1+1" and rows[2][4] == 'note: @SUM(A1:A9)'  # (starts with a letter)
    assert rows[1][3] == 'file:F1'  # (plain cells untouched)
    assert all(not cell.startswith(('=', '+', '-', '@')) for row in rows for cell in row)
    e = audit_entries(1)[0]
    assert (e.action, e.actor, e.target) == ('audit.exported', 'admin', 'audit')
    assert dict(e.details) == {'rows': '2', 'filter_action': 'test.evil'}
    page = app.get('/admin/audit', params={'action': 'test.evil'})
    assert 'format=csv' in page.html.find('a', string='Export as CSV')['href']
