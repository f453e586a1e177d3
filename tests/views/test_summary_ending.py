"""A decided summary ends its journey: filed as received, or carried out on a new file."""
import pytest

from kp_workspace.populate import DEMO_PIN
from tests.views.test_files_browser import form_by_action

SO_POST = 'so-budget-finance'


def api(app, tokens, login, method, path, status=200, **kw):
    return app.api(method, path, tokens(login), status=status, **kw)


def decided_summary(app, tokens, subject='Revision of pension rules', **extra):
    """A finance summary taken to the Chief Minister and decided: back with so.finance."""
    sid = api(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/summaries',
              201, params={'subject': subject, 'background': 'The rules date from 1985.',
                           'proposal': 'Adopt the revised rules.', 'decision_sought': 'Approval.',
                           **extra}).json['id']
    base = f'/api/v1/summaries/{sid}/actions'
    api(app, tokens, 'so.finance', 'post_json', f'{base}/submit',
        params={'to_post': 'secretary-finance'})
    api(app, tokens, 'secretary.finance', 'post_json', f'{base}/put_up',
        params={'to_post': 'chief-minister'})
    data = api(app, tokens, 'cm', 'post_json', f'{base}/decide',
               params={'decision': 'approved_with_changes', 'remarks': 'Rs 400 million only.',
                       'pin': DEMO_PIN}).json
    assert data['state'] == 'decided' and data['holder']['id'] == SO_POST
    assert {'file_decided', 'open_implementing_file'} <= set(
        api(app, tokens, 'so.finance', 'get', f'/api/v1/summaries/{sid}').json['actions'])
    return sid


def inbox_ids(app, tokens, login='so.finance', view='inbox'):
    return [i['id'] for i in api(app, tokens, login, 'get', '/api/v1/inbox',
                                 params={'view': view}).json['items']]


def snapshot(open_site, sid):
    def read(site, conn):
        s = site.desk.items[sid]
        return (s.state, s.holder, len(s.movements), s.implementing_file, s.filed_at,
                len(site.desk.items), site.desk.held_count([SO_POST]))
    return open_site(read)


@pytest.mark.storages
def test_so_files_a_decided_summary_in_the_browser(app, tokens, audit_entries, open_site):
    sid = decided_summary(app, tokens)
    assert sid in inbox_ids(app, tokens)
    app.login('so.finance')
    page = app.get(f'/summaries/{sid}')
    assert 'Record the decision as received and file it' in page.text
    assert 'Open the implementing file' in page.text
    form = form_by_action(page, f'/summaries/{sid}/actions/file_decided')
    form['remarks'] = 'Noted; pension cell informed.'
    page = form.submit(status=303).follow()
    assert 'The decision was recorded as received and the summary filed on' in page.text
    assert 'actions/file_decided' not in page.text  # no action left
    assert 'New note' not in page.text
    # gone from every list of the desk; in the movement register; on record
    assert sid not in inbox_ids(app, tokens)
    assert sid not in inbox_ids(app, tokens, view='pending')
    assert sid not in inbox_ids(app, tokens, view='overdue')
    data = api(app, tokens, 'so.finance', 'get', f'/api/v1/summaries/{sid}').json
    assert data['state'] == 'filed' and data['filed_at'] and data['actions'] == []
    last = data['movements'][-1]
    assert last['action'] == 'filed' and last['from'] == SO_POST and last['to'] == ''
    assert last['remarks'] == 'Noted; pension cell informed.' and last['by'] == 'so.finance'
    entry = [e for e in audit_entries(20) if e.action == 'summary.filed'][0]
    assert entry.target == f'summary:{sid}'
    # everyone in its chain still reads it
    for login in ('so.finance', 'secretary.finance', 'cm'):
        api(app, tokens, login, 'get', f'/api/v1/summaries/{sid}')
    # twice: 409 and nothing changes
    before = snapshot(open_site, sid)
    res = app.post(f'/summaries/{sid}/actions/file_decided', {'csrf_token': app.csrf()},
                   status=409)
    assert 'cannot be done while it is decided and filed' in res.text
    api(app, tokens, 'so.finance', 'post_json',
        f'/api/v1/summaries/{sid}/actions/open_implementing_file', 409, params={})
    # and notes stay refused
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/summaries/{sid}/notes', 409,
        params={'text': 'After filing'})
    assert snapshot(open_site, sid) == before


@pytest.mark.storages
def test_so_opens_the_implementing_file_through_the_api(app, tokens, audit_entries, open_site):
    sid = decided_summary(app, tokens, classification='confidential', priority='urgent')
    summary = api(app, tokens, 'so.finance', 'post_json',
                  f'/api/v1/summaries/{sid}/actions/open_implementing_file',
                  params={'remarks': 'To be carried out'}).json
    assert summary['state'] == 'filed' and summary['actions'] == []
    fid = summary['implementing_file']
    assert summary['movements'][-1]['action'] == 'implementing_file'
    casefile = api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json
    assert casefile['subject'] == 'Implementation: Revision of pension rules'
    assert casefile['classification'] == 'confidential' and casefile['priority'] == 'urgent'
    assert casefile['holder']['id'] == SO_POST and casefile['state'] == 'open'
    assert casefile['implements'] == sid
    number = summary['number']
    first = casefile['notes'][0]['text']
    assert number in first and 'Approved with changes' in first and 'Rs 400 million' in first
    # the file waits in the inbox; the summary does not
    assert fid in inbox_ids(app, tokens) and sid not in inbox_ids(app, tokens)
    actions = [e.action for e in audit_entries(20)]
    assert 'summary.implementing_file' in actions and 'file.opened' in actions
    # linked both ways in the browser
    app.login('so.finance')
    page = app.get(f'/files/{fid}')
    assert 'Implements summary' in page.text and f'href="http://localhost/summaries/{sid}"' \
        in page.text
    page = app.get(f'/summaries/{sid}')
    assert 'Being implemented on file' in page.text and f'/files/{fid}"' in page.text
    before = snapshot(open_site, sid)
    api(app, tokens, 'so.finance', 'post_json',
        f'/api/v1/summaries/{sid}/actions/open_implementing_file', 409, params={})
    assert snapshot(open_site, sid) == before


@pytest.mark.storages
def test_the_implementing_file_in_the_browser(app, tokens):
    sid = decided_summary(app, tokens)
    app.login('so.finance')
    page = app.get(f'/summaries/{sid}')
    page = form_by_action(page, f'/summaries/{sid}/actions/open_implementing_file').submit(
        status=303).follow()
    link = page.html.select_one('.linked-item a')
    page = app.get(link['href'])
    assert 'Implementation: Revision of pension rules' in page.text
    assert 'Implements summary' in page.text


@pytest.mark.parametrize('login, status', [('secretary.finance', 409), ('cm', 403),
                                           ('so.sports', 404), ('clerk.finance', 404)])
@pytest.mark.parametrize('action', ['file_decided', 'open_implementing_file'])
def test_only_the_holder_ends_it(app, tokens, open_site, login, status, action):
    sid = decided_summary(app, tokens)
    before = snapshot(open_site, sid)
    api(app, tokens, login, 'post_json', f'/api/v1/summaries/{sid}/actions/{action}', status,
        params={})
    assert snapshot(open_site, sid) == before


@pytest.mark.parametrize('action', ['file_decided', 'open_implementing_file'])
def test_a_holder_without_the_role_is_refused(app, tokens, open_site, action):
    sid = decided_summary(app, tokens)

    def strip(site, conn):
        site['departments']['finance'].set_roles(f'post:{SO_POST}', ('diary_clerk',))
    open_site(strip, commit=True)
    before = snapshot(open_site, sid)
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/summaries/{sid}/actions/{action}',
        403, params={})
    assert snapshot(open_site, sid) == before


@pytest.mark.parametrize('action', ['file_decided', 'open_implementing_file'])
def test_not_before_the_decision(app, tokens, open_site, action):
    sid = api(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/summaries',
              201, params={'subject': 'Too early', 'background': 'b', 'proposal': 'p',
                           'decision_sought': 'd'}).json['id']
    before = snapshot(open_site, sid)
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/summaries/{sid}/actions/{action}',
        409, params={})
    app.login('so.finance')
    app.post(f'/summaries/{sid}/actions/{action}', {'csrf_token': app.csrf()}, status=409)
    assert snapshot(open_site, sid) == before


def test_the_openapi_document_names_the_endings(app):
    doc = app.get('/api/v1/openapi.json').json
    op = doc['paths']['/api/v1/summaries/{id}/actions/{action}']['post']
    names = [p for p in op['parameters'] if p['name'] == 'action'][0]['schema']['enum']
    assert 'file_decided' in names and 'open_implementing_file' in names
    summary = doc['components']['schemas']['Summary']
    assert 'filed' in summary['properties']['state']['enum']
    assert 'implementing_file' in summary['properties']
    assert 'implements' in doc['components']['schemas']['File']['properties']


@pytest.mark.storages
@pytest.mark.parametrize('classification, found', [('routine', True), ('secret', False)])
def test_the_records_clerk_finds_a_filed_routine_summary_only(app, tokens, classification,
                                                                found):
    sid = decided_summary(app, tokens, subject='Filed pension reform summary',
                          classification=classification)
    clerk = lambda: app.api('get', f'/api/v1/summaries/{sid}', tokens('clerk.finance'),  # noqa: E731
                            status='*')
    assert clerk().status_int == 404              # decided, not yet in the records
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/summaries/{sid}/actions/file_decided',
        params={'remarks': 'Received.'})
    app.indexed()
    assert clerk().status_int == (200 if found else 404)
    hits = api(app, tokens, 'clerk.finance', 'get', '/api/v1/search',
               params={'q': 'pension reform'}).json['items']
    assert (sid in [h['id'] for h in hits]) is found
