"""Public transparency: the notifications as an Atom feed and JSON, each department's
figures (counts only) as pages and JSON, all without signing in, in English and Urdu,
cacheable, and leaking no subject, file number, post or name.

One app for the module: files with distinctive subjects are opened (routine,
confidential, secret), one is closed, one closed and reopened, a notification is
drafted and left unissued, and the demo notification is signed and issued.
"""
import datetime
import xml.etree.ElementTree as ET

import jsonschema
import pytest
import transaction
import webtest

from kp_workspace import evolve
from kp_workspace.transparency import (AGE_BANDS, DAY, Pendency, department_figures,
                                       last_months, month_of)
from tests.conftest import (CLIENT, Browser, close_app, copy_demo, make_app, set_generation,
                            token_getter)
from tests.test_signing import sign_demo

ATOM = '{http://www.w3.org/2005/Atom}'
UTC = datetime.timezone.utc
SUBJECTS = {'routine': 'Zarghuna orchard compensation claim of Mr Qalandar Khan',
            'confidential': 'Inquiry against the Tehsildar Wazirabad quartz lease',
            'secret': 'Secret transfer of the Bannu treasury ledgers'}
CLOSED_SUBJECT = 'Closed matter of the Khattak road culvert'
REOPENED_SUBJECT = 'Reopened matter of the Mardan hostel roof'
UNISSUED = 'Unissued notification on the Swat river tolls'
FIGURES = ('/public', '/public/departments', '/public/departments/finance',
           '/api/v1/public/departments', '/api/v1/public/departments/finance')


@pytest.fixture(scope='module')
def world(tmp_path_factory, demo_template):
    var = copy_demo(demo_template, tmp_path_factory.mktemp('transparency') / 'var')
    wsgi_app = make_app(var, **{'kp_workspace.indexer': 'off'})
    app = Browser(wsgi_app, extra_environ={'REMOTE_ADDR': CLIENT})
    tokens = token_getter(app)
    before = app.get('/api/v1/public/departments/finance').json

    def api(method, path, status=200, login='so.finance', **body):
        return app.api(method, path, tokens(login), status=status, params=body).json

    files = {}
    for classification, subject in SUBJECTS.items():
        files[classification] = api('post_json', '/api/v1/departments/finance/files', 201,
                                    subject=subject, classification=classification)
    for name, subject in (('closed', CLOSED_SUBJECT), ('reopened', REOPENED_SUBJECT)):
        files[name] = api('post_json', '/api/v1/departments/finance/files', 201,
                          subject=subject)
        api('post_json', f'/api/v1/files/{files[name]["id"]}/actions/close',
            record_class='C', remarks='Settled.')
    api('post_json', f'/api/v1/files/{files["reopened"]["id"]}/actions/reopen',
        remarks='Taken up again.')
    api('post_json', f'/api/v1/files/{files["routine"]["id"]}/drafts', 201,
        kind='notification', subject=UNISSUED, body='Not to be published yet.')
    file_id, draft_id, signed, pdf = sign_demo(app, tokens)
    yield {'app': app, 'wsgi_app': wsgi_app, 'tokens': tokens, 'files': files,
           'before': before, 'notice': (file_id, draft_id, signed, pdf)}
    transaction.abort()
    close_app(wsgi_app)


def anonymous(world):
    """A new browser: no cookie, no token."""
    return webtest.TestApp(world['wsgi_app'], extra_environ={'REMOTE_ADDR': '10.1.2.3'},
                           cookiejar=None)


def served_document(world):
    return world['app'].get('/api/v1/openapi.json').json


def check_schema(document, name, value):
    """``value`` against the OpenAPI document's schema ``name`` (JSON Schema 2020-12,
    as OpenAPI 3.1 says)."""
    schema = {'$ref': f'#/components/schemas/{name}', 'components': document['components']}
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(value)


# the notifications --------------------------------------------------------------------
def test_the_atom_feed_lists_what_was_published_and_nothing_else(world):
    _file_id, draft_id, signed, pdf = world['notice']
    public = anonymous(world)
    res = public.get('/public/notifications.atom')
    assert res.content_type == 'application/atom+xml' and res.charset == 'utf-8'
    feed = ET.fromstring(res.body)
    assert feed.tag == f'{ATOM}feed'
    # RFC 4287: the feed's id, title, updated, an author and a link to itself
    assert feed.findtext(f'{ATOM}id').startswith('urn:uuid:')
    assert feed.findtext(f'{ATOM}title')
    updated = datetime.datetime.fromisoformat(feed.findtext(f'{ATOM}updated'))
    assert feed.findtext(f'{ATOM}author/{ATOM}name')
    links = {link.get('rel'): link.get('href') for link in feed.findall(f'{ATOM}link')}
    assert links['self'] == 'http://localhost/public/notifications.atom'
    assert 'next' not in links
    entries = feed.findall(f'{ATOM}entry')
    published = public.get('/api/v1/public/notifications').json['items']
    assert len(entries) == len(published) == 1
    (entry,) = entries
    assert entry.findtext(f'{ATOM}id').startswith('urn:uuid:')
    assert entry.findtext(f'{ATOM}title') == f'{signed["number"]}: {signed["subject"]}'
    assert datetime.datetime.fromisoformat(entry.findtext(f'{ATOM}updated')) == updated
    assert signed['number'] in entry.findtext(f'{ATOM}summary')
    (link,) = entry.findall(f'{ATOM}link')
    assert (link.get('rel'), link.get('type')) == ('alternate', 'application/pdf')
    assert link.get('href') == published[0]['pdf_url'] == \
        f'http://localhost/public/notifications/{draft_id}.pdf'
    assert public.get(link.get('href')).body == pdf
    # the same ids every time (a reader keeps what it has read)
    again = ET.fromstring(public.get('/public/notifications.atom').body)
    assert again.find(f'{ATOM}entry').findtext(f'{ATOM}id') == entry.findtext(f'{ATOM}id')
    # the unissued draft is nowhere; nor is the file it was drafted on
    for text in (res.text, public.get('/api/v1/public/notifications').text,
                 public.get('/public/notifications').text):
        assert UNISSUED not in text and signed['number'] in text


def test_the_feed_and_the_json_page_through_older_notifications(world, tmp_path):
    """25 more in the register: pages of 10 newest first, each with the cursor of the
    next, ending in none; the feed links its next page."""
    _file_id, draft_id, signed, _pdf = world['notice']
    db = world['wsgi_app'].registry._zodb_databases['']
    conn = db.open(transaction_manager=transaction.TransactionManager())
    try:
        from kp_workspace.site import ROOT_KEY
        notices = conn.root()[ROOT_KEY].notices
        start = datetime.datetime(2025, 1, 1, tzinfo=UTC)
        for n in range(25):
            notices.add(draft_id, start + datetime.timedelta(days=n))
        conn.transaction_manager.commit()
        public = anonymous(world)
        seen, cursor = [], None
        for _page in range(5):
            params = {'limit': '10', **({'cursor': cursor} if cursor else {})}
            page = public.get('/api/v1/public/notifications', params=params).json
            check_schema(served_document(world), 'PublicNotifications', page)
            seen.extend(item['issued_at'] for item in page['items'])
            cursor = page['next_cursor']
            if cursor is None:
                break
        assert len(seen) == 26 and page['total'] == 26
        # (the register's times; the draft itself says when it was issued)
        feed = ET.fromstring(public.get('/public/notifications.atom').body)
        assert len(feed.findall(f'{ATOM}entry')) == 26
        public.get('/api/v1/public/notifications', params={'cursor': 'nonsense!'}, status=400)
        public.get('/api/v1/public/notifications', params={'cursor': 'bm9uc2Vuc2U'}, status=400)
        public.get('/api/v1/public/notifications', params={'limit': '0'}, status=400)
        public.get('/api/v1/public/notifications', params={'offset': '3'}, status=400)
        public.get('/public/notifications.atom', params={'cursor': 'x'}, status=400)
        first = public.get('/api/v1/public/notifications', params={'limit': '10'}).json
        links = {link.get('rel'): link.get('href') for link in ET.fromstring(public.get(
            '/public/notifications.atom', params={'limit': '10'}).body).findall(f'{ATOM}link')}
        assert links.get('next', '').endswith(first['next_cursor'])
    finally:
        for n in range(25):
            notices._by_time.pop((-(start + datetime.timedelta(days=n)).timestamp(),
                                  draft_id), None)
            notices._count.change(-1)
        conn.transaction_manager.commit()
        conn.close()


def test_the_notifications_json_keeps_to_its_description(world):
    document = served_document(world)
    operation = document['paths']['/api/v1/public/notifications']['get']
    assert operation['security'] == [] and operation['tags'] == ['public']
    res = anonymous(world).get('/api/v1/public/notifications')
    check_schema(document, 'PublicNotifications', res.json)
    (item,) = res.json['items']
    assert item['department'] == 'finance' and item['department_title'] == 'Finance Department'


# department figures -----------------------------------------------------------------
def test_the_figures_count_files_of_every_classification(world):
    """Five opened (routine, confidential, secret and two more), two of them closed and
    one of those reopened: six received this month (the reopened one again), two
    disposed of, four more pending, all under a week."""
    before, document = world['before'], served_document(world)
    res = anonymous(world).get('/api/v1/public/departments/finance')
    check_schema(document, 'DepartmentFigures', res.json)
    now, was = res.json, before
    assert now['pending'] == was['pending'] + 4
    assert (now['months'][-1]['received'], now['months'][-1]['disposed']) == \
        (was['months'][-1]['received'] + 6, was['months'][-1]['disposed'] + 2)
    assert now['months'][-1]['pending_at_end'] == now['pending']
    assert now['age_bands'][0]['count'] == was['age_bands'][0]['count'] + 4
    assert sum(b['count'] for b in now['age_bands']) == now['pending']
    assert [b['band'] for b in now['age_bands']] == [b[0] for b in AGE_BANDS]
    assert len(now['months']) == 12 and now['months'][-1]['month'] == month_of(
        datetime.datetime.now(UTC))
    listing = anonymous(world).get('/api/v1/public/departments').json
    check_schema(document, 'PublicDepartments', listing)
    finance = [d for d in listing['items'] if d['id'] == 'finance'][0]
    assert (finance['pending'], finance['received_this_month'],
            finance['disposed_this_month']) == (now['pending'], now['months'][-1]['received'],
                                                now['months'][-1]['disposed'])
    for path in ('/api/v1/public/departments', '/api/v1/public/departments/{department_id}'):
        assert document['paths'][path]['get']['security'] == []


def test_no_public_answer_names_a_file_a_post_or_a_person(world):
    """The bytes of every public figure, in both languages, against every subject,
    number, post title and user name there is (those that are part of a department's
    name, "Chief Minister" in "Chief Minister's Secretariat", excepted)."""
    def secrets(site, conn):
        found = set()
        for item in site.desk.items.values():
            found.update({item.subject, item.number})
        departments = [d.title for d in site['departments'].values()] + \
            [d.title_ur for d in site['departments'].values() if d.title_ur]
        for post in site['principals'].posts.values():
            found.update({post.title, getattr(post, 'title_ur', '')})
        for user in site['principals'].users.values():
            found.update({user.name, user.login} if '.' in user.login else {user.name})
        return {w for w in found if w and not any(w in d for d in departments)}
    db = world['wsgi_app'].registry._zodb_databases['']
    conn = db.open(transaction_manager=transaction.TransactionManager())
    try:
        from kp_workspace.site import ROOT_KEY
        words = secrets(conn.root()[ROOT_KEY], conn)
    finally:
        conn.transaction_manager.abort()
        conn.close()
    assert set(SUBJECTS.values()) <= words and 'Imran Yousafzai' in words
    assert any('Section Officer' in w for w in words)
    for language in ('en', 'ur'):
        public = anonymous(world)
        for path in FIGURES:
            body = public.get(path, headers={'Accept-Language': language}).body
            leaked = [w for w in words if w.encode() in body]
            assert not leaked, (path, language, leaked)
    # the notifications: the notification's own number and subject, not its file's
    files = world['files']
    for path in ('/public/notifications', '/public/notifications.atom',
                 '/api/v1/public/notifications'):
        body = anonymous(world).get(path).body
        for f in files.values():
            assert f['number'].encode() not in body
        assert b'Imran Yousafzai' not in body


def test_the_department_pages_in_english_and_urdu(world):
    public = anonymous(world)
    page = public.get('/public/departments')
    assert 'Pendency of files by department' in page.text and 'Finance Department' in page.text
    page = page.click('Finance Department')
    assert page.request.path == '/public/departments/finance'
    assert 'chart-fill' in page.text and '<svg' in page.text
    assert 'Up to 7 days' in page.text and 'Pending at the month' in page.text
    urdu = public.get('/public/departments/finance', headers={'Accept-Language': 'ur'})
    assert 'dir="rtl"' in urdu.text and 'lang="ur"' in urdu.text
    assert 'محکمہ خزانہ' in urdu.text
    chosen = webtest.TestApp(world['wsgi_app'])
    chosen.set_cookie('kpw_locale', 'ur')
    listing = chosen.get('/public/departments')
    assert 'dir="rtl"' in listing.text and 'محکمہ خزانہ' in listing.text
    # the language cookie alone is no session: still public
    assert 'public' in listing.headers['Cache-Control']
    index = public.get('/public')
    for href in ('/public/notifications"', '/public/notifications.atom"',
                 '/api/v1/public/notifications"', '/public/departments"',
                 '/public/cabinet/decisions"', '/verify"'):
        assert href in index.text, href
    public.get('/public/departments/no-such-department', status=404)
    error = public.get('/api/v1/public/departments/no-such-department', status=404)
    check_schema(served_document(world), 'Error', error.json)


def test_public_answers_are_cacheable_signed_out_and_private_signed_in(world):
    public = anonymous(world)
    for path in (*FIGURES, '/public/notifications', '/public/notifications.atom',
                 '/api/v1/public/notifications', '/public/cabinet/decisions',
                 '/api/v1/public/cabinet/decisions'):
        res = public.get(path)
        assert 'Set-Cookie' not in res.headers, path
        assert res.headers['Cache-Control'] == 'public, max-age=60', path
        assert res.etag, path
        public.get(path, headers={'If-None-Match': res.headers['ETag']}, status=304)
        if path.startswith('/public') and not path.endswith('.atom'):   # (pages)
            assert 'Cookie' in res.headers['Vary'] and 'Accept-Language' in res.headers['Vary']
        else:
            assert res.headers['Access-Control-Allow-Origin'] == '*'
    # signed in, the page carries the user's name and sign-out form: kept by nobody
    # (and, as every answer to a signed-in browser, neither is the rest)
    app = world['app']
    app.login('so.finance')
    try:
        page = app.get('/public/departments/finance')
        assert page.headers['Cache-Control'] == 'no-store'
        assert 'Sign out' in page.text
        for path in ('/public/notifications.atom', '/api/v1/public/departments/finance'):
            assert app.get(path).headers['Cache-Control'] == 'no-store'
    finally:
        app.post('/logout', {'csrf_token': app.csrf()})
    # a token changes nothing: the same public answer
    token = world['tokens']('so.finance')
    res = app.api('get', '/api/v1/public/departments/finance', token)
    assert res.json == public.get('/api/v1/public/departments/finance').json


# the counters ---------------------------------------------------------------------------
def test_pendency_bands_and_months_worked_back():
    figures = Pendency()
    now = datetime.datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
    ts = now.timestamp()
    for n, days in enumerate((0, 7.9, 8, 15.5, 16, 30.9, 31, 400)):
        figures.received('d', f'f{n}', now - datetime.timedelta(days=days))
    assert figures.by_age('d', ts) == [('0-7', 2), ('8-15', 2), ('16-30', 2), ('31-', 2)]
    figures.received('d', 'f0', now)   # (open already: counted once)
    figures.disposed('f1', now)
    figures.disposed('nope', now)      # (never counted open: nothing)
    figures.disposed('f7', now)
    assert figures.pending('d') == 6 and figures.pending('other') == 0
    months = figures.months('d', ts)
    assert [m[0] for m in months] == last_months(ts) and months[-1][0] == '2026-12'
    # December: f0, f1 (7.9 days back) and f2 (8 days back) came, f1 and f7 went
    assert months[-1] == ('2026-12', 3, 2, 6)
    # November: f3 to f6 came (15.5 to 31 days back); pending at its end 5
    assert months[-2] == ('2026-11', 4, 0, 5)
    # before: only f7, from last year (until it went)
    assert months[-3] == ('2026-10', 0, 0, 1) and months[0][3] == 1
    assert last_months(ts, 3) == ['2026-10', '2026-11', '2026-12']
    assert last_months(datetime.datetime(2026, 2, 1, tzinfo=UTC).timestamp(), 3) == \
        ['2025-12', '2026-01', '2026-02']
    assert DAY == 86400.0


def test_the_figures_read_the_counters_not_the_files():
    """A site with no desk (no files to walk) gives its figures from the counters alone:
    3,000 files open over four months, by band and month."""
    class Bare:
        pass
    site, dept = Bare(), Bare()
    site.pendency, dept.__name__ = Pendency(), 'finance'
    now = datetime.datetime(2026, 12, 15, tzinfo=UTC)
    for n in range(3000):
        site.pendency.received('finance', f'f{n}', now - datetime.timedelta(hours=n))
    found = department_figures(site, dept, now.timestamp())
    assert found['pending'] == 3000
    assert found['age_bands'] == [('0-7', 192), ('8-15', 192), ('16-30', 360), ('31-', 2256)]
    assert sum(m[1] for m in found['months']) == 3000 and found['months'][-1][3] == 3000


def test_step_25_counts_the_files_there_were_before_it(tmp_path, demo_template):
    """A database as release 22 left it (no figures, no feed id): step 25 fills the
    figures from the files' openings and movement registers, as the counters would
    have counted them."""
    var = copy_demo(demo_template, tmp_path / 'var')
    app = make_app(var, **{'kp_workspace.indexer': 'off'})
    try:
        browser = Browser(app)
        token = browser.token('so.finance')
        fid = browser.api('post_json', '/api/v1/departments/finance/files', token,
                          params={'subject': 'Counted before the step'}, status=201).json['id']
        browser.api('post_json', f'/api/v1/files/{fid}/actions/close', token,
                    params={'record_class': 'C'})
        browser.api('post_json', f'/api/v1/files/{fid}/actions/reopen', token, params={})
        counted = {d: browser.get(f'/api/v1/public/departments/{d}').json
                   for d in ('finance', 'sports')}
    finally:
        close_app(app)

    def as_release_22(site):
        del site.pendency
        del site.notices.feed_id, site.notices.feed_started
    set_generation(var, 22, as_release_22)
    app = make_app(var, **{'kp_workspace.indexer': 'off'})
    try:
        assert app.registry.kpw_generations == (22, evolve.GENERATION)
        browser = Browser(app)
        for name, figures in counted.items():
            again = browser.get(f'/api/v1/public/departments/{name}').json
            assert {k: v for k, v in again.items() if k != 'as_of'} == \
                {k: v for k, v in figures.items() if k != 'as_of'}, name
        assert browser.get('/public/notifications.atom').status_int == 200
    finally:
        close_app(app)
