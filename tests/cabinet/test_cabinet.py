"""The cabinet: a summary the Chief Minister sends to the cabinet becomes a proposed
item; the Cabinet Wing schedules a meeting, calls members, orders the agenda, adds an
annexure and issues the papers (one PDF read back: outline, pages, page numbers); the
decisions are recorded and the Chief Secretary signs the minutes (pyHanko and pdfsig);
each decision goes for implementation, a department reports on it and the Chief
Secretary's dashboard counts it; public decisions; who sees what (members only
their meetings and nothing else; secret papers before the meeting); hostile input.

One app (a copy of the demo) for the module: the tests build on each other's
meetings only where they say so.
"""
import datetime
import io
import re

import pytest
import transaction
from pypdf import PdfReader

from kp_workspace.populate import DEMO_PIN, letter_pdf
from tests.conftest import Browser, close_app, confirm, copy_demo, make_app, token_getter
from tests.test_signing import PDFSIG, CERTUTIL, pdfsig  # noqa: F401

WING, SECRETARY, CS, CM = 'so.cabinet', 'secretary.cabinet', 'cs', 'cm'
MEMBERS = ('minister.finance', 'minister.education')
NOT_CALLED = 'adviser.it'
TODAY = datetime.datetime.now(datetime.timezone.utc).date()


@pytest.fixture(scope='module')
def world(tmp_path_factory, demo_template):
    var = copy_demo(demo_template, tmp_path_factory.mktemp('cabinet') / 'var')
    wsgi = make_app(var, **{'kp_workspace.indexer': 'off', 'kp_workspace.login_delay_ms': '1',
                            'kp_workspace.login_max_delay_ms': '2'})
    app = Browser(wsgi, extra_environ={'REMOTE_ADDR': '10.30.0.1'})
    yield wsgi, app, token_getter(app)
    transaction.abort()
    close_app(wsgi)


def call(world, login, method, path, status=200, **body):
    _wsgi, app, tokens = world
    kw = {'params': body} if method.endswith('json') else {}
    return app.api(method, path, tokens(login), status=status, **kw)


def summary_for_cabinet(world, subject, department='finance', so='so.finance',
                        secretary='secretary.finance', decision='for_cabinet',
                        classification='routine'):
    """A summary of ``department`` put up to the CM and decided ``decision``: its id."""
    sid = call(world, so, 'post_json', f'/api/v1/departments/{department}/summaries', 201,
               subject=subject, background='The background of the matter.',
               classification=classification,
               proposal='The proposal.', decision_sought='Approval of the cabinet.').json['id']
    act = f'/api/v1/summaries/{sid}/actions'
    call(world, so, 'post_json', f'{act}/submit', to_post=f'secretary-{department}'
         if department != 'higher-education' else 'secretary-hed')
    call(world, secretary, 'post_json', f'{act}/put_up', to_post='chief-minister')
    decided = call(world, CM, 'post_json', f'{act}/decide', decision=decision,
                   remarks='Place it before the Cabinet.', pin=DEMO_PIN).json
    assert decided['decision'] == decision and decided['state'] == 'decided'
    return sid


def schedule(world, login=WING, date=TODAY, secret=False, status=201):
    return call(world, login, 'post_json', '/api/v1/cabinet/meetings', status,
                date=date.isoformat(), place='Cabinet Room, Civil Secretariat, Peshawar',
                secret=secret).json


def act(world, login, meeting, action, status=200, **body):
    return call(world, login, 'post_json',
                f'/api/v1/cabinet/meetings/{meeting}/actions/{action}', status, **body).json


def annex(world, meeting, item, login=WING, data=None, status=303):
    """Add a PDF annexure through the browser form (CSRF and all)."""
    _wsgi, _app, _tokens = world
    browser = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.9'})
    browser.login(login)
    page = browser.get(f'/cabinet/meetings/{meeting}')
    form = [f for f in page.forms.values() if f.action.endswith('/annexure')][0]
    form['item'] = str(item)
    form['title'] = 'Cost estimates'
    form['file'] = ('estimates.pdf', data or letter_pdf('Planning & Development',
                                                        'P&D/2026/1', 'Cost estimates'))
    return form.submit(status=status)


@pytest.fixture(scope='module')
def signed_meeting(world):
    """The journey: two summaries to the cabinet, a meeting with both, an annexure,
    the papers issued, decisions recorded, the minutes signed."""
    first = summary_for_cabinet(world, 'Establishment of a provincial health card scheme')
    second = summary_for_cabinet(world, 'Creation of a university at Swat', 'higher-education',
                                 'so.hed', 'secretary.hed')
    proposed = call(world, WING, 'get', '/api/v1/cabinet/proposed').json['items']
    assert {first, second} <= {p['summary'] for p in proposed}
    meeting = schedule(world)
    mid = meeting['id']
    assert meeting['state'] == 'scheduled' and meeting['items'] == []
    act(world, WING, mid, 'members', members=list(MEMBERS))
    act(world, WING, mid, 'agenda', items=[second, first])
    got = act(world, WING, mid, 'agenda', items=[first, second])   # (reordered)
    assert [i['summary'] for i in got['items']] == [first, second]
    annex(world, mid, 2)
    issued = act(world, WING, mid, 'issue')
    assert issued['state'] == 'issued' and issued['papers_pages'] > 4
    return {'id': mid, 'first': first, 'second': second}


def test_the_papers_are_one_pdf_with_bookmarks_and_page_numbers(world, signed_meeting):
    mid = signed_meeting['id']
    data = call(world, WING, 'get', f'/api/v1/cabinet/meetings/{mid}/papers').body
    reader = PdfReader(io.BytesIO(data))
    total = len(reader.pages)
    outline = reader.outline
    titles = [o.title for o in outline if not isinstance(o, list)]
    assert titles == ['Cover', 'Agenda',
                      'Item 1: Establishment of a provincial health card scheme',
                      'Item 2: Creation of a university at Swat']
    children = [o for o in outline if isinstance(o, list)]
    assert [c.title for c in children[0]] == [children[0][0].title]
    assert children[0][0].title.startswith('Summary FD/S/')
    assert [c.title for c in children[1]][1] == 'Annexure A: Cost estimates'
    # the items start where the agenda says, and every page is numbered
    item_pages = [reader.get_destination_page_number(o) for o in outline
                  if not isinstance(o, list)][2:]
    agenda = reader.pages[1].extract_text()
    assert 'AGENDA' in agenda
    for n, page in enumerate(item_pages, 1):
        assert re.search(rf'\b{n}\b.*\b{page + 1}\b', agenda, re.S)
    for n, page in enumerate(reader.pages, 1):
        assert f'page {n} of {total}' in page.extract_text()
    assert 'SUMMARY FOR THE CHIEF MINISTER' in reader.pages[item_pages[0]].extract_text()
    assert 'Cost estimates' in reader.pages[-1].extract_text()


def test_the_agenda_cannot_change_after_the_papers_are_issued(world, signed_meeting):
    mid = signed_meeting['id']
    for action, body in (('agenda', {'items': [signed_meeting['first']]}),
                         ('members', {'members': [MEMBERS[0]]}), ('issue', {})):
        res = act(world, WING, mid, action, 409, **body)
        assert 'issued' in res['error']
    # (the form is gone; a post of it anyway)
    browser = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.8'})
    browser.login(WING)
    res = browser.post(f'/cabinet/meetings/{mid}/annexure',
                       {'csrf_token': browser.csrf(), 'item': '1', 'title': 'Late'},
                       upload_files=[('file', 'late.pdf', letter_pdf('A', 'B', 'C'))],
                       status=409)
    assert 'issued' in res.text


def test_decisions_then_the_minutes_signed_by_the_chief_secretary(world, signed_meeting,
                                                                  tmp_path, demo_responder):
    # (demo_responder: the OCSP responder the demo's certificates name, which pdfsig asks)
    mid = signed_meeting['id']
    # no minutes before every item has a decision
    assert 'no decision' in act(world, CS, mid, 'sign', 409, pin=DEMO_PIN)['error']
    due = (TODAY + datetime.timedelta(days=60)).isoformat()
    act(world, WING, mid, 'decide', item=1, text='Approved. The scheme starts in July.',
        departments=['finance'], due=due, public=True)
    got = act(world, WING, mid, 'decide', item=2, text='Deferred for a feasibility study.',
              departments=['higher-education', 'finance'], due=due, public=False)
    assert got['items'][1]['decision']['departments'] == ['higher-education', 'finance']
    # decisions only on items of this meeting; only the Cabinet Wing records them
    assert act(world, WING, mid, 'decide', 404, item=3, text='No such item.',
               departments=['finance'], due=due)
    act(world, CS, mid, 'decide', 403, item=1, text='Not mine to record.',
        departments=['finance'], due=due)
    # only the Chief Secretary signs; a wrong PIN changes nothing
    act(world, SECRETARY, mid, 'sign', 403, pin=DEMO_PIN)
    act(world, CS, mid, 'sign', 403, pin='000000')
    signed = act(world, CS, mid, 'sign', pin=DEMO_PIN)
    assert signed['state'] == 'signed' and signed['signed_by'] == CS
    assert act(world, CS, mid, 'sign', 409, pin=DEMO_PIN)['error']
    act(world, WING, mid, 'decide', 409, item=1, text='Too late.', departments=['finance'],
        due=due)
    pdf = call(world, CS, 'get', f'/api/v1/cabinet/meetings/{mid}/minutes').body
    assert 'Deferred for a feasibility study' in ''.join(
        p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    result = world[1].post('/api/v1/verify', upload_files=[('file', 'm.pdf', pdf)]).json
    (signature,) = result['signatures']
    assert result['valid'] and signature['signer_login'] == CS and signature['intact']
    # pdfsig, trusting the workspace CA
    if not (PDFSIG and CERTUTIL):
        pytest.fail('pdfsig and certutil are needed')
    import subprocess
    ca = tmp_path / 'ca.pem'
    ca.write_bytes(world[1].get('/ca.pem').body)
    db = tmp_path / 'nss'
    db.mkdir()
    subprocess.run([CERTUTIL, '-N', '-d', f'sql:{db}', '--empty-password'], check=True)
    subprocess.run([CERTUTIL, '-A', '-d', f'sql:{db}', '-n', 'kpw-ca', '-t', 'CT,C,C', '-i',
                    str(ca)], check=True)
    out = pdfsig(db, pdf, tmp_path)
    assert 'Signature is Valid' in out and 'Certificate is Trusted' in out
    # each decision to each department concerned
    meeting = call(world, CS, 'get', f'/api/v1/cabinet/meetings/{mid}').json
    assert meeting['items'][1]['decision']['sent'] == ['higher-education', 'finance']
    # each department concerned has it in its implementation list, with the due date
    for login, subjects in (('so.hed', ['Creation of a university at Swat']),
                            ('so.finance', ['Establishment of a provincial health card '
                                            'scheme', 'Creation of a university at Swat'])):
        listed = call(world, login, 'get', '/api/v1/implementation').text
        assert all(s in listed for s in subjects) and due in listed, login
    # Higher Education reports; the Chief Secretary's dashboard counts it in progress
    _wsgi, app, tokens = world
    (swat,) = [i for i in app.api('get', '/api/v1/implementation', tokens('so.hed')).json[
        'items'] if i['subject'] == 'Creation of a university at Swat']
    row = re.compile(r'>Higher Education Department</a></td>\s*'   # (awaiting, in progress)
                     r'<td>(\d+)</td>\s*<td>(\d+)</td>')
    cs = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.8'})
    cs.login(CS)
    assert row.search(cs.get('/implementation/dashboard').text).groups() == ('1', '0')
    reported = app.api('post_json', f'/api/v1/implementation/{swat["id"]}/reports',
                       tokens('so.hed'), status=201,
                       params={'status': 'in_progress',
                               'note': 'The feasibility study is commissioned.'}).json
    assert reported['status'] == 'in_progress'
    assert row.search(cs.get('/implementation/dashboard').text).groups() == ('0', '1')


def test_public_decisions_only_after_signing_and_only_those_marked(world, signed_meeting):
    # (after the test above: the meeting's minutes are signed)
    anonymous = Browser(world[0])
    got = anonymous.get('/api/v1/public/cabinet/decisions').json
    subjects = [d['subject'] for d in got['items']]
    assert 'Establishment of a provincial health card scheme' in subjects
    assert 'Creation of a university at Swat' not in subjects   # not public
    page = anonymous.get('/public/cabinet/decisions')
    assert 'The scheme starts in July' in page.text and 'feasibility' not in page.text
    assert 'papers' not in ' '.join(str(d) for d in got['items'])
    # the papers stay private
    anonymous.get(f'/cabinet/meetings/{signed_meeting["id"]}/papers.pdf', status=303)
    anonymous.get(f'/api/v1/cabinet/meetings/{signed_meeting["id"]}/papers', status=401)


def test_a_decided_meeting_not_signed_is_not_public(world):
    sid = summary_for_cabinet(world, 'Revision of the provincial sports policy', 'sports',
                              'so.sports', 'secretary.sports')
    mid = schedule(world)['id']
    act(world, WING, mid, 'members', members=[MEMBERS[0]])
    act(world, WING, mid, 'agenda', items=[sid])
    act(world, WING, mid, 'issue')
    act(world, WING, mid, 'decide', item=1, text='Approved as proposed.',
        departments=['sports'], due=DUE, public=True)
    got = Browser(world[0]).get('/api/v1/public/cabinet/decisions').json
    assert 'Revision of the provincial sports policy' not in [d['subject']
                                                              for d in got['items']]


def test_members_see_only_their_meetings_and_nothing_else(world, signed_meeting):
    mid = signed_meeting['id']
    member = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.2'})
    member.login(MEMBERS[0])
    assert member.get('/').headers['Location'].endswith('/cabinet')
    page = member.get('/cabinet')
    assert f'/cabinet/meetings/{mid}' in page.text
    assert 'Inbox' not in page.text and 'Search' not in page.text
    member.get(f'/cabinet/meetings/{mid}/papers.pdf')
    # nothing of the workspace: files, summaries, search, departments, inbox, alerts
    summary = signed_meeting['first']
    for path in ('/inbox', '/search?q=pension', '/departments/finance', f'/summaries/{summary}',
                 '/files/nosuchfile', '/alerts', '/receipts', '/charges'):
        assert member.get(path, status='*').status_int in (403, 404), path
    token = world[2](MEMBERS[0])
    for path in ('/api/v1/inbox', '/api/v1/search?q=pension', f'/api/v1/summaries/{summary}',
                 '/api/v1/departments/finance/files', '/api/v1/posts', '/api/v1/alerts',
                 '/api/v1/cabinet/proposed'):
        assert world[1].api('get', path, token, status='*').status_int in (403, 404), path
    assert world[1].api('get', '/api/v1/me', token).json['roles'] == ['cabinet_member']
    # a member not called: not even that the meeting exists
    outsider = world[2](NOT_CALLED)
    world[1].api('get', f'/api/v1/cabinet/meetings/{mid}', outsider, status=404)
    world[1].api('get', f'/api/v1/cabinet/meetings/{mid}/papers', outsider, status=404)
    assert world[1].api('get', '/api/v1/cabinet/meetings', outsider).json['items'] == []
    # nor an officer of a department, nor the Chief Minister
    for login in ('so.finance', 'secretary.finance', CM, 'admin'):
        world[1].api('get', f'/api/v1/cabinet/meetings/{mid}', world[2](login), status=404)
    # a member cannot prepare anything
    act(world, MEMBERS[0], mid, 'decide', 403, item=1, text='Mine.', departments=['finance'],
        due=TODAY.isoformat())
    schedule(world, MEMBERS[0], status=403)


def test_secret_papers_before_the_meeting(world):
    sid = summary_for_cabinet(world, 'Security arrangements for the provincial budget session')
    # only the Secretary Cabinet prepares a secret meeting
    schedule(world, WING, TODAY + datetime.timedelta(days=7), secret=True, status=403)
    mid = schedule(world, SECRETARY, TODAY + datetime.timedelta(days=7), secret=True)['id']
    act(world, WING, mid, 'agenda', 403, items=[sid])
    act(world, SECRETARY, mid, 'members', members=[MEMBERS[1]])
    act(world, SECRETARY, mid, 'agenda', items=[sid])
    act(world, SECRETARY, mid, 'issue')
    papers = f'/api/v1/cabinet/meetings/{mid}/papers'
    assert call(world, MEMBERS[1], 'get', papers).body.startswith(b'%PDF-')
    assert call(world, SECRETARY, 'get', papers).body.startswith(b'%PDF-')
    # the Section Officer (Cabinet) and the Chief Secretary: the meeting, not its papers
    for login in (WING, CS):
        seen = call(world, login, 'get', f'/api/v1/cabinet/meetings/{mid}').json
        assert seen['secret'] and not seen['papers_open'] and seen['items'] == []
        call(world, login, 'get', papers, 403)
    for login in (MEMBERS[0], 'so.finance', CM):
        call(world, login, 'get', papers, 404)
    # decisions wait for the meeting
    act(world, SECRETARY, mid, 'decide', 409, item=1, text='Too early.',
        departments=['finance'], due=(TODAY + datetime.timedelta(days=30)).isoformat())
    # after its date: as any other meeting (written as held a week ago)
    from kp_workspace.site import ROOT_KEY
    db = world[0].registry._zodb_databases['']
    with db.transaction() as conn:
        conn.root()[ROOT_KEY].cabinet.meeting(mid).date = TODAY - datetime.timedelta(days=1)
    call(world, WING, 'get', papers)


def test_hostile_input(world, signed_meeting):
    mid = signed_meeting['id']
    fresh = schedule(world)['id']
    for body in ({'date': 'yesterday', 'place': 'x'}, {'date': '1999-01-01', 'place': 'Room'},
                 {'date': TODAY.isoformat(), 'place': ''}, {'date': 5, 'place': 'Room'}):
        call(world, WING, 'post_json', '/api/v1/cabinet/meetings', 400, **body)
    act(world, WING, fresh, 'members', 400, members=['so.finance'])      # not a member
    act(world, WING, fresh, 'members', 400, members='minister.finance')  # not a list
    act(world, WING, fresh, 'agenda', 400, items=['nosuchsummary'])
    act(world, WING, fresh, 'agenda', 409, items=[signed_meeting['first']])  # on another
    act(world, WING, fresh, 'issue', 409)                                # nothing on it
    act(world, WING, fresh, 'explode', 404)
    for bad in ('../1', 'nosuch', '99999'):
        call(world, WING, 'get', f'/api/v1/cabinet/meetings/{bad}', 404)
    # a decision with bad values
    due = TODAY.isoformat()
    for body in ({'item': 'one'}, {'item': 1, 'text': '', 'departments': ['finance']},
                 {'item': 1, 'text': 'ok ok', 'departments': ['nowhere'], 'due': due},
                 {'item': 1, 'text': 'ok ok', 'departments': ['finance'], 'due': '2020-01-01'}):
        res = call(world, WING, 'post_json', f'/api/v1/cabinet/meetings/{mid}/actions/decide',
                   '*', **body)
        assert res.status_int in (400, 409), body
    # a forged form (no CSRF token) changes nothing
    browser = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.5'})
    browser.login(WING)
    res = browser.post(f'/cabinet/meetings/{fresh}/issue', {}, status='*')
    assert res.status_int in (400, 403)
    res = browser.post('/cabinet/meetings', {'date': TODAY.isoformat(), 'place': 'x'},
                       status='*')
    assert res.status_int in (400, 403)
    # an annexure that is not a PDF
    sid = summary_for_cabinet(world, 'Annual development programme 2027-28')
    act(world, WING, fresh, 'agenda', items=[sid])
    res = annex(world, fresh, 1, data=b'MZ not a pdf at all', status='*')
    assert res.status_int in (400, 415) and 'PDF' in res.text


def test_the_cabinet_pages_in_the_browser(world):
    """The Cabinet Wing's page lists the proposed items and schedules; the meeting page
    sets the members and the agenda; everything on the audit log."""
    sid = summary_for_cabinet(world, 'Grant for flood relief in District Swat')
    browser = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.6'})
    browser.login(WING)
    page = browser.get('/cabinet')
    assert 'Grant for flood relief in District Swat' in page.text
    form = [f for f in page.forms.values() if f.action.endswith('/cabinet/meetings')][0]
    form['date'] = TODAY.isoformat()
    form['place'] = 'Chief Minister House'
    page = form.submit(status=303).follow()
    form = [f for f in page.forms.values() if f.action.endswith('/members')][0]
    for field in form.fields['members']:
        field.checked = field._value == MEMBERS[0]
    page = form.submit(status=303).follow()
    form = [f for f in page.forms.values() if f.action.endswith('/agenda')][0]
    form[f'position-{sid}'] = '1'
    page = form.submit(status=303).follow()
    assert 'Grant for flood relief in District Swat' in page.text
    # issuing cannot be undone: the page asks first
    asked = [f for f in page.forms.values() if f.action.endswith('/issue')][0].submit(
        status=200)
    assert 'cannot change after' in asked.text
    assert browser.get(page.request.url).text.count('papers.pdf') == 0   # (not yet)
    page = confirm(asked).follow()
    assert 'papers.pdf' in page.text
    from kp_workspace.audit import ROOT_KEY
    conn = world[0].registry._zodb_databases['audit'].open()
    try:
        entries, _cursor = conn.root()[ROOT_KEY].page(limit=30)
        actions = {e.action for e in entries}
    finally:
        conn.transaction_manager.abort()
        conn.close()
    assert {'cabinet.meeting_scheduled', 'cabinet.members_called', 'cabinet.agenda_set',
            'cabinet.papers_issued', 'cabinet.item_proposed'} <= actions


def test_step_23_adds_the_cabinet_to_an_older_database(tmp_path, demo_template):
    from kp_workspace import evolve
    from tests.conftest import set_generation

    var = copy_demo(demo_template, tmp_path / 'var')

    def as_release_22(site):
        del site.cabinet
    set_generation(var, 22, as_release_22)
    wsgi = make_app(var, **{'kp_workspace.indexer': 'off'})
    try:
        assert wsgi.registry.kpw_generations == (22, evolve.GENERATION)
        browser = Browser(wsgi)
        token = browser.token(WING)
        assert browser.api('get', '/api/v1/cabinet/meetings', token).json['items'] == []
    finally:
        close_app(wsgi)


def test_the_demo_has_a_meeting_with_two_items_and_signed_minutes(world):
    from kp_workspace.populate import DEMO_CABINET_SUMMARIES, DEMO_MEMBERS
    meeting = call(world, DEMO_MEMBERS[0], 'get', '/api/v1/cabinet/meetings/1').json
    assert meeting['state'] == 'signed' and meeting['signed_by'] == CS
    assert [i['subject'] for i in meeting['items']] == [s for s, _d, _p in
                                                        DEMO_CABINET_SUMMARIES]
    assert [m['login'] for m in meeting['members']] == list(DEMO_MEMBERS)
    public = Browser(world[0]).get('/api/v1/public/cabinet/decisions').json['items']
    assert DEMO_CABINET_SUMMARIES[0][0] in [d['subject'] for d in public]
    assert DEMO_CABINET_SUMMARIES[1][0] not in [d['subject'] for d in public]
    call(world, NOT_CALLED, 'get', '/api/v1/cabinet/meetings/1', 404)


# --- the reviewer's findings ------------------------------------------------------------------

DUE = (TODAY + datetime.timedelta(days=30)).isoformat()


def issued_meeting(world, subject, decide=True, login=WING, **summary):
    """A meeting today with one item (a new summary), its papers issued and (``decide``)
    its decision recorded: ``(meeting id, summary id)``."""
    sid = summary_for_cabinet(world, subject, **summary)
    mid = schedule(world, login)['id']
    act(world, login, mid, 'members', members=[MEMBERS[0]])
    act(world, login, mid, 'agenda', items=[sid])
    act(world, login, mid, 'issue')
    if decide:
        act(world, login, mid, 'decide', item=1, text='Approved as proposed.',
            departments=['finance'], due=DUE)
    return mid, sid


def test_a_pin_that_is_not_text_is_refused_plainly(world):
    mid, _sid = issued_meeting(world, 'Revision of the rates of stamp duty')
    for pin in (123456, True, ['246810'], {'pin': DEMO_PIN}, 1.5):
        res = act(world, CS, mid, 'sign', 400, pin=pin)
        assert 'PIN' in res['error'], pin
    assert call(world, CS, 'get', f'/api/v1/cabinet/meetings/{mid}').json['state'] == 'issued'
    assert act(world, CS, mid, 'sign', pin=DEMO_PIN)['state'] == 'signed'


def test_a_classified_summary_goes_only_on_a_secret_meeting_and_is_never_public(world):
    subject = 'Procurement of equipment for the counter-terrorism department'
    sid = summary_for_cabinet(world, subject, classification='secret')
    # the Section Officer (Cabinet) does not see it among the proposed items at all
    listed = call(world, WING, 'get', '/api/v1/cabinet/proposed').json['items']
    assert sid not in [p['summary'] for p in listed]
    wing = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.11'})
    wing.login(WING)
    assert subject not in wing.get('/cabinet').text
    # the Secretary Cabinet does, classified
    (found,) = [p for p in call(world, SECRETARY, 'get', '/api/v1/cabinet/proposed').json[
        'items'] if p['summary'] == sid]
    assert found['subject'] == subject and found['classification'] == 'secret'
    # not on a meeting that is not secret
    open_meeting = schedule(world, SECRETARY)['id']
    res = act(world, SECRETARY, open_meeting, 'agenda', 409, items=[sid])
    assert 'secret meeting' in res['error']
    act(world, WING, open_meeting, 'agenda', 409, items=[sid])
    # on a secret one (held today)
    mid = schedule(world, SECRETARY, secret=True)['id']
    act(world, SECRETARY, mid, 'members', members=[MEMBERS[0]])
    got = act(world, SECRETARY, mid, 'agenda', items=[sid])
    assert got['items'][0]['classification'] == 'secret'
    act(world, SECRETARY, mid, 'issue')
    # the papers say so: on the agenda and at the head of the summary's pages
    reader = PdfReader(io.BytesIO(call(world, SECRETARY, 'get',
                                       f'/api/v1/cabinet/meetings/{mid}/papers').body))
    assert '[SECRET]' in reader.pages[1].extract_text()
    assert all('SECRET · item 1' in page.extract_text() for page in reader.pages[2:])
    # its decision can never be public
    res = act(world, SECRETARY, mid, 'decide', 409, item=1, text='Approved.',
              departments=['finance'], due=DUE, public=True)
    assert 'public' in res['error']
    act(world, SECRETARY, mid, 'decide', item=1, text='Approved.', departments=['finance'],
        due=DUE, public=False)
    act(world, CS, mid, 'sign', pin=DEMO_PIN)
    public = Browser(world[0]).get('/api/v1/public/cabinet/decisions').json['items']
    assert subject not in [d['subject'] for d in public]


def test_a_secret_meeting_s_agenda_does_not_leak_before_it_meets(world):
    from kp_workspace.audit import ROOT_KEY
    sid = summary_for_cabinet(world, 'Relocation of the provincial data centre')
    mid = schedule(world, SECRETARY, TODAY + datetime.timedelta(days=5), secret=True)['id']
    act(world, SECRETARY, mid, 'members', members=list(MEMBERS))
    act(world, SECRETARY, mid, 'agenda', items=[sid])
    annex(world, mid, 1, login=SECRETARY)
    # the Section Officer (Cabinet) trying the item elsewhere is not told which meeting
    other = schedule(world)['id']
    res = act(world, WING, other, 'agenda', 409, items=[sid])
    assert 'another meeting' in res['error'] and f'No. {mid}' not in res['error']
    res = act(world, SECRETARY, other, 'agenda', 409, items=[sid])   # (she may know)
    assert f'No. {mid}' in res['error']
    act(world, SECRETARY, mid, 'issue')
    # number, date and place only: not how many items, nor who is called
    for login in (WING, CS):
        seen = call(world, login, 'get', f'/api/v1/cabinet/meetings/{mid}').json
        assert 'items_count' not in seen and seen['members'] == [], login
        (listed,) = [m for m in call(world, login, 'get', '/api/v1/cabinet/meetings').json[
            'items'] if m['id'] == mid]
        assert 'items_count' not in listed
    page = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.12'})
    page.login(WING)
    text = page.get(f'/cabinet/meetings/{mid}').text
    assert 'Members called' not in text and 'Minister' not in text
    assert call(world, SECRETARY, 'get', f'/api/v1/cabinet/meetings/{mid}').json[
        'items_count'] == 1
    # the audit log names neither its items' subjects nor its annexures' titles
    conn = world[0].registry._zodb_databases['audit'].open()
    try:
        entries, _cursor = conn.root()[ROOT_KEY].page(limit=50)
        mine = [e for e in entries if e.target == f'meeting:{mid}']
    finally:
        conn.transaction_manager.abort()
        conn.close()
    assert {'cabinet.agenda_set', 'cabinet.annexure_added'} <= {e.action for e in mine}
    for entry in mine:
        assert 'Cost estimates' not in entry.details_text()
        assert 'data centre' not in entry.details_text()


def test_a_decision_is_due_after_the_day_it_is_recorded(world):
    mid, _sid = issued_meeting(world, 'Amendment of the provincial motor vehicles rules',
                               decide=False)
    for due in (TODAY, TODAY - datetime.timedelta(days=1)):
        res = act(world, WING, mid, 'decide', 400, item=1, text='Approved as proposed.',
                  departments=['finance'], due=due.isoformat())
        assert 'after today' in res['error'], due
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    got = act(world, WING, mid, 'decide', item=1, text='Approved as proposed.',
              departments=['finance'], due=tomorrow)
    assert got['items'][0]['decision']['due'] == tomorrow


def test_who_may_is_checked_before_what_is_sent(world):
    mid, _sid = issued_meeting(world, 'Regularisation of contract teachers', decide=False)
    for login in (MEMBERS[0], CS):
        for body in ({}, {'item': 'one'}, {'item': True, 'due': 'soon'}):
            act(world, login, mid, 'decide', 403, **body)
    for body in ({}, {'item': 'one'}, {'item': True}, {'item': 1.5}):   # the Wing: 400
        assert 'whole number' in act(world, WING, mid, 'decide', 400, **body)['error']
    act(world, WING, mid, 'decide', 404, item='7', text='No such item.',
        departments=['finance'], due=DUE)
    act(world, WING, mid, 'decide', item=' 1 ', text='Approved as proposed.',
        departments=['finance'], due=DUE)


def test_the_decision_forms_wait_for_the_meeting_and_the_minutes_for_every_decision(world):
    def page_of(login, mid):
        browser = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.13'})
        browser.login(login)
        return browser.get(f'/cabinet/meetings/{mid}')

    sids = [summary_for_cabinet(world, subject) for subject in
            ('Upgrade of the district headquarters hospital at Mardan',
             'Tourism promotion policy for the northern districts')]
    later = schedule(world, date=TODAY + datetime.timedelta(days=3))['id']
    act(world, WING, later, 'members', members=[MEMBERS[0]])
    act(world, WING, later, 'agenda', items=[sids[0]])
    act(world, WING, later, 'issue')
    page = page_of(WING, later)
    assert not [f for f in page.forms.values() if f.action.endswith('/decide')]
    mid = schedule(world)['id']
    act(world, WING, mid, 'members', members=[MEMBERS[0]])
    act(world, WING, mid, 'agenda', items=[sids[1]])
    act(world, WING, mid, 'issue')
    assert [f for f in page_of(WING, mid).forms.values() if f.action.endswith('/decide')]
    page = page_of(CS, mid)
    assert 'Sign the minutes' not in page.text and 'once every item' in page.text
    act(world, WING, mid, 'decide', item=1, text='Approved as proposed.',
        departments=['finance'], due=DUE)
    assert 'Sign the minutes' in page_of(CS, mid).text


def test_only_who_may_issue_is_asked_to_confirm(world, signed_meeting):
    mid = schedule(world)['id']
    for login, status in ((CS, 403), (WING, 200)):
        browser = Browser(world[0], extra_environ={'REMOTE_ADDR': '10.30.0.14'})
        browser.login(login)
        res = browser.post(f'/cabinet/meetings/{mid}/issue', {'csrf_token': browser.csrf()},
                           status=status)
        assert ('name="confirmed"' in res.text) == (status == 200), login
    # issued already: 409 straight away
    res = browser.post(f'/cabinet/meetings/{signed_meeting["id"]}/issue',
                       {'csrf_token': browser.csrf()}, status=409)
    assert 'name="confirmed"' not in res.text
