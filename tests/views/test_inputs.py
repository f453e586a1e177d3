"""Malformed and hostile input, through the API and the browser: 400 with a message,
never a 500, and nothing changed (no file, note, attachment or draft more, no audit
entry); text stored before the rules still renders."""
import json

import pytest
import webtest

from kp_workspace.populate import DEMO_PIN  # noqa: F401  (the demo data these tests use)

UTF8_NOT = '%ff%fe'


def fingerprint(open_site, log_size):
    """Everything a refused request must leave as it was."""
    def read(site, conn):
        items = sorted(
            (i.id, i.subject, i.state, len(i.notes), len(i.movements),
             len(getattr(i, 'attachments', ())), len(getattr(i, 'drafts', ())))
            for i in site.desk.items.values())
        principals = site['principals']
        return (items, sorted((u.login, u.name) for u in principals.users.values()),
                sorted((p.post_id, p.title) for p in principals.posts.values()),
                sorted((d.__name__, d.title) for d in site['departments'].values()))
    return open_site(read), log_size()


@pytest.fixture
def unchanged(open_site, log_size):
    """Call once before and once after: asserts that the site and the audit log are
    as they were."""
    state = {}

    def check():
        now = fingerprint(open_site, log_size)
        if 'before' not in state:
            state['before'] = now
        else:
            assert now == state['before']
    return check


@pytest.fixture
def fid(app, tokens):
    res = app.api('post_json', '/api/v1/departments/finance/files', tokens('so.finance'),
                  status=201, params={'subject': 'Inputs probe file'})
    return res.json['id']


def api(app, tokens, method, path, status=400, **kw):
    return app.api(method, path, tokens('so.finance'), status=status, **kw)


def raw_post(app, path, body, content_type, status=400, headers=None):
    """POST ``body`` exactly as given (WebTest would re-encode forms and multipart)."""
    if isinstance(body, str):
        body = body.encode('utf-8')
    return app.request(path, method='POST', body=body, content_type=content_type,
                       headers=headers or {}, status=status)


def raw_json(app, tokens, path, body, content_type='application/json', status=400):
    return raw_post(app, path, body, content_type, status,
                    {'Authorization': f'Bearer {tokens("so.finance")}'})


def browser_post(app, path, body, content_type='application/x-www-form-urlencoded',
                 status=400):
    return raw_post(app, path, body, content_type, status)


# --- text that breaks pages -----------------------------------------------------------

HOSTILE_TEXT = [
    ('bad \ud800 text', 'lone surrogate'),
    ('bad \udfff text', 'lone surrogate'),
    ('nul \x00 here', 'control character (U+0000)'),
    ('bell \x07 here', 'control character (U+0007)'),
    ('escape \x1b[31m red', 'control character (U+001B)'),
    ('del \x7f here', 'control character (U+007F)'),
    ('c1 \x85 here', 'control character (U+0085)'),
    ('nonchar \uffff here', 'control character (U+FFFF)'),
]


@pytest.mark.parametrize('text,message', HOSTILE_TEXT)
def test_hostile_note_text_refused_by_api(app, tokens, fid, unchanged, text, message):
    unchanged()
    # json.dumps escapes the lone surrogate as \ud800, as a client would send it
    res = raw_json(app, tokens, f'/api/v1/files/{fid}/notes', json.dumps({'text': text}))
    assert message in res.json['error']
    unchanged()


@pytest.mark.parametrize('text,message', HOSTILE_TEXT[2:])
def test_hostile_note_text_refused_in_browser(app, tokens, fid, unchanged, text, message):
    app.login('so.finance')
    token = app.csrf()
    unchanged()
    page = app.post(f'/files/{fid}/notes', {'csrf_token': token, 'text': text}, status=400)
    assert message in page.text
    unchanged()


@pytest.mark.parametrize('field', ['subject', 'remarks'])
@pytest.mark.parametrize('char', ['\u202e', '\u2066', '\u202a', '\u200f', '\n'])
def test_direction_controls_refused_in_one_line_fields(app, tokens, fid, unchanged, field,
                                                       char):
    unchanged()
    if field == 'subject':
        res = api(app, tokens, 'post_json', '/api/v1/departments/finance/files',
                  params={'subject': f'Invoice {char}fdp.exe'})
    else:
        res = api(app, tokens, 'post_json', f'/api/v1/files/{fid}/actions/forward',
                  params={'to_post': f'secretary{char}-finance'})
    assert 'direction' in res.json['error'] or 'one line' in res.json['error']
    unchanged()


def test_direction_controls_allowed_in_a_note(app, tokens, fid):
    """A note is many lines of prose: Urdu writers use direction marks."""
    api(app, tokens, 'post_json', f'/api/v1/files/{fid}/notes', status=201,
        params={'text': 'رقم \u200f100\u200f روپے\nline two'})


def test_attachment_file_names_refused(app, tokens, fid, unchanged):
    app.login('so.finance')
    token = app.csrf()
    unchanged()
    for name in ('inv\u202eoice.pdf', 'a\x00b.pdf', 'tab\there.pdf'):
        res = api(app, tokens, 'post', f'/api/v1/files/{fid}/attachments',
                  upload_files=[('file', name, b'%PDF-1.4 whatever')])
        assert 'error' in res.json
    page = app.post(f'/files/{fid}/attachments', {'csrf_token': token},
                    upload_files=[('file', 'evil\u202egpj.exe', b'hello')], status=400)
    assert 'direction of the text' in page.text
    unchanged()


def test_names_of_people_posts_and_departments(app, unchanged):
    app.login('admin')
    unchanged()
    form = app.get('/admin/departments/+add').forms['kpw-form']
    form['name'], form['title'], form['code'] = 'evil', 'Evil \u202eDept', 'EV'
    res = form.submit('create_department', status=400)
    assert 'direction of the text' in res.text
    form = app.get('/admin/users/+add').forms['kpw-form']
    form['login'], form['name'] = 'mallory', 'Mal\u2067lory'
    form['password'] = form['password-confirm'] = 'a-long-enough-password-2026'
    res = form.submit('create_user', status=400)
    assert 'direction of the text' in res.text
    form = app.get('/admin/posts/+add').forms['kpw-form']
    form['post_id'], form['title'] = 'evil-post', 'Evil \x00 post'
    res = form.submit('create_post', status=400)
    assert 'control character' in res.text
    unchanged()


def test_wrong_types_in_json(app, tokens, fid, unchanged):
    unchanged()
    for path, body in (
            ('/api/v1/departments/finance/files', {'subject': ['a', 'b']}),
            ('/api/v1/departments/finance/files', {'subject': 'Typed', 'classification': ['x']}),
            ('/api/v1/departments/finance/files', {'subject': 'Typed', 'priority': {'a': 1}}),
            ('/api/v1/departments/finance/files', {'subject': 'Typed', 'post': ['x']}),
            (f'/api/v1/files/{fid}/notes', {'text': 12}),
            (f'/api/v1/files/{fid}/notes', {'text': None}),
            (f'/api/v1/files/{fid}/actions/forward', {'to_post': ['secretary-finance']}),
            (f'/api/v1/files/{fid}/actions/forward',
             {'to_post': 'secretary-finance', 'remarks': {'x': 1}}),
            (f'/api/v1/files/{fid}/drafts', {'kind': 'letter', 'subject': 'S', 'body': ['b']}),
            ('/api/v1/auth/token', {'login': ['so.finance'], 'password': 'x'})):
        res = api(app, tokens, 'post_json', path, params=body)
        assert res.json['error'], path
    unchanged()


def test_every_field_has_a_length_limit(app, tokens, fid, unchanged):
    unchanged()
    for path, body in (
            ('/api/v1/departments/finance/files', {'subject': 'x' * 301}),
            (f'/api/v1/files/{fid}/notes', {'text': 'x' * 20001}),
            (f'/api/v1/files/{fid}/actions/forward',
             {'to_post': 'secretary-finance', 'remarks': 'x' * 2001}),
            (f'/api/v1/files/{fid}/drafts',
             {'kind': 'letter', 'subject': 'S', 'body': 'b', 'addressees': 'x' * 5001}),
            ('/api/v1/departments/finance/summaries',
             {'subject': 'Sum', 'background': 'b', 'proposal': 'p', 'decision_sought': 'd',
              'financial_implications': 'x' * 20001}),
            (f'/api/v1/files/{fid}/notes', {'text': 'x' * 200001})):
        res = api(app, tokens, 'post_json', path, params=body)
        assert 'too long' in res.json['error'], path
    res = api(app, tokens, 'get', '/api/v1/search', params={'q': 'x' * 501})
    assert 'too long' in res.json['error']
    unchanged()


# --- malformed requests ----------------------------------------------------------------

def test_json_that_is_not_one_object(app, tokens, fid, unchanged):
    unchanged()
    path = f'/api/v1/files/{fid}/notes'
    for body in ('["text"]', '"text"', '12', 'null', '{"text": NaN}', '{"text": Infinity}',
                 '{"text": "x"', '{"text": "x"} trailing', ''):
        if not body:
            continue
        res = raw_json(app, tokens, path, body)
        assert 'The body must be a JSON object' in res.json['error'], body
    res = raw_json(app, tokens, path, b'{"text": "\xff\xfe"}')
    assert 'UTF-8' in res.json['error']
    unchanged()


@pytest.mark.parametrize('depth', [21, 1000, 100000])
def test_deeply_nested_json(app, tokens, fid, unchanged, depth):
    unchanged()
    body = '{"text": "x", "a": ' + '[' * depth + ']' * depth + '}'
    res = raw_json(app, tokens, f'/api/v1/files/{fid}/notes', body)
    assert 'nests too deep' in res.json['error']
    unchanged()


def test_moderate_nesting_and_brackets_in_strings_are_fine(app, tokens, fid):
    body = json.dumps({'text': '[[[[{{{{' * 50, 'a': [[[[1]]]]})
    raw_json(app, tokens, f'/api/v1/files/{fid}/notes', body, status=201)


@pytest.mark.parametrize('charset', ['klingon', 'latin-1', 'utf-16', '"x"'])
def test_charsets_other_than_utf8(app, tokens, fid, unchanged, charset):
    app.login('so.finance')
    token = app.csrf()
    unchanged()
    res = raw_json(app, tokens, f'/api/v1/files/{fid}/notes', '{"text": "hello"}',
                   content_type=f'application/json; charset={charset}')
    assert 'Send text as UTF-8' in res.json['error']
    page = browser_post(app, f'/files/{fid}/notes', f'csrf_token={token}&text=hello',
                        content_type=f'application/x-www-form-urlencoded; charset={charset}')
    assert 'Send text as UTF-8' in page.text
    unchanged()


def test_utf8_charset_is_accepted(app, tokens, fid):
    raw_json(app, tokens, f'/api/v1/files/{fid}/notes', '{"text": "hello"}',
             content_type='application/json; charset=UTF-8', status=201)


@pytest.mark.parametrize('path', ['/api/v1/files/%ff', '/api/v1/files/%c0%af',
                                  '/api/v1/files/a%00b', '/api/v1/%ed%a0%80'])
def test_paths_that_are_not_utf8_api(app, tokens, unchanged, path):
    tokens('so.finance')
    unchanged()
    res = api(app, tokens, 'get', path)
    assert 'This address is not valid' in res.json['error']
    unchanged()


@pytest.mark.parametrize('path', ['/files/%ff', '/files/%ff/notes', '/%ff%fe',
                                  '/departments/fin%00ance'])
def test_paths_that_are_not_utf8_browser(app, wsgi_app, unchanged, path):
    app.login('so.finance')
    unchanged()
    # (WebTest's cookie jar cannot read such an address: the cookie goes by hand)
    cookie = '; '.join(f'{k}={v}' for k, v in app.cookies.items())
    page = webtest.TestApp(wsgi_app).get(path, headers={'Cookie': cookie}, status=400)
    assert 'Sign out' in page.text or 'Ayesha Khan' in page.text
    assert 'This address is not valid' in page.text
    assert 'KP Digital Workspace' in page.text  # the whole page, with its layout
    unchanged()


@pytest.mark.parametrize('query', ['q=%ff%fe', 'q=%ed%a0%80', '%ff=1', 'q=a%00b',
                                   'q=%1b%5b31m'])
def test_query_strings_that_are_not_text(app, tokens, query):
    res = api(app, tokens, 'get', '/api/v1/search?' + query)
    assert 'query string is not valid' in res.json['error'] or \
        'control character' in res.json['error']
    app.login('so.finance')
    page = app.get('/search?' + query, status=400)
    assert 'The request could not be understood' in page.text
    app.get('/login?came_from=%ff', status=400)


@pytest.mark.parametrize('params,message', [
    ({'offset': '1e26'}, '"offset" must be a whole number'),
    ({'offset': '-5'}, '"offset" must be a whole number'),
    ({'offset': 'NaN'}, '"offset" must be a whole number'),
    ({'offset': '9' * 30}, '"offset" must be a whole number'),
    ({'offset': '١٢'}, '"offset" must be a whole number'),
    ({'offset': '1_000'}, '"offset" must be a whole number'),
    ({'limit': '0'}, '"limit" must be a whole number from 1 to 200'),
    ({'limit': '9' * 30}, '"limit" must be a whole number from 1 to 200'),
    ({'limit': '201'}, '"limit" must be a whole number from 1 to 200'),
])
def test_numbers_out_of_range_in_lists(app, tokens, params, message):
    res = api(app, tokens, 'get', '/api/v1/inbox', params=params)
    assert message in res.json['error']
    if 'offset' in params:
        app.login('so.finance')
        for route in ('/inbox', '/pending', '/overdue', '/sent'):
            page = app.get(route, params=params, status=400)
            assert message in page.text


@pytest.mark.parametrize('params,message', [
    ({'page': '1e26'}, '"page" must be a whole number'),
    ({'page': '0'}, '"page" must be a whole number'),
    ({'page': '9' * 20}, '"page" must be a whole number'),
    ({'from': '0001-01-01'}, '"from" must be a date between'),
    ({'to': '9999-12-31'}, '"to" must be a date between'),
    ({'from': '2026-02-30'}, '"from" must be a date like'),
    ({'from': '20261123'}, '"from" must be a date like'),
])
def test_search_numbers_and_dates(app, tokens, params, message):
    res = api(app, tokens, 'get', '/api/v1/search', params={'q': 'x', **params})
    assert message in res.json['error']
    app.login('so.finance')
    page = app.get('/search', params={'q': 'x', **params}, status=400)
    assert message in page.text


@pytest.mark.parametrize('query,status,message', [
    ('until=9999-12-31', 400, 'Give a date between 1970 and 2200'),
    ('until=0001-01-01', 400, 'Give a date between 1970 and 2200'),
    ('until=2026-13-45', 400, 'Give the date as YYYY-MM-DD'),
    ('until=%ff', 400, 'not UTF-8'),
    # a page link that was tampered with: the newest entries, and a word about the link
    ('after=1e26', 200, 'not valid'),
    ('after=' + '9' * 30, 200, 'not valid'),
])
def test_audit_filter_out_of_range(app, query, status, message):
    app.login('admin')
    page = app.get('/admin/audit?' + query, status=status)
    assert message in page.text
    app.get('/admin/audit?until=2199-12-31')
    app.get('/admin/audit?until=1970-01-01')


def test_note_numbers_in_the_address(app, tokens, fid):
    for n in ('9' * 30, '%D9%A1', '-1'):
        api(app, tokens, 'patch_json', f'/api/v1/files/{fid}/notes/{n}', status=404,
            params={'text': 'x'})
    app.login('so.finance')
    app.get(f'/files/{fid}/notes/{"9" * 30}/edit', status=404)


def test_public_notifications_position(app):
    for after in ('nan~x', 'inf~x', '1e400~x', 'x'):
        app.get('/public/notifications', params={'after': after}, status=400)


MULTIPART_CASES = [
    ('multipart/form-data', b'--x\r\nContent-Disposition: form-data; name="file"; '
     b'filename="a.txt"\r\n\r\nhello\r\n--x--\r\n', 'no multipart boundary'),
    ('multipart/form-data; boundary=xyz', b'--xyz\r\nContent-Disposition: form-data; '
     b'name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 cut',
     'cut short'),
    ('multipart/form-data; boundary=xyz', b'--xyz\r\nContent-Disposition: form-data; '
     b'name="title"\r\n\r\n\xff\xfe\r\n--xyz\r\nContent-Disposition: form-data; name="file"; '
     b'filename="a.txt"\r\n\r\nhello\r\n--xyz--\r\n', 'not UTF-8'),
    ('multipart/form-data; boundary=xyz', b'--xyz\r\nContent-Disposition: form-data; '
     b'name="file"; filename="\xff.pdf"\r\n\r\nhello\r\n--xyz--\r\n', 'not UTF-8'),
    ('multipart/form-data; boundary=xyz', b'--xyz\r\nContent-Disposition: form-data; '
     b'name="title"\r\nContent-Type: text/plain; charset=klingon\r\n\r\nhi\r\n--xyz--\r\n',
     'could not be read'),
    ('multipart/form-data; boundary=' + 'b' * 80, b'--' + b'b' * 80 + b'--\r\n',
     'no multipart boundary'),
]


@pytest.mark.parametrize('content_type,body,message', MULTIPART_CASES)
def test_malformed_multipart(app, tokens, fid, unchanged, content_type, body, message):
    app.login('so.finance')
    unchanged()
    res = raw_json(app, tokens, f'/api/v1/files/{fid}/attachments', body, content_type)
    assert message in res.json['error']
    page = browser_post(app, f'/files/{fid}/attachments', body, content_type)
    assert message in page.text
    unchanged()


@pytest.mark.parametrize('body', [b'text=%ff%fe', b'text=a%ed%a0%80b', b'text=\xff',
                                  b'te%ffxt=1'])
def test_form_bodies_that_are_not_utf8(app, fid, unchanged, body):
    app.login('so.finance')
    token = app.csrf()
    unchanged()
    page = browser_post(app, f'/files/{fid}/notes', f'csrf_token={token}&'.encode() + body)
    assert 'not UTF-8 text' in page.text
    unchanged()


def test_a_valid_upload_still_works(app, tokens, fid):
    from tests.views.test_api_attachments import pdf_bytes
    res = api(app, tokens, 'post', f'/api/v1/files/{fid}/attachments', status=201,
              params={'title': 'Quotation رسید'},
              upload_files=[('file', 'quote رسید.pdf', pdf_bytes())])
    assert res.json['content_type'] == 'application/pdf'


# --- text stored before the rules -------------------------------------------------------

def test_stored_broken_text_does_not_break_pages(app, tokens, fid, open_site):
    """A lone surrogate, a NUL and an override stored by an older release: every page
    that shows them still renders (U+FFFD in place of what cannot be encoded)."""
    def spoil(site, conn):
        item = site.desk.items[fid]
        from kp_workspace.content_types.movable import Note, now
        item.notes[1] = Note(1, 'old \ud800 note \x00 \u202e', 'so.finance', 'Ayesha \udc80',
                             'so-budget-finance', 'SO \ud800', now())
        item.subject = 'Broken \ud800 subject'
        site['principals'].users['so.finance'].name = 'Ayesha \ud800 Khan'
    open_site(spoil, commit=True)
    app.login('so.finance')
    for path in ('/', '/inbox', '/pending', '/sent', f'/files/{fid}', '/alerts',
                 f'/files/{fid}/notes/1/edit'):
        page = app.get(path)
        assert '\ufffd' in page.text or path == '/alerts', path
    data = api(app, tokens, 'get', f'/api/v1/files/{fid}', status=200).json
    assert data['subject'] == 'Broken \ufffd subject'
    assert data['notes'][0]['text'].startswith('old \ufffd note')
    api(app, tokens, 'get', '/api/v1/inbox', status=200)
    app.get(f'/files/{fid}/pdf')


def test_a_file_where_text_belongs_is_refused(app, tokens, fid, unchanged):
    """A file part in a text field reached views that read text (a 500 at sign-in, in
    the CSRF check, on an attachment's title): refused before any view."""
    res = app.post('/login', {'password': 'x'}, upload_files=[('login', 'l.txt', b'cm')],
                   status=400)
    assert 'must be text, not a file' in res.text
    app.login('so.finance')
    unchanged()
    res = app.post(f'/files/{fid}/notes', {'text': 'a note'},
                   upload_files=[('csrf_token', 't.txt', b'x')], status=400)
    assert 'must be text, not a file' in res.text
    res = api(app, tokens, 'post', f'/api/v1/files/{fid}/attachments',
              upload_files=[('file', 'a.png', b'\x89PNG\r\n\x1a\n' + b'0' * 64),
                            ('title', 't.txt', b'title')])
    assert res.json['error'] == 'The form field "title" must be text, not a file.'
    unchanged()


@pytest.mark.parametrize('multipart', [False, True])
def test_a_form_of_very_many_fields_is_refused_before_it_is_parsed(app, fid, multipart):
    app.login('so.finance')
    csrf = app.csrf()
    if multipart:
        body = '\r\n'.join(f'--b\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx'
                           for i in range(1001)) + '\r\n--b--\r\n'
        res = raw_post(app, f'/files/{fid}/notes', body, 'multipart/form-data; boundary=b')
    else:
        body = f'csrf_token={csrf}&text=x&' + '&'.join(f'f{i}=x' for i in range(1001))
        res = raw_post(app, f'/files/{fid}/notes', body, 'application/x-www-form-urlencoded')
    assert 'too many fields' in res.text or 'could not be read' in res.text
