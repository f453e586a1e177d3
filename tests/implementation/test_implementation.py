"""Implementation of cabinet decisions: assigning, reporting, who may, the dashboard,
overdue alerts (kp_workspace.implementation and its views)."""
import datetime

import pytest
import transaction

from tests.conftest import Browser, close_app, copy_demo, make_app

TODAY = datetime.datetime.now(datetime.timezone.utc).date()
DAY = datetime.timedelta(days=1)


@pytest.fixture(scope='module')
def world(tmp_path_factory, demo_template):
    var = copy_demo(demo_template, tmp_path_factory.mktemp('implementation') / 'var')
    wsgi = make_app(var, **{'kp_workspace.indexer': 'off', 'kp_workspace.login_delay_ms': '1',
                            'kp_workspace.login_max_delay_ms': '2'})
    yield wsgi
    transaction.abort()
    close_app(wsgi)


def run(wsgi, fn):
    """``fn(site, officer_of)`` in a transaction of its own (committed)."""
    from kp_workspace.access import Officer
    from kp_workspace.audit import Actor, ensure_audit_log
    from kp_workspace.site import ROOT_KEY
    db = wsgi.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            site = conn.root()[ROOT_KEY]
            actor = Actor('test', '127.0.0.1', ensure_audit_log(conn))

            def officer(login):
                return Officer(site['principals'].users[login], site, actor)
            return fn(site, officer)
    finally:
        conn.close()


def assign_one(wsgi, source_id, department='finance', due=None, by='cs', **kw):
    from kp_workspace.implementation import assign

    def go(site, officer):
        item = assign(site, officer(by), department=department, source_id=source_id,
                      meeting_title=kw.get('meeting_title', '5th meeting of the Cabinet'),
                      meeting_date=kw.get('meeting_date', TODAY - 10 * DAY),
                      item_number=kw.get('item_number', 2),
                      subject=kw.get('subject', 'Revision of pension rates'),
                      decision_text='The cabinet approved the proposal.',
                      due=due or TODAY + 30 * DAY)
        return item.item_id
    return run(wsgi, go)


def test_assign_is_idempotent_per_decision_and_department(world):
    first = assign_one(world, 'meeting-5/item-2')
    again = assign_one(world, 'meeting-5/item-2', subject='Something else entirely')
    other = assign_one(world, 'meeting-5/item-2', department='sports')

    def check(site, officer):
        from kp_workspace.implementation import for_decision
        book = site.implementation
        assert book.get(first).subject == 'Revision of pension rates'
        assert [i.department for i in for_decision(site, 'meeting-5/item-2')] == [
            'finance', 'sports']
        return [i.item_id for i in book.for_source('meeting-5/item-2')]
    assert first == again != other
    assert sorted(run(world, check)) == sorted([first, other])


# --- helpers -----------------------------------------------------------------------------------

def pdf_bytes(text='Compliance report'):
    from kp_workspace.populate import letter_pdf
    return letter_pdf('Finance Department', 'FD/CAB/1', text)


@pytest.fixture(scope='module')
def browsers(world):
    """``browser(login)``: a signed-in browser per login (made once)."""
    made = {}

    def browser(login):
        if login not in made:
            b = Browser(world, extra_environ={'REMOTE_ADDR': f'10.55.0.{len(made) + 1}'})
            b.login(login)
            made[login] = b
        return made[login]
    return browser


@pytest.fixture(scope='module')
def tokens(world):
    found = {}
    b = Browser(world, extra_environ={'REMOTE_ADDR': '10.56.0.1'})

    def token(login):
        if login not in found:
            found[login] = b.token(login)
        return found[login]
    token.browser = b
    return token


def post_report(browser, item_id, expect=303, files=None, **fields):
    params = {'csrf_token': browser.csrf(), 'status': 'in_progress',
              'note': 'The draft rules are with the Law Department.', **fields}
    return browser.post(f'/implementation/{item_id}/reports', params, upload_files=files,
                        status=expect)


def audit_actions(wsgi, target):
    from kp_workspace.audit import ensure_audit_log

    def go(site, officer):
        log = ensure_audit_log(site._p_jar)
        return [e.action for e in log.page(limit=1000)[0] if e.target == target]
    return run(wsgi, go)


# --- the department reports ---------------------------------------------------------------------

def test_the_secretary_sees_the_decision_and_an_officer_reports_with_an_attachment(
        world, browsers):
    item_id = assign_one(world, 'meeting-6/item-1', subject='Pension rules for teachers')
    secretary = browsers('secretary.finance')
    home = secretary.get('/')
    assert 'Cabinet decisions to implement' in home.text and 'Pension rules for teachers' in home.text
    listed = secretary.get('/implementation')
    assert f'/implementation/{item_id}' in listed.text and 'awaiting a report' in listed.text
    officer = browsers('so.finance')
    res = post_report(officer, item_id, files=[('file', 'progress.pdf', pdf_bytes())])
    page = res.follow()
    assert 'Report 1 recorded' in page.text and 'The draft rules are with the Law' in page.text
    assert f'/implementation/{item_id}/attachments/a1' in page.text
    att = officer.get(f'/implementation/{item_id}/attachments/a1')
    assert att.body.startswith(b'%PDF') and 'attachment' in att.headers['Content-Disposition']
    assert 'implementation.reported' in audit_actions(world, f'implementation:{item_id}')
    # the Chief Secretary reads it (and its attachment), but does not report
    cs = browsers('cs')
    assert 'The draft rules are with the Law' in cs.get(f'/implementation/{item_id}').text
    cs.get(f'/implementation/{item_id}/attachments/a1')
    assert 'Report on the implementation' not in cs.get(f'/implementation/{item_id}').text
    post_report(cs, item_id, expect=403)


def test_another_department_neither_sees_nor_reports(world, browsers, tokens):
    item_id = assign_one(world, 'meeting-6/item-2')
    sports = browsers('so.sports')
    missing = sports.get('/implementation/i999999', status=404)
    hidden = sports.get(f'/implementation/{item_id}', status=404)
    assert hidden.text.replace(item_id, 'i999999') == missing.text
    post_report(sports, item_id, expect=404)
    sports.get(f'/implementation/{item_id}/attachments/a1', status=404)
    token = tokens('so.sports')
    tokens.browser.api('post_json', f'/api/v1/implementation/{item_id}/reports', token,
                       status=404, params={'status': 'in_progress', 'note': 'Not ours.'})
    listed = tokens.browser.api('get', '/api/v1/implementation', token).json['items']
    assert item_id not in [i['id'] for i in listed]
    # a records clerk of Finance does not write notes: not theirs either
    post_report(browsers('clerk.finance'), item_id, expect=404)


@pytest.mark.parametrize('fields, message', [
    ({'status': 'done'}, 'Choose the status'),
    ({'status': ''}, 'Choose the status'),
    ({'status': 'not_possible'}, 'Give the reasons'),
    ({'status': 'not_possible', 'reasons': '   '}, 'Give the reasons'),
    ({'note': ''}, ''),
])
def test_a_wrong_status_missing_reasons_or_no_note_is_refused(world, browsers, fields,
                                                             message):
    item_id = assign_one(world, 'meeting-7/item-1')
    page = post_report(browsers('so.finance'), item_id, expect=400, **fields)
    assert message in page.text

    def check(site, officer):
        return len(site.implementation.get(item_id).reports)
    assert run(world, check) == 0


def test_not_possible_with_reasons_then_implemented_is_final(world, browsers, tokens):
    item_id = assign_one(world, 'meeting-7/item-2')
    officer = browsers('secretary.finance')
    post_report(officer, item_id, status='not_possible', reasons='No funds this year.')
    post_report(officer, item_id, status='implemented', note='Notified on 1 December.')
    page = post_report(officer, item_id, expect=409, note='One more thing.')
    assert 'is implemented' in page.text
    tokens.browser.api('post_json', f'/api/v1/implementation/{item_id}/reports',
                       tokens('so.finance'), status=409,
                       params={'status': 'in_progress', 'note': 'Again.'})
    data = [i for i in tokens.browser.api('get', '/api/v1/implementation',
                                          tokens('so.finance'),
                                          params={'status': 'implemented'}).json['items']
            if i['id'] == item_id][0]
    assert [r['status'] for r in data['reports']] == ['not_possible', 'implemented']
    assert data['reports'][0]['reasons'] == 'No funds this year.'
    assert data['may_report'] is False and data['status'] == 'implemented'


def test_a_report_without_the_csrf_token_is_refused(world, browsers):
    item_id = assign_one(world, 'meeting-8/item-1')
    officer = browsers('so.finance')
    officer.post(f'/implementation/{item_id}/reports',
                 {'status': 'in_progress', 'note': 'Forged.'}, status=400)
    officer.post(f'/implementation/{item_id}/reports',
                 {'csrf_token': '0' * 40, 'status': 'in_progress', 'note': 'Forged.'},
                 status=400)

    def check(site, officer):
        return len(site.implementation.get(item_id).reports)
    assert run(world, check) == 0


def test_a_fake_attachment_refuses_the_whole_report(world, browsers, tokens):
    item_id = assign_one(world, 'meeting-8/item-2')
    officer = browsers('so.finance')
    page = post_report(officer, item_id, expect=415,
                       files=[('file', 'minutes.pdf', b'MZ\x90\x00 not a pdf at all')])
    assert 'not accepted' in page.text
    post_report(officer, item_id, expect=400,
                files=[('file', 'broken.pdf', b'%PDF-1.4\n broken')])
    tokens.browser.api('post', f'/api/v1/implementation/{item_id}/reports',
                       tokens('so.finance'), status=415,
                       params={'status': 'in_progress', 'note': 'With a fake file.'},
                       upload_files=[('file', 'x.docx', b'<html>not a document</html>')])

    def check(site, officer):
        item = site.implementation.get(item_id)
        return len(item.reports), len(item.attachments)
    assert run(world, check) == (0, 0)
    # and a real one through the API (multipart)
    res = tokens.browser.api('post', f'/api/v1/implementation/{item_id}/reports',
                             tokens('so.finance'), status=201,
                             params={'status': 'in_progress', 'note': 'Scanned order.'},
                             upload_files=[('file', 'order.pdf', pdf_bytes('Order'))])
    assert res.json['reports'][0]['attachments'][0]['content_type'] == 'application/pdf'


# --- the dashboard -----------------------------------------------------------------------------

@pytest.mark.parametrize('login, status', [
    ('cs', 200), ('cm', 200), ('secretary.finance', 403), ('so.finance', 403),
    ('clerk.finance', 403), ('admin', 403)])
def test_only_the_chief_secretary_and_the_chief_minister_see_the_dashboard(
        world, browsers, login, status):
    assign_one(world, 'meeting-9/item-1', department='sports', due=TODAY - 3 * DAY,
               subject='Sports complex at Hayatabad')
    page = browsers(login).get('/implementation/dashboard', status=status)
    if status == 200:
        assert 'Sports complex at Hayatabad' in page.text     # overdue, named
        assert 'class="chart-bars"' in page.text and 'Over 6 months' in page.text
        assert '/implementation?department=sports' in page.text


def test_the_api_lists_what_each_may_see(world, tokens):
    fin = assign_one(world, 'meeting-10/item-1')
    sports = assign_one(world, 'meeting-10/item-1', department='sports')
    b = tokens.browser

    def ids(login, **params):
        return {i['id'] for i in b.api('get', '/api/v1/implementation', tokens(login),
                                       params=params).json['items']}
    assert fin in ids('so.finance') and sports not in ids('so.finance')
    assert {fin, sports} <= ids('cs', limit='200')
    assert ids('cm', department='sports', limit='200') >= {sports}
    assert fin not in ids('cm', department='sports', limit='200')
    assert ids('admin') == set() and ids('clerk.finance') == set()
    b.api('get', '/api/v1/implementation', tokens('cs'), params={'status': 'late'},
          status=400)
    res = b.api('post_json', f'/api/v1/implementation/{fin}/reports', tokens('cs'),
                status=403, params={'status': 'in_progress', 'note': 'Not the CS.'})
    assert 'department' in res.json['error']
    b.api('post_json', f'/api/v1/implementation/{fin}/reports', tokens('so.finance'),
          status=400, params={'status': 'in_progress', 'note': 7})
    done = b.api('post_json', f'/api/v1/implementation/{fin}/reports', tokens('so.finance'),
                 status=201, params={'status': 'in_progress', 'note': 'Under way.'}).json
    assert done['status'] == 'in_progress' and done['reports'][0]['by'] == 'so.finance'


# --- overdue alerts ------------------------------------------------------------------------------

def test_an_overdue_decision_alerts_the_secretary_once(world, browsers, tokens):
    item_id = assign_one(world, 'meeting-11/item-1', due=TODAY - DAY,
                         subject='Overdue decision for Higher Education',
                         department='higher-education')

    def alerts(login):
        def go(site, officer):
            box = site.alerts.box(login)
            return [a for a, _u in (box.newest(200) if box else [])
                    if a.item_id == item_id]
        return run(world, go)
    assert alerts('secretary.hed') == []
    browsers('so.hed').get('/')                     # a read raises it
    browsers('cs').get('/implementation/dashboard')
    tokens.browser.api('get', '/api/v1/implementation', tokens('secretary.hed'))
    found = alerts('secretary.hed')
    assert len(found) == 1 and found[0].kind == 'implementation_overdue'
    assert 'Overdue decision for Higher Education' in found[0].text
    assert alerts('so.hed') == []                   # the Secretary's, not the officer's
    assert audit_actions(world, f'implementation:{item_id}').count(
        'implementation.overdue_alerted') == 1
    page = browsers('secretary.hed').get('/alerts')
    assert f'/implementation/{item_id}' in page.text
    browsers('secretary.hed').get(f'/implementation/{item_id}')   # read: marked read

    def unread(site, officer):
        return site.alerts.box('secretary.hed').unread_about(item_id)
    assert run(world, unread) == []


def test_a_decision_not_yet_due_or_implemented_raises_no_alert(world, browsers):
    ahead = assign_one(world, 'meeting-12/item-1', due=TODAY, department='science-it')
    done = assign_one(world, 'meeting-12/item-2', due=TODAY + DAY, department='science-it')
    post_report(browsers('so.sit'), done, status='implemented')

    def go(site, officer):
        from kp_workspace.implementation import alert_overdue
        # the day after tomorrow: the first is overdue; the implemented one never is
        return [i.id for i in alert_overdue(site, officer('cs').actor,
                                            on=TODAY + 2 * DAY)]
    assert run(world, go) == [ahead]
    assert run(world, go) == []


def test_the_demo_reports_a_decision_in_progress(world):
    item_id = assign_one(world, 'meeting-13/item-1', department='finance')

    def go(site, officer):
        from kp_workspace.populate import demo_implementation
        item = site.implementation.get(item_id)
        first = demo_implementation(site, officer('admin').actor, item)
        again = demo_implementation(site, officer('admin').actor, item)
        return first.status, first.by, len(first.attachments), again, item.status
    assert run(world, go) == ('in_progress', 'so.finance', 1, None, 'in_progress')


# --- the rules, without the app ------------------------------------------------------------------

def _bare_site():
    from kp_workspace import evolve
    from kp_workspace.site import Site
    site = Site()
    evolve.step_1_layout(site, None)
    return site


def test_assign_refuses_what_it_cannot_take(world):
    from kp_workspace.errors import DomainError
    from kp_workspace.implementation import alert_overdue, assign, dashboard_counts
    site = _bare_site()
    with pytest.raises(DomainError, match='not up to date'):
        assign(site, None, department='finance', source_id='x', meeting_title='M',
               meeting_date=TODAY, item_number=1, subject='Subject', decision_text='D',
               due=TODAY)
    assert alert_overdue(site, None) == []
    assert dashboard_counts(site)['departments'] == []
    for wrong, field in (({'department': 'no-such'}, 'department'),
                         ({'due': TODAY.isoformat()}, 'due'),
                         ({'meeting_date': datetime.datetime.now()}, 'meeting_date'),
                         ({'subject': 'x'}, 'subject')):
        with pytest.raises(DomainError) as err:
            assign_one(world, f'meeting-14/{field}', **wrong)
        assert err.value.field == field and err.value.status == 400


def test_a_report_takes_ten_attachments_at_most(world):
    from kp_workspace.errors import DomainError
    from kp_workspace.implementation import report
    item_id = assign_one(world, 'meeting-15/item-1')

    def go(site, officer):
        item = site.implementation.get(item_id)
        with pytest.raises(DomainError, match='at most 10'):
            report(item, officer('so.finance'), 'in_progress', 'Many files.',
                   uploads=[(None, f'f{n}.pdf') for n in range(11)])
        report(item, officer('so.finance'), 'in_progress', 'First.')
        report(item, officer('so.finance'), 'in_progress', 'Second.')   # (still in progress)
        return item.status, site.implementation.count('finance', 'in_progress') >= 1
    assert run(world, go) == ('in_progress', True)


def test_the_dashboard_permission_may_come_from_a_global_role():
    from types import SimpleNamespace
    from kp_workspace.implementation import age_band, may_see_dashboard
    assert may_see_dashboard(SimpleNamespace(user=SimpleNamespace(roles=('chief_minister',)),
                                             department_roles={}))
    assert not may_see_dashboard(SimpleNamespace(user=SimpleNamespace(roles=('officer',)),
                                                 department_roles={'finance': {'approver'}}))
    assert [age_band(d) for d in (0, 30, 31, 180, 181, 5000)] == [
        (0, 30), (0, 30), (31, 90), (91, 180), (181, None), (181, None)]


def test_a_department_list_and_the_api_pages(world, browsers, tokens):
    for n in range(3):
        assign_one(world, f'meeting-16/item-{n}', department='sports',
                   subject=f'Paged decision {n}')
    cs = browsers('cs')
    assert 'Paged decision 2' in cs.get('/implementation?department=sports').text
    assert 'Implementation dashboard' in cs.get('/implementation').text
    browsers('so.finance').get('/implementation?department=sports', status=404)
    browsers('so.sports').get('/implementation/i1/attachments/a99', status=404)
    b, token = tokens.browser, tokens('so.sports')
    every = [i['id'] for i in b.api('get', '/api/v1/implementation', token,
                                    params={'limit': '200'}).json['items']]
    assert len(every) >= 3
    pages, offset = [], 0
    while True:
        page = b.api('get', '/api/v1/implementation', token,
                     params={'limit': '2', 'offset': str(offset)}).json
        pages.extend(i['id'] for i in page['items'])
        offset += 2
        if not page['more']:
            break
    assert pages == every
    across = [i['id'] for i in b.api('get', '/api/v1/implementation', tokens('cm'),
                                     params={'limit': '200'}).json['items']]
    paged = []
    for offset in range(0, len(across), 3):
        paged.extend(i['id'] for i in b.api('get', '/api/v1/implementation', tokens('cm'),
                                            params={'limit': '3', 'offset': str(offset)}
                                            ).json['items'])
    assert paged == across
