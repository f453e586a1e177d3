"""The dispatch register: issued documents dispatched by e-mail (through a real SMTP
server), by hand, by post or courier; who may; acknowledgements; the register page,
its filters and CSV; and what each user may see of it."""
import csv
import datetime
import io
import time


from kp_workspace.populate import DEMO_PIN
from tests.conftest import Browser, close_app, make_app, token_getter
from tests.views.test_files_browser import form_by_action
from tests.views.test_overdue_and_mail import smtp_server  # noqa: F401 (a fixture)

TO = ['The Accountant General, Khyber Pakhtunkhwa', 'The Director of Pensions']
COPIES = ['PS to the Chief Secretary']


def api(app, tokens, login, method, path, status=200, **params):
    kw = {'params': params} if params or method.endswith('json') else {}
    return app.api(method, path, tokens(login), status=status, **kw)


def issued_letter(app, tokens, subject='Release of pension arrears', classification='routine',
                  until='issued'):
    """A letter on a new Finance file, taken as far as ``until``: drafted by so.finance,
    put up, the file forwarded to the Secretary, approved, signed and issued.
    :returns: (file id, draft address)."""
    fid = api(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/files', 201,
              subject=f'File of {subject}', classification=classification).json['id']
    draft = api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/drafts', 201,
                kind='letter', subject=subject, body='Arrears are released.',
                addressees='\n'.join(TO), copies='\n'.join(COPIES)).json['id']
    if until != 'submit':
        api(app, tokens, 'so.finance', 'post_json', f'/api/v1/drafts/{draft}/actions/submit')
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
        to_post='secretary-finance')
    for action in ('approve', 'sign', 'issue'):
        if until in ('submit', action):
            break
        api(app, tokens, 'secretary.finance', 'post_json',
            f'/api/v1/drafts/{draft}/actions/{action}',
            **({'pin': DEMO_PIN} if action == 'sign' else {}))
    return fid, draft


def dispatch(app, tokens, login, draft, status=201, **body):
    return api(app, tokens, login, 'post_json', f'/api/v1/drafts/{draft}/dispatch', status,
               **body)


def register(app, tokens, login, status=200, **query):
    return app.api('get', '/api/v1/departments/finance/dispatch', tokens(login), status=status,
                   params=query)


def test_email_dispatch_sends_the_signed_pdf_after_commit(var_dir, smtp_server):  # noqa: F811
    port, received = smtp_server
    wsgi = make_app(var_dir, **{'mail.host': '127.0.0.1', 'mail.port': str(port),
                                'mail.default_sender': 'dispatch@kp.gov.pk.example',
                                'kp_workspace.indexer': 'off'})
    try:
        app = Browser(wsgi)
        tokens = token_getter(app)
        fid, draft = issued_letter(app, tokens)
        time.sleep(0.5)
        received.clear()   # (alerts of the moves)
        # refused: a bad address, no address -- nothing is entered, nothing is sent
        res = dispatch(app, tokens, 'secretary.finance', draft, 400, mode='email',
                       emails='ag@kp.gov.pk.example\nnot an address')
        assert '"not" is not an e-mail address' in res.json['error']
        dispatch(app, tokens, 'secretary.finance', draft, 400, mode='email', emails='')
        dispatch(app, tokens, 'secretary.finance', draft, 400, mode='email',
                 emails='a@b.example\r\nBcc: x@y.example')
        entry = dispatch(app, tokens, 'secretary.finance', draft, mode='email',
                         recipients=TO[:1],
                         emails='ag@kp.gov.pk.example, pensions@ag.kp.example').json
        year = datetime.date.today().year
        assert entry['number'] == f'FD/DS/{year}/0001' and entry['mode'] == 'email'
        assert entry['emails'] == ['ag@kp.gov.pk.example', 'pensions@ag.kp.example']
        assert [r['line'] for r in entry['recipients']] == TO[:1]
        deadline = time.time() + 20
        while not received and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        assert len(received) == 1
        message = received[0]
        assert message['To'] == 'ag@kp.gov.pk.example, pensions@ag.kp.example'
        letter = api(app, tokens, 'secretary.finance', 'get', f'/api/v1/files/{fid}').json
        number = letter['drafts'][0]['number']
        assert number in message['Subject']
        parts = [p for p in message.walk() if p.get_content_type() == 'application/pdf']
        assert len(parts) == 1
        pdf = parts[0].get_payload(decode=True)
        signed = app.api('get', f'/api/v1/drafts/{draft}/pdf', tokens('secretary.finance')).body
        assert pdf == signed and pdf.startswith(b'%PDF')
        # the next dispatch number follows
        second = dispatch(app, tokens, 'secretary.finance', draft, mode='post',
                          remarks='Registered post RL-123').json
        assert second['number'] == f'FD/DS/{year}/0002' and second['emails'] == []
        assert len(received) == 1
    finally:
        close_app(wsgi)


def test_only_an_issued_document_is_dispatched(app, tokens, log_size):
    app.login('secretary.finance')
    for until in ('submit', 'approve', 'sign', 'issue'):   # draft, pending, approved, signed
        fid, draft = issued_letter(app, tokens, subject=f'Letter stopped before {until}',
                                   until=until)
        state = api(app, tokens, 'secretary.finance', 'get',
                    f'/api/v1/files/{fid}').json['drafts'][0]['state']
        before = log_size()
        res = dispatch(app, tokens, 'secretary.finance', draft, 409, mode='by_hand')
        assert 'Only an issued document can be dispatched' in res.json['error'], state
        # and from the file page
        page = app.get(f'/files/{fid}')
        assert 'Dispatch this document' not in page.text
        res = app.post(f'/files/{fid}/drafts/d1/dispatch',
                       {'csrf_token': app.csrf(), 'mode': 'by_hand', 'recipients': TO[0]},
                       status=409)
        assert 'Only an issued document can be dispatched' in res.text
        assert log_size() >= before   # (refusals are recorded, nothing else)
    assert register(app, tokens, 'secretary.finance').json['items'] == []


def test_dispatch_by_hand_in_the_browser_and_acknowledgements(app, tokens, audit_entries):
    fid, draft = issued_letter(app, tokens)
    app.login('secretary.finance')
    page = app.get(f'/files/{fid}')
    assert 'Not dispatched yet.' in page.text
    form = form_by_action(page, f'/files/{fid}/drafts/d1/dispatch')
    # no mail server here: e-mail is refused with a clear message, nothing entered
    form['mode'] = 'email'
    form['emails'] = 'ag@kp.gov.pk.example'
    res = form.submit(status=409)
    assert 'no mail server is configured' in res.text
    form = form_by_action(app.get(f'/files/{fid}'), f'/files/{fid}/drafts/d1/dispatch')
    form['mode'] = 'by_hand'
    form['remarks'] = 'Peon book p. 12'
    for field in form.fields['recipients']:
        if field._value == TO[1]:
            field.checked = False
    page = form.submit(status=303).follow()
    assert 'Dispatched as No. FD/DS/' in page.text
    assert 'acknowledgement pending' in page.text and 'Peon book p. 12' in page.text
    entry = register(app, tokens, 'secretary.finance').json['items'][0]
    assert [r['line'] for r in entry['recipients']] == [TO[0], COPIES[0]]
    assert entry['draft'] == draft and entry['by'] == 'secretary.finance'
    assert audit_entries(5)[0].action == 'dispatch.sent'
    # a forged form is refused
    app.post(f'/files/{fid}/drafts/d1/dispatch', {'csrf_token': 'f' * 40, 'mode': 'post'},
             status=400)
    # none chosen, an unknown line, an unknown mode
    for fields, message in (({'mode': 'post'}, 'at least one'),
                            ({'mode': 'post', 'recipients': 'Someone else'}, 'not an addressee'),
                            ({'mode': 'pigeon', 'recipients': TO[0]}, 'Choose one of')):
        res = app.post(f'/files/{fid}/drafts/d1/dispatch', {'csrf_token': app.csrf(), **fields},
                       status=400)
        assert message in res.text
    # the register page, and an acknowledgement recorded there
    page = app.get('/departments/finance/dispatch')
    assert entry['number'] in page.text
    ack = form_by_action(page, f"/dispatch/{entry['id']}/acknowledgements")
    ack['recipient'] = TO[0]
    ack['remarks'] = 'Received by the diary of the AG office'
    page = ack.submit(status=303).follow()
    assert 'Acknowledgement recorded' in page.text
    assert 'Received by the diary of the AG office' in page.text
    assert audit_entries(5)[0].action == 'dispatch.acknowledged'
    # through the API: the copy; twice is refused; bad dates and lines are refused
    path = f"/api/v1/departments/finance/dispatch/{entry['id']}/acknowledgements"
    today = datetime.date.today()
    for body, status, message in (
            ({'recipient': TO[0], 'received_on': today.isoformat()}, 409, 'already'),
            ({'recipient': 'Nobody', 'received_on': today.isoformat()}, 400, 'addressee'),
            ({'recipient': COPIES[0], 'received_on': '2026-13-01'}, 400, 'YYYY-MM-DD'),
            ({'recipient': COPIES[0], 'received_on': (today + datetime.timedelta(days=2)).isoformat()},
             400, 'between'),
            ({'recipient': COPIES[0], 'received_on': '2001-01-01'}, 400, 'between')):
        res = api(app, tokens, 'secretary.finance', 'post_json', path, status, **body)
        assert message in res.json['error']
    assert len(register(app, tokens, 'secretary.finance', pending='1').json['items']) == 1
    done = api(app, tokens, 'secretary.finance', 'post_json', path,
               recipient=COPIES[0], received_on=today.isoformat(), remarks='PS office').json
    assert all(r['acknowledgement'] for r in done['recipients'])
    assert register(app, tokens, 'secretary.finance', pending='1').json['items'] == []
    assert len(register(app, tokens, 'secretary.finance', mode='by_hand').json['items']) == 1
    assert register(app, tokens, 'secretary.finance', mode='post').json['items'] == []
    register(app, tokens, 'secretary.finance', 400, mode='pigeon')
    register(app, tokens, 'secretary.finance', 400, since='2026-02-30')
    register(app, tokens, 'secretary.finance', 400, since='2026-03-02', until='2026-03-01')
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert register(app, tokens, 'secretary.finance', since=tomorrow).json['items'] == []


def test_who_may_dispatch_and_see_the_register(app, tokens):
    fid, draft = issued_letter(app, tokens)
    secret_fid, secret = issued_letter(app, tokens, subject='Confidential pension case',
                                       classification='confidential')
    # the diary and dispatch section: routine documents awaiting dispatch, not confidential
    listed = register(app, tokens, 'diary.finance').json
    assert [a['draft'] for a in listed['awaiting']] == [draft]
    dispatch(app, tokens, 'diary.finance', secret, 404, mode='by_hand')
    entry = dispatch(app, tokens, 'diary.finance', draft, mode='courier',
                     remarks='TCS 55012').json
    assert register(app, tokens, 'diary.finance').json['awaiting'] == []
    # the file's holder dispatches the confidential one
    dispatch(app, tokens, 'secretary.finance', secret, mode='by_hand')
    # a Section Officer who saw the file but no longer holds it: with another desk
    res = dispatch(app, tokens, 'so.finance', draft, 409, mode='by_hand')
    assert 'with another desk' in res.json['error']
    # officers of another department, records clerks, administrators: nothing
    dispatch(app, tokens, 'so.sports', draft, 404, mode='by_hand')
    dispatch(app, tokens, 'clerk.finance', draft, 404, mode='by_hand')
    for login in ('clerk.finance', 'admin', 'so.sports', 'cm'):
        register(app, tokens, login, 403)
    app.api('get', '/api/v1/departments/nowhere/dispatch', tokens('diary.finance'), status=404)
    # each sees only the dispatches of files they may open (the registry: routine ones)
    seen = {login: [e['document_number'] for e in register(app, tokens, login).json['items']]
            for login in ('diary.finance', 'secretary.finance', 'so.finance')}
    assert len(seen['secretary.finance']) == 2
    assert seen['diary.finance'] == [entry['document_number']]
    assert seen['so.finance'] == seen['secretary.finance']   # (in both files' chains)
    app.login('diary.finance')
    page = app.get('/departments/finance/dispatch')
    assert 'Confidential pension case' not in page.text and entry['number'] in page.text
    assert 'Confidential pension case' not in app.get(
        '/departments/finance/dispatch?format=csv').text
    # the clerk records the acknowledgement of what the registry sent
    path = f"/api/v1/departments/finance/dispatch/{entry['id']}/acknowledgements"
    api(app, tokens, 'diary.finance', 'post_json', path, recipient=TO[1],
        received_on=datetime.date.today().isoformat())
    # another department's register does not have it
    app.api('post_json', f"/api/v1/departments/sports/dispatch/{entry['id']}/acknowledgements",
            tokens('secretary.sports'), params={'recipient': TO[1]}, status=404)


def test_a_closed_files_issued_document_may_still_be_dispatched(app, tokens):
    fid, draft = issued_letter(app, tokens)
    api(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{fid}/actions/close')
    dispatch(app, tokens, 'diary.finance', draft, mode='post')
    dispatch(app, tokens, 'secretary.finance', draft, mode='by_hand', recipients=COPIES)
    assert api(app, tokens, 'secretary.finance', 'get',
               f'/api/v1/files/{fid}').json['state'] == 'closed'


def test_the_registry_dispatches_from_the_register_page_and_exports_csv(app, tokens):
    fid, draft = issued_letter(app, tokens, subject='=HYPERLINK("http://x.example")')
    app.login('diary.finance')
    page = app.get('/departments/finance/dispatch')
    assert 'Issued, awaiting dispatch' in page.text
    form = form_by_action(page, f'/files/{fid}/drafts/d1/dispatch')
    form['mode'] = 'post'
    form['remarks'] = '-1+1'
    page = form.submit(status=303).follow()
    assert 'Dispatched as No.' in page.text and 'Issued, awaiting dispatch' not in page.text
    res = app.get('/departments/finance/dispatch', {'format': 'csv', 'mode': 'post'})
    assert res.content_type == 'text/csv'
    rows = list(csv.reader(io.StringIO(res.text)))
    assert rows[0][0] == 'dispatch_no' and len(rows) == 1 + len(TO) + len(COPIES)
    assert rows[1][3] == "'=HYPERLINK(\"http://x.example\")" and rows[1][10] == "'-1+1"
    # a refusal from the register page is shown on it
    res = app.post(f'/files/{fid}/drafts/d1/dispatch',
                   {'csrf_token': app.csrf(), 'mode': 'email', 'from': 'register',
                    'emails': 'a@b.example', 'recipients': TO[0]}, status=409)
    assert 'no mail server is configured' in res.text and 'Dispatch register' in res.text
    app.get('/departments/finance/dispatch', {'since': 'yesterday'}, status=400)
