"""The dak: the diary registers a letter, marks it, the officer puts it in a file or
opens one on it, or sends it back; the register, its filters and its export; who may."""
import csv
import io

import pytest

from tests.conftest import confirm
from tests.views.test_api_attachments import pdf_bytes

LETTER = {'sender': 'Accountant General, KP', 'subject': 'Pension arrears of retired teachers',
          'mode': 'post', 'reference': 'AG/PEN/2026/114', 'letter_date': '2026-11-30'}


def register(app, tokens, login='diary.finance', status=201, dept='finance', upload=None,
             **fields):
    params = dict(LETTER, **fields)
    files = [('file', 'letter.pdf', pdf_bytes())] if upload is None else upload
    return app.api('post', f'/api/v1/departments/{dept}/receipts', tokens(login),
                   status=status, params=params, upload_files=files)


def act(app, tokens, login, rid, action, status=200, **params):
    return app.api('post_json', f'/api/v1/receipts/{rid}/actions/{action}', tokens(login),
                   status=status, params=params)


def test_a_letter_goes_from_the_diary_into_a_file_with_its_diary_number(app, tokens):
    waiting = app.api('get', '/api/v1/receipts', tokens('so.finance')).json['total']
    made = register(app, tokens).json
    assert made['number'].startswith('FD/D/') and made['state'] == 'diary'
    assert made['holder']['id'] == 'diary-finance' and made['actions'] == ['mark']
    assert made['letter']['content_type'] == 'application/pdf'
    rid = made['id']
    # the officer cannot see it before it is marked to them
    app.api('get', f'/api/v1/receipts/{rid}', tokens('so.finance'), status=404)
    marked = act(app, tokens, 'diary.finance', rid, 'mark', to_post='so-budget-finance',
                 remarks='Please examine.').json
    assert marked['state'] == 'marked' and marked['holder']['id'] == 'so-budget-finance'
    # it waits in the officer's Receipts, not in the inbox
    mine = app.api('get', '/api/v1/receipts', tokens('so.finance')).json
    assert mine['items'][0]['id'] == rid and mine['total'] == waiting + 1
    inbox = app.api('get', '/api/v1/inbox', tokens('so.finance')).json
    assert rid not in [r['id'] for r in inbox['items']]
    alerts = app.api('get', '/api/v1/alerts', tokens('so.finance')).json['items']
    assert alerts[0]['item_id'] == rid and alerts[0]['kind'] == 'receipt'
    # the officer puts it into a file they hold: the scan is correspondence there
    fid = app.api('post_json', '/api/v1/departments/finance/files', tokens('so.finance'),
                  status=201, params={'subject': 'Pension arrears'}).json['id']
    done = act(app, tokens, 'so.finance', rid, 'file', file=fid).json
    assert done['state'] == 'in_file' and done['file_id'] == fid and done['actions'] == []
    casefile = app.api('get', f'/api/v1/files/{fid}', tokens('so.finance')).json
    assert [(a['diary_number'], a['flag']) for a in casefile['attachments']] == \
        [(made['number'], 'A')]
    assert app.api('get', '/api/v1/receipts', tokens('so.finance')).json['total'] == waiting
    # final: nothing more happens to it
    act(app, tokens, 'so.finance', rid, 'return', status=409, remarks='Wrong')
    lines = [(m['action'], m['from'], m['to']) for m in done['movements']]
    assert lines == [('mark', 'diary-finance', 'so-budget-finance'),
                     ('file', 'so-budget-finance', '')]
    # the diary still sees it, and where it went
    seen = app.api('get', f'/api/v1/receipts/{rid}', tokens('diary.finance')).json
    assert seen['state'] == 'in_file'


def test_an_officer_opens_a_new_file_on_a_letter_or_sends_it_back(app, tokens):
    rid = register(app, tokens).json['id']
    act(app, tokens, 'diary.finance', rid, 'mark', to_post='so-budget-finance')
    # back to the diary: a reason is required
    act(app, tokens, 'so.finance', rid, 'return', status=400)
    back = act(app, tokens, 'so.finance', rid, 'return',
               remarks='Belongs to Higher Education').json
    assert back['state'] == 'diary' and back['holder']['id'] == 'diary-finance'
    assert back['movements'][-1]['remarks'] == 'Belongs to Higher Education'
    # marked again, and this time a new file is opened on it
    act(app, tokens, 'diary.finance', rid, 'mark', to_post='so-budget-finance')
    done = act(app, tokens, 'so.finance', rid, 'open_file', subject='Pension arrears 2026').json
    casefile = app.api('get', f'/api/v1/files/{done["file_id"]}', tokens('so.finance')).json
    assert casefile['subject'] == 'Pension arrears 2026'
    assert casefile['holder']['id'] == 'so-budget-finance'
    assert casefile['attachments'][0]['diary_number'] == done['number']


def test_who_may_register_mark_and_file(app, tokens):
    # only the diary registers; an officer, a records clerk, the administrator may not
    for login in ('so.finance', 'clerk.finance', 'admin', 'secretary.finance'):
        register(app, tokens, login, status=403)
    # the Finance diary does not register for Higher Education
    register(app, tokens, dept='higher-education', status=403)
    register(app, tokens, dept='no-such-department', status=404)
    rid = register(app, tokens).json['id']
    # only the diary marks a letter it holds; nobody else even sees it
    for login in ('so.finance', 'secretary.finance', 'so.hed', 'admin', 'clerk.finance'):
        act(app, tokens, login, rid, 'mark', status=404, to_post='so-budget-finance')
    # a letter is marked within its department
    act(app, tokens, 'diary.finance', rid, 'mark', status=409, to_post='so-general-hed')
    act(app, tokens, 'diary.finance', rid, 'mark', status=400, to_post='no-such-post')
    # the diary cannot put it in a file or open one (it is with the diary, and it
    # may not attach anyway)
    act(app, tokens, 'diary.finance', rid, 'open_file', status=409)
    act(app, tokens, 'diary.finance', rid, 'mark', to_post='so-budget-finance')
    # now the diary no longer acts on it: the officer does
    act(app, tokens, 'diary.finance', rid, 'mark', status=409, to_post='secretary-finance')
    act(app, tokens, 'secretary.finance', rid, 'forward', status=404, to_post='so-budget-finance')
    # a file the officer does not hold, or cannot see, is refused
    sfid = app.api('post_json', '/api/v1/departments/finance/files', tokens('secretary.finance'),
                   status=201, params={'subject': "The Secretary's own file"}).json['id']
    act(app, tokens, 'so.finance', rid, 'file', status=404, file=sfid)
    act(app, tokens, 'so.finance', rid, 'file', status=400)
    # marked on to the Secretary, who then may act on it
    act(app, tokens, 'so.finance', rid, 'forward', to_post='secretary-finance')
    act(app, tokens, 'so.finance', rid, 'return', status=409, remarks='x')
    act(app, tokens, 'secretary.finance', rid, 'file', file=sfid)


def test_hostile_registrations_change_nothing(app, tokens):
    before = app.api('get', '/api/v1/departments/finance/receipts',
                     tokens('diary.finance')).json['items']
    register(app, tokens, status=415, upload=[('file', 'letter.pdf', b'MZ\x90\x00 not a pdf')])
    register(app, tokens, status=400, upload=[('file', 'letter.pdf', b'%PDF-1.4 broken')])
    register(app, tokens, status=400, upload=[])
    register(app, tokens, status=400, sender='')
    register(app, tokens, status=400, subject='<script>alert(1)</script>\x00')
    register(app, tokens, status=400, mode='pigeon')
    register(app, tokens, status=400, letter_date='2099-01-01')
    register(app, tokens, status=400, letter_date='31/11/2026')
    after = app.api('get', '/api/v1/departments/finance/receipts',
                    tokens('diary.finance')).json['items']
    assert after == before
    # the next letter gets the next number: none was used up by the refusals
    first = register(app, tokens).json['number']
    second = register(app, tokens).json['number']
    assert int(second.rsplit('/', 1)[1]) == int(first.rsplit('/', 1)[1]) + 1


def test_the_register_filters_and_exports(app, tokens):
    ids = {}
    for sender, mode in (('Accountant General, KP', 'post'), ('=HYPERLINK("x")', 'hand'),
                         ('Planning & Development', 'email')):
        ids[sender] = register(app, tokens, sender=sender, mode=mode).json['id']
    token = tokens('diary.finance')

    def listed(**query):
        return [r['sender'] for r in app.api(
            'get', '/api/v1/departments/finance/receipts', token, params=query).json['items']]
    assert listed()[:3] == ['Planning & Development', '=HYPERLINK("x")', 'Accountant General, KP']
    assert listed(mode='hand')[0] == '=HYPERLINK("x")'   # (then a demo letter)
    assert set(listed(mode='hand')) == {'=HYPERLINK("x")', 'Deputy Commissioner, Peshawar'}
    assert listed(q='planning')[0] == 'Planning & Development'
    assert listed(q='hyperlink') == ['=HYPERLINK("x")']
    assert listed(**{'from': '2199-01-01'}) == []
    app.api('get', '/api/v1/departments/finance/receipts', token, status=400,
            params={'state': 'lost'})
    app.api('get', '/api/v1/departments/finance/receipts', token, status=400,
            params={'from': '2026-12-31', 'to': '2026-01-01'})
    # only the diary reads the register
    app.api('get', '/api/v1/departments/finance/receipts', tokens('so.finance'), status=403)
    app.api('get', '/api/v1/departments/finance/receipts', tokens('admin'), status=403)
    # the export, in the browser: formulas are not left for a spreadsheet to run
    app.login('diary.finance')
    res = app.get('/departments/finance/diary.csv', params={'mode': 'hand', 'q': 'hyperlink'})
    assert res.content_type == 'text/csv'
    rows = list(csv.reader(io.StringIO(res.body.decode('utf-8-sig'))))
    assert rows[0][0] == 'Diary number' and len(rows) == 2
    assert rows[1][2] == '\'=HYPERLINK("x")'


def test_the_diary_in_the_browser(app, tokens):
    """Register through the form, mark, and the officer puts it in a new file."""
    app.login('diary.finance')
    page = app.get('/departments/finance/diary')
    assert 'Flood relief' in page.text   # (a demo letter)
    form = [f for f in app.get('/departments/finance/diary/new').forms.values()
            if 'sender' in f.fields][0]
    form['sender'] = 'Auditor General'
    form['subject'] = 'Audit para 14'
    form['file'] = ('para.pdf', pdf_bytes())
    res = form.submit(status=303).follow()
    assert 'Mark it to an officer' in res.text
    mark = [f for f in res.forms.values() if f.action.endswith('/actions/mark')][0]
    mark['to_post'] = 'so-budget-finance'
    res = mark.submit(status=303).follow()
    assert 'marked to Section Officer (Budget), Finance' in res.text
    register_page = app.get('/departments/finance/diary')
    assert 'Audit para 14' in register_page.text and 'Section Officer (Budget)' in register_page.text
    # a forged post changes nothing
    rid = res.request.path.rsplit('/', 1)[1]
    app.post(f'/receipts/{rid}/actions/forward', {'to_post': 'secretary-finance'}, status=400)
    assert app.api('get', f'/api/v1/receipts/{rid}', tokens('diary.finance')).json['holder'] == \
        {'id': 'so-budget-finance', 'title': 'Section Officer (Budget), Finance'}
    # the officer
    officer = type(app)(app.app)
    officer.login('so.finance')
    listed = officer.get('/receipts')
    assert 'Audit para 14' in listed.text and 'Auditor General' in listed.text
    page = officer.get(f'/receipts/{rid}')
    opening = [f for f in page.forms.values() if f.action.endswith('/actions/open_file')][0]
    assert opening['subject'].value == 'Audit para 14'
    res = opening.submit(status=303).follow()
    assert 'Audit para 14' in res.text and 'FD/D/' in res.text   # the file's page


def test_a_letter_put_in_an_existing_file_is_confirmed_first(app, tokens):
    rid = register(app, tokens).json['id']
    act(app, tokens, 'diary.finance', rid, 'mark', to_post='so-budget-finance')
    fid = app.api('post_json', '/api/v1/departments/finance/files', tokens('so.finance'),
                  status=201, params={'subject': 'Pension arrears'}).json['id']
    app.login('so.finance')
    page = app.get(f'/receipts/{rid}')
    putting = [f for f in page.forms.values() if f.action.endswith('/actions/file')][0]
    putting['file'] = fid
    asked = putting.submit(status=200)
    assert 'leaves your Receipts for good' in asked.text
    assert app.api('get', f'/api/v1/receipts/{rid}', tokens('so.finance')).json['state'] == 'marked'
    confirm(asked).follow()
    assert app.api('get', f'/api/v1/receipts/{rid}', tokens('so.finance')).json['state'] == \
        'in_file'


@pytest.mark.parametrize('login', ['so.finance', 'clerk.finance', 'admin'])
def test_only_the_diary_sees_the_register_pages(app, login):
    app.login(login)
    app.get('/departments/finance/diary', status=403)
    app.get('/departments/finance/diary/new', status=403)
    app.get('/departments/finance/diary.csv', status=403)
