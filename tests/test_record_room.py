"""The record room: record classes on closing, files due for weeding, weeding lists
proposed, approved with a signature and carried out, tombstones, legal holds; who may
do each; and what a destroyed file leaves (410 to the record room, 404 to others,
nothing in search)."""
import datetime
import io

from pypdf import PdfReader

from kp_workspace.populate import DEMO_PIN, RECORD_ROOM_FILES, backdate_closing
from tests.conftest import confirm
from tests.test_signing import pdfsig, nss_db  # noqa: F401 (a fixture)
from tests.views.test_files_browser import form_by_action

ROOM = '/api/v1/departments/finance'
DUE_SUBJECT, KEPT_SUBJECT = (s for s, _c in RECORD_ROOM_FILES)
YEARS = datetime.timedelta(days=4 * 365 + 1)


def api(app, tokens, login, method, path, status=200, **body):
    kw = {'params': body} if method.endswith('json') else {}
    return app.api(method, path, tokens(login), status=status, **kw)


def closed_file(app, tokens, open_site, subject, record_class='C', classification='routine',
                age=YEARS, login='so.finance', department='finance'):
    """A file of ``department`` that ``login`` opens and closes with ``record_class``,
    written as closed ``age`` ago.  :returns: its id."""
    fid = api(app, tokens, login, 'post_json', f'/api/v1/departments/{department}/files', 201,
              subject=subject, classification=classification).json['id']
    closed = api(app, tokens, login, 'post_json', f'/api/v1/files/{fid}/actions/close',
                 record_class=record_class).json
    assert closed['state'] == 'closed' and closed['record_class'] == record_class
    if age:
        open_site(lambda site, _conn: backdate_closing(site, site.desk.items[fid], age),
                  commit=True)
    return fid


def due(app, tokens, login='clerk.finance'):
    return api(app, tokens, login, 'get', f'{ROOM}/records/due').json['items']


def demo_due_id(app, tokens):
    (found,) = [f for f in due(app, tokens) if f['subject'] == DUE_SUBJECT]
    return found['id']


def every_file_operation_is_gone(app, tokens, file_id):
    """Every operation of the API on the destroyed ``file_id`` answers the record room
    410, as the OpenAPI document says it may (and anyone else 404)."""
    from kp_workspace.views.api.openapi import openapi_document
    paths = openapi_document('http://localhost')['paths']
    tried = 0
    for path, operations in paths.items():
        if not path.startswith('/api/v1/files/{id}'):
            continue
        url = path.format(id=file_id, n='1', att_id='a1', action='forward', other='x')
        for method, operation in operations.items():
            assert '410' in operation['responses'], (method, path)
            method = {'post': 'post_json', 'patch': 'patch_json'}.get(method, method)
            body = {'text': 'A note.'} if method.endswith('json') else {}
            res = api(app, tokens, 'clerk.finance', method, url, 410, **body)
            assert 'was destroyed on' in res.json['error'], (method, path)
            api(app, tokens, 'so.finance', method, url, 404, **body)
            tried += 1
    assert tried >= 12


def test_the_demo_has_a_file_due_and_one_kept(app, tokens):
    found = due(app, tokens)
    assert [f['subject'] for f in found] == [DUE_SUBJECT]
    assert found[0]['record_class'] == 'C'
    assert found[0]['weed_from'] <= datetime.date.today().isoformat()
    app.login('clerk.finance')
    home = app.get('/')
    assert 'Record room' in home.text
    page = app.get('/departments/finance/records')
    assert DUE_SUBJECT in page.text and KEPT_SUBJECT not in page.text
    assert 'No weeding list yet.' in page.text and 'No file has been destroyed.' in page.text


def test_closing_asks_for_the_record_class(app, tokens, open_site):
    fid = api(app, tokens, 'so.finance', 'post_json', f'{ROOM}/files', 201,
              subject='Leave encashment of retired officers').json['id']
    # a class that is not one is refused, and changes nothing
    res = api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/close',
              400, record_class='Z')
    assert 'record class' in res.json['error']
    assert api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json['state'] == 'open'
    # in the browser: the close form has the class, and the page says it afterwards
    app.login('so.finance')
    page = app.get(f'/files/{fid}')
    form = form_by_action(page, '/actions/close')
    assert [v for v, _t in [(o[0], o[1]) for o in form['record_class'].options]] == \
        ['', 'A', 'B', 'C']
    form['record_class'] = 'B'
    asked = form.submit()
    confirm(asked)
    page = app.get(f'/files/{fid}')
    year = datetime.date.today().year + 10
    assert 'Record class B: keep 10 years' in page.text
    assert f'may be weeded from {year}' in page.text
    data = api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json
    assert data['record_class'] == 'B' and data['weed_from'].startswith(str(year))
    assert data['legal_hold'] is None
    # reopened: no class until closed again; closed by the API without one: class A
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/reopen')
    data = api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json
    assert data['record_class'] is None and data['weed_from'] is None
    data = api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/close').json
    assert data['record_class'] == 'A' and data['weed_from'] is None


def test_weeding_proposed_signed_and_carried_out(app, tokens, open_site, audit_entries,
                                                 nss_db, tmp_path):  # noqa: F811
    first = demo_due_id(app, tokens)
    second = closed_file(app, tokens, open_site, 'Hiring of vehicles for the budget session')
    young = closed_file(app, tokens, open_site, 'Repair of the photocopier', age=None)
    assert {f['id'] for f in due(app, tokens)} == {first, second}
    # a file whose years have not passed is refused, and no list is made
    res = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/weeding-lists', 409,
              files=[first, young])
    assert 'is kept until' in res.json['error']
    wl = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/weeding-lists', 201,
             files=[first, second], remarks='Routine weeding of 2022.').json
    year = datetime.date.today().year
    assert wl['number'] == f'FD/WL/{year}/0001' and wl['state'] == 'proposed'
    assert [f['outcome'] for f in wl['files']] == [None, None]
    # on a list: no longer due, and not on a second list
    assert due(app, tokens) == []
    res = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/weeding-lists', 409,
              files=[first])
    assert f'on weeding list {wl["number"]} already' in res.json['error']
    url = f'{ROOM}/weeding-lists/{wl["id"]}'
    # nothing is destroyed before approval; the clerk may not approve
    res = api(app, tokens, 'clerk.finance', 'post_json', f'{url}/actions/carry_out', 409)
    assert 'proposed' in res.json['error']
    api(app, tokens, 'clerk.finance', 'post_json', f'{url}/actions/approve', 403, pin=DEMO_PIN)
    api(app, tokens, 'clerk.finance', 'get', f'{url}/pdf', 404)
    # a wrong PIN changes nothing but its count
    api(app, tokens, 'secretary.finance', 'post_json', f'{url}/actions/approve', 403,
        pin='000000')
    assert api(app, tokens, 'clerk.finance', 'get', url).json['state'] == 'proposed'
    approved = api(app, tokens, 'secretary.finance', 'post_json', f'{url}/actions/approve',
                   pin=DEMO_PIN).json
    assert approved['state'] == 'approved' and approved['approved_by'] == 'secretary.finance'
    assert approved['signed_pdf'] is True
    pdf = api(app, tokens, 'clerk.finance', 'get', f'{url}/pdf').body
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert 'WEEDING LIST' in text and DUE_SUBJECT[:30] in text and wl['number'] in text
    out = pdfsig(nss_db, pdf, tmp_path)
    assert 'Signature is Valid' in out and 'Certificate is Trusted' in out, out
    assert app.post('/api/v1/verify', upload_files=[('file', 'w.pdf', pdf)]).json['valid']
    # approved twice: refused
    api(app, tokens, 'secretary.finance', 'post_json', f'{url}/actions/approve', 409,
        pin=DEMO_PIN)
    done = api(app, tokens, 'clerk.finance', 'post_json', f'{url}/actions/carry_out').json
    assert done['state'] == 'weeded'
    assert [f['outcome'] for f in done['files']] == ['destroyed', 'destroyed']
    # gone: 410 to the record room, 404 to the officer who closed it
    res = api(app, tokens, 'clerk.finance', 'get', f'/api/v1/files/{first}', 410)
    assert 'was destroyed on' in res.json['error'] and wl['number'] in res.json['error']
    api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{first}', 404)
    api(app, tokens, 'secretary.hed', 'get', f'/api/v1/files/{first}', 404)
    every_file_operation_is_gone(app, tokens, first)
    tombs = api(app, tokens, 'clerk.finance', 'get', f'{ROOM}/tombstones').json['items']
    assert {t['id'] for t in tombs} == {first, second}
    tomb = [t for t in tombs if t['id'] == first][0]
    assert (tomb['subject'], tomb['record_class'], tomb['list'], tomb['approved_by'],
            tomb['destroyed_by']) == (DUE_SUBJECT, 'C', wl['number'], 'secretary.finance',
                                      'clerk.finance')
    entries = audit_entries(40)
    destroyed = [e for e in entries if e.action == 'file.destroyed']
    assert len(destroyed) == 2
    assert {dict(e.details)['number'] for e in destroyed} == {t['number'] for t in tombs}
    for action in ('weeding.proposed', 'weeding.approved', 'weeding.carried_out'):
        assert action in [e.action for e in entries]
    # the search finds nothing of them any more
    app.indexed()
    found = api(app, tokens, 'clerk.finance', 'get', '/api/v1/search?q=vehicles').json
    assert found['total'] == 0
    # the department's count of closed files follows
    counts = open_site(lambda site, _conn: site.desk.count('finance', 'file', 'closed'))
    assert counts == 2   # the demo's class B file and the photocopier
    # a carried out list cannot run again
    api(app, tokens, 'clerk.finance', 'post_json', f'{url}/actions/carry_out', 409)


def test_a_legal_hold_blocks_weeding(app, tokens, open_site):
    fid = demo_due_id(app, tokens)
    number = api(app, tokens, 'clerk.finance', 'get', f'{ROOM}/records/due').json[
        'items'][0]['number']
    placed = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/holds', 201,
                 number=number, reason='Writ petition 1234/2026, Peshawar High Court').json
    assert placed == {'placed': [fid], 'already': []}
    assert due(app, tokens) == []
    res = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/weeding-lists', 409,
              files=[fid])
    assert 'under a legal hold' in res.json['error']
    data = api(app, tokens, 'clerk.finance', 'get', f'/api/v1/files/{fid}').json
    assert data['legal_hold']['reason'].startswith('Writ petition')
    # only an approver lifts it
    api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/holds/{fid}/lift', 403,
        reason='Case decided')
    api(app, tokens, 'secretary.finance', 'post_json', f'{ROOM}/holds/{fid}/lift',
        reason='Case decided')
    assert [f['id'] for f in due(app, tokens)] == [fid]
    # a hold placed after the approval keeps the file when the list is carried out
    other = closed_file(app, tokens, open_site, 'Audit objections of 2021 settled')
    wl = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/weeding-lists', 201,
             files=[fid, other]).json
    url = f'{ROOM}/weeding-lists/{wl["id"]}'
    api(app, tokens, 'secretary.finance', 'post_json', f'{url}/actions/approve', pin=DEMO_PIN)
    api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/holds', 201, files=[other],
        reason='Inquiry by the Anti-Corruption Establishment')
    done = api(app, tokens, 'clerk.finance', 'post_json', f'{url}/actions/carry_out').json
    assert {f['id']: f['outcome'] for f in done['files']} == {fid: 'destroyed',
                                                               other: 'held'}
    assert api(app, tokens, 'clerk.finance', 'get', f'/api/v1/files/{other}').json[
        'state'] == 'closed'
    holds = api(app, tokens, 'clerk.finance', 'get', f'{ROOM}/holds').json['items']
    assert [h['file'] for h in holds] == [other]


def test_a_hold_by_search_covers_every_file_found(app, tokens, open_site):
    ids = [closed_file(app, tokens, open_site, f'Tender for stationery, lot {n}', age=None)
           for n in (1, 2)]
    app.indexed()
    res = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/holds', 201,
              query='stationery', reason='Audit of the stationery tenders').json
    assert sorted(res['placed']) == sorted(ids)
    again = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/holds', 201,
                query='stationery', reason='Audit of the stationery tenders').json
    assert again['placed'] == [] and sorted(again['already']) == sorted(ids)
    res = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/holds', 400,
              query='nothingmatchesthis', reason='Audit')
    assert 'nothing was held' in res.json['error']


def test_a_rejected_list_frees_its_files_and_the_proposer_may_not_approve(app, tokens,
                                                                         open_site):
    # the Secretary's own confidential file: the records clerk may not open it
    fid = closed_file(app, tokens, open_site, 'Inquiry against a cashier', login='secretary.finance',
                      classification='confidential')
    assert fid not in [f['id'] for f in due(app, tokens)]
    assert fid in [f['id'] for f in due(app, tokens, 'secretary.finance')]
    res = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/weeding-lists', 400,
              files=[fid])
    assert 'you may not open it' in res.json['error']
    wl = api(app, tokens, 'secretary.finance', 'post_json', f'{ROOM}/weeding-lists', 201,
             files=[fid]).json
    url = f'{ROOM}/weeding-lists/{wl["id"]}'
    res = api(app, tokens, 'secretary.finance', 'post_json', f'{url}/actions/approve', 409,
              pin=DEMO_PIN)
    assert 'another approver' in res.json['error']
    api(app, tokens, 'clerk.finance', 'post_json', f'{url}/actions/reject', 403,
        reason='Not yet')
    api(app, tokens, 'secretary.finance', 'post_json', f'{url}/actions/reject', 400,
        reason='')
    rejected = api(app, tokens, 'secretary.finance', 'post_json', f'{url}/actions/reject',
                   reason='The audit of 2022 is pending').json
    assert rejected['state'] == 'rejected' and rejected['reason'].startswith('The audit')
    assert fid in [f['id'] for f in due(app, tokens, 'secretary.finance')]
    # the clerk sees the list, but not the confidential file's subject
    seen = api(app, tokens, 'clerk.finance', 'get', url).json
    assert seen['files'][0]['subject'] is None
    assert api(app, tokens, 'secretary.finance', 'get', url).json['files'][0]['subject'] == \
        'Inquiry against a cashier'


def test_a_file_reopened_after_approval_is_kept(app, tokens):
    fid = demo_due_id(app, tokens)
    wl = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/weeding-lists', 201,
             files=[fid]).json
    url = f'{ROOM}/weeding-lists/{wl["id"]}'
    api(app, tokens, 'secretary.finance', 'post_json', f'{url}/actions/approve', pin=DEMO_PIN)
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/reopen')
    done = api(app, tokens, 'clerk.finance', 'post_json', f'{url}/actions/carry_out').json
    assert done['files'][0]['outcome'] == 'reopened'
    assert api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json['state'] == 'open'


def test_who_may_enter_the_record_room(app, tokens):
    for login in ('so.finance', 'diary.finance', 'admin', 'secretary.hed'):
        api(app, tokens, login, 'get', f'{ROOM}/records/due', 403)
        api(app, tokens, login, 'get', f'{ROOM}/weeding-lists', 403)
        api(app, tokens, login, 'post_json', f'{ROOM}/holds', 403, number='x', reason='xyz')
        app.login(login)
        app.get('/departments/finance/records', status=403)
        assert '/departments/finance/records' not in app.get('/').maybe_follow().text
        app.reset()
    api(app, tokens, 'clerk.finance', 'get', '/api/v1/departments/nowhere/records/due', 404)
    api(app, tokens, 'clerk.finance', 'get', f'{ROOM}/weeding-lists/2026-9999', 404)
    # an approver enters; sees the due list of the files they may open (here none)
    assert api(app, tokens, 'secretary.finance', 'get', f'{ROOM}/records/due').json == {
        'items': [], 'more': False}
    api(app, tokens, 'secretary.finance', 'get', f'{ROOM}/tombstones')


def test_the_journey_in_the_browser(app, other, tokens, open_site):
    fid = demo_due_id(app, tokens)
    app.login('clerk.finance')
    page = app.get('/departments/finance/records')
    form = form_by_action(page, '/records/lists')
    form['remarks'] = 'Weeding of 2022'
    listed = form.submit(status=303).follow()
    assert 'proposed, awaiting approval' in listed.text and DUE_SUBJECT in listed.text
    assert 'Approve and sign' not in listed.text   # (not the clerk's to approve)
    other.login('secretary.finance')
    page = other.get(listed.request.path)
    form = form_by_action(page, '/approve')
    form['pin'] = '999999'
    wrong = form.submit(status=403)
    assert 'PIN' in wrong.text
    form = form_by_action(other.get(listed.request.path), '/approve')
    form['pin'] = DEMO_PIN
    page = form.submit(status=303).follow()
    assert 'approved and signed' in page.text.lower() and 'The signed weeding list' in page.text
    # the clerk carries it out, after saying yes
    page = app.get(listed.request.path)
    asked = form_by_action(page, '/carry_out').submit()
    assert 'Yes, destroy the files' in asked.text
    assert app.get(f'/files/{fid}').status_int == 200   # (not yet)
    done = confirm(asked).follow()
    assert 'carried out: 1 file(s) destroyed, 0 kept' in done.text
    res = app.get(f'/files/{fid}', status=410)
    assert 'was destroyed on' in res.text
    room = app.get('/departments/finance/records')
    assert DUE_SUBJECT in room.text and 'No file has been destroyed.' not in room.text
    # a forged form post (no CSRF token) changes nothing: the same form, with a real file's
    # number, is refused only for its missing token
    kept = open_site(lambda site, _conn: [i.number for i in site.desk.items.values()
                                          if i.subject == KEPT_SUBJECT][0])
    form = {'number': kept, 'reason': 'Writ petition 77/2026'}
    app.post('/departments/finance/records/holds', form, status=400)
    assert api(app, tokens, 'clerk.finance', 'get', f'{ROOM}/holds').json['items'] == []
    app.post('/departments/finance/records/holds', {**form, 'csrf_token': app.csrf()},
             status=303)
    assert [h['number'] for h in api(app, tokens, 'clerk.finance', 'get',
                                     f'{ROOM}/holds').json['items']] == [kept]


def test_script_in_a_hold_reason_is_shown_as_text(app, tokens):
    fid = demo_due_id(app, tokens)
    api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/holds', 201, files=[fid],
        reason='<script>alert(1)</script>')
    app.login('clerk.finance')
    page = app.get('/departments/finance/records')
    assert '<script>alert(1)</script>' not in page.text
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in page.text



def test_lists_of_two_departments_do_not_mix(app, tokens, open_site):
    finance = demo_due_id(app, tokens)
    sports = closed_file(app, tokens, open_site, 'Sports gala 2021 accounts',
                         login='secretary.sports', department='sports')
    ours = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/weeding-lists', 201,
               files=[finance]).json
    theirs = api(app, tokens, 'secretary.sports', 'post_json',
                 '/api/v1/departments/sports/weeding-lists', 201, files=[sports]).json
    year = datetime.date.today().year
    assert (ours['number'], theirs['number']) == (f'FD/WL/{year}/0001', f'SPD/WL/{year}/0001')
    assert ours['id'] != theirs['id']
    listed = api(app, tokens, 'clerk.finance', 'get', f'{ROOM}/weeding-lists').json['items']
    assert [w['id'] for w in listed] == [ours['id']]
    api(app, tokens, 'clerk.finance', 'get', f'{ROOM}/weeding-lists/{theirs["id"]}', 404)
    api(app, tokens, 'secretary.sports', 'get',
        f'/api/v1/departments/sports/weeding-lists/{ours["id"]}', 404)


def test_a_letter_put_in_the_file_goes_with_it(app, tokens, open_site, audit_entries):
    (letter, *_others) = api(app, tokens, 'so.finance', 'get', '/api/v1/receipts').json['items']
    done = api(app, tokens, 'so.finance', 'post_json',
               f'/api/v1/receipts/{letter["id"]}/actions/open_file',
               subject='Arrears of retired teachers').json
    fid = done['file_id']
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/close',
        record_class='C')
    open_site(lambda site, _conn: backdate_closing(site, site.desk.items[fid], YEARS),
              commit=True)
    # a hold by search finds the file by its letter's words (not the receipt itself)
    word = letter['subject'].split()[-1]   # ("quarter", "Swat": in no other demo item)
    app.indexed()
    held = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/holds', 201,
               query=word, reason='Checking the holds').json
    assert held['placed'] == [fid]
    api(app, tokens, 'secretary.finance', 'post_json', f'{ROOM}/holds/{fid}/lift',
        reason='Only a check')
    assert api(app, tokens, 'diary.finance', 'get', f'/api/v1/search?q={word}').json[
        'total'] >= 1   # (the letter, in the diary's search until it goes)
    wl = api(app, tokens, 'clerk.finance', 'post_json', f'{ROOM}/weeding-lists', 201,
             files=[fid]).json
    url = f'{ROOM}/weeding-lists/{wl["id"]}'
    api(app, tokens, 'secretary.finance', 'post_json', f'{url}/actions/approve', pin=DEMO_PIN)
    api(app, tokens, 'clerk.finance', 'post_json', f'{url}/actions/carry_out')
    # the letter (its scan was the file's correspondence) is gone from the dak too
    api(app, tokens, 'diary.finance', 'get', f'/api/v1/receipts/{letter["id"]}', 404)
    register = api(app, tokens, 'diary.finance', 'get',
                   '/api/v1/departments/finance/receipts').json['items']
    assert letter['id'] not in [r['id'] for r in register]
    (entry,) = [e for e in audit_entries(30) if e.action == 'file.destroyed']
    assert dict(entry.details)['letters'] == done['number']
    app.indexed()
    assert api(app, tokens, 'diary.finance', 'get', f'/api/v1/search?q={word}').json[
        'total'] == 0


def test_a_file_that_published_a_notification_is_kept(app, tokens, open_site):
    from tests.test_signing import sign_demo
    fid, _draft, _signed, _pdf = sign_demo(app, tokens)
    api(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{fid}/actions/close',
        record_class='C')
    open_site(lambda site, _conn: backdate_closing(site, site.desk.items[fid], YEARS),
              commit=True)
    assert fid not in [f['id'] for f in due(app, tokens, 'secretary.finance')]
    res = api(app, tokens, 'secretary.finance', 'post_json', f'{ROOM}/weeding-lists', 409,
              files=[fid])
    assert 'published a notification' in res.json['error']


def test_the_signed_pdf_of_a_list_with_a_secret_file_is_the_approvers_only(open_site):
    from kp_workspace.access import Officer
    from kp_workspace.recordroom import ListEntry, WeedingList, may_read_pdf

    def check(site, _conn):
        entries = [ListEntry('f1', 'FD/2020/0001', 'A secret matter', 'secret', 'C',
                             datetime.datetime(2021, 1, 1))]
        wlist = WeedingList('finance-2026-0099', 'FD/WL/2026/0099', 'finance', entries, '',
                            'secretary.finance', 'Imran Yousafzai',
                            datetime.datetime(2026, 1, 1))
        users = site['principals'].users
        return {login: may_read_pdf(Officer(users[login], site, None), wlist)
                for login in ('clerk.finance', 'secretary.finance', 'secretary.hed')}
    assert open_site(check) == {'clerk.finance': False, 'secretary.finance': True,
                                'secretary.hed': False}
