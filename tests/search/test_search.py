"""Search: what is found, by whom, and nothing else; the index follows commits."""
import datetime
import io
import random

import transaction
from pyramid.threadlocal import manager
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from kp_workspace.access import Officer
from kp_workspace.audit import Actor, ensure_audit_log
from kp_workspace.content_types.casefile import open_file
from kp_workspace.site import ROOT_KEY
from tests.conftest import Browser, close_app, confirm, make_app, write_ini
from tests.search.conftest import age_the_index

LOGINS = ['so.finance', 'secretary.finance', 'clerk.finance', 'diary.finance', 'so.hed',
          'secretary.hed', 'so.sit', 'secretary.sit', 'so.sports', 'cs', 'cm', 'admin']


def api(app, tokens, login, method, path, status=200, **kw):
    return app.api(method, path, tokens(login), status=status, **kw)


def search(app, tokens, login, q, status=200, **params):
    app.indexed()
    return api(app, tokens, login, 'get', '/api/v1/search', status, params={'q': q, **params}).json


def found_by_a_new_app(var_dir, settings, q, login='so.finance'):
    """Start the app afresh on ``var_dir`` and search ``q`` as ``login``: the ids found."""
    app = make_app(var_dir, **settings)
    try:
        browser = Browser(app)
        res = browser.api('get', '/api/v1/search', browser.token(login), params={'q': q}).json
        return [i['id'] for i in res['items']]
    finally:
        close_app(app)


def open_api_file(app, tokens, subject, login='so.finance', dept='finance', **extra):
    return api(app, tokens, login, 'post_json', f'/api/v1/departments/{dept}/files', 201,
               params={'subject': subject, **extra}).json


def test_find_by_words_in_subject_and_notes_and_by_number(app, tokens):
    f = open_api_file(app, tokens, 'Procurement of vehicles for the Treasury')
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{f["id"]}/notes', 201,
        params={'text': 'The budget allocation under head A03970 is sufficient.'})
    found = search(app, tokens, 'so.finance', 'vehicle')  # stemmed: vehicles ~ vehicle
    assert [i['id'] for i in found['items']] == [f['id']] and found['total'] == 1
    item = found['items'][0]
    assert item['kind'] == 'file' and item['number'] == f['number']
    assert item['url'].endswith(f'/files/{f["id"]}')
    assert search(app, tokens, 'so.finance', 'A03970')['items'][0]['id'] == f['id']
    assert '<mark class="match term0">allocation</mark>' in \
        search(app, tokens, 'so.finance', 'allocation')['items'][0]['snippet']
    assert search(app, tokens, 'so.finance', f['number'])['items'][0]['id'] == f['id']
    assert search(app, tokens, 'so.finance', 'zebra')['items'] == []


def test_urdu_text_is_found_in_any_spelling(app, tokens):
    f = open_api_file(app, tokens, 'محکمہ خزانہ: گاڑیوں کی خریداری')
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{f["id"]}/notes', 201,
        params={'text': 'مُحَکَّمہ تعلیم کی رائے درکار ہے۔'})
    for query in ('خریداری', 'محكمه', 'تعلیم', 'محکمہ'):
        assert [i['id'] for i in search(app, tokens, 'so.finance', query)['items']] == [f['id']], query


def urdu_pdf():
    """A PDF with English and Urdu text, drawn with a font that has Arabic script."""
    import os
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont('Helvetica', 12)
    c.drawString(72, 760, 'Audit observation on the pension fund reconciliation')
    font = '/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf'
    assert os.path.exists(font), 'make test installs fonts-noto-core'
    pdfmetrics.registerFont(TTFont('Naskh', font))
    c.setFont('Naskh', 14)
    # drawn in visual (right-to-left) order, as a bidi-aware writer does
    c.drawString(72, 730, 'پنشن فنڈ'[::-1])
    c.save()
    return buf.getvalue()


def test_attachment_text_is_found_and_links_to_its_file(app, tokens):
    f = open_api_file(app, tokens, 'Audit para 12')
    api(app, tokens, 'so.finance', 'post', f'/api/v1/files/{f["id"]}/attachments', 201,
        params={'title': 'AG letter'}, upload_files=[('file', 'ag.pdf', urdu_pdf())])
    found = search(app, tokens, 'so.finance', 'reconciliation')
    assert [(i['kind'], i['id']) for i in found['items']] == [('attachment', f['id'])]
    assert 'AG letter' in found['items'][0]['title']
    assert search(app, tokens, 'so.finance', 'reconciliation', type='file')['items'] == []
    # (the demo notification is about pensions too: look among attachments)
    urdu = search(app, tokens, 'so.finance', 'پنشن', type='attachment')
    assert [(i['kind'], i['id']) for i in urdu['items']] == [('attachment', f['id'])]
    assert search(app, tokens, 'so.hed', 'reconciliation')['items'] == []


def test_drafts_and_summaries_are_found(app, tokens):
    f = open_api_file(app, tokens, 'Holiday notification')
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{f["id"]}/drafts', 201,
        params={'kind': 'notification', 'subject': 'Public holiday', 'body': 'Eid ul Azha'})
    assert search(app, tokens, 'so.finance', 'Azha')['items'][0]['kind'] == 'draft'
    s = api(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/summaries', 201,
            params={'subject': 'Tubewell electrification', 'background': 'Farmers of Bannu',
                    'proposal': 'Solarise 300 tubewells', 'decision_sought': 'Approval'}).json
    found = search(app, tokens, 'so.finance', 'solarise')
    assert [(i['kind'], i['id']) for i in found['items']] == [('summary', s['id'])]
    assert found['items'][0]['url'].endswith(f'/summaries/{s["id"]}')


def test_a_file_leaves_results_when_its_reader_loses_the_right(app, tokens):
    f = open_api_file(app, tokens, 'Stationery contract renewal')
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{f["id"]}/actions/close',
        params={})
    # closed and routine: the Finance records clerk finds it
    assert search(app, tokens, 'clerk.finance', 'stationery')['total'] == 1
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{f["id"]}/actions/reopen',
        params={})
    # reopened: back to its chain only
    assert search(app, tokens, 'clerk.finance', 'stationery')['total'] == 0
    # the officer's post is transferred away: the file leaves her results
    app.login('admin')
    form = app.get('/admin/posts/so-budget-finance').forms['holder-form']
    form['login'] = 'so.sit'
    confirm(form.submit('op', value='transfer', status=200))
    assert search(app, tokens, 'so.finance', 'stationery')['total'] == 0
    assert search(app, tokens, 'so.sit', 'stationery')['total'] == 1


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def population_of_letters(app, tokens, rng, n):
    """``n`` letters registered by the Finance diary, each left with the diary, marked to
    the officer (and on to the Secretary), sent back, or put into a new file: their ids."""
    from tests.views.test_api_attachments import pdf_bytes
    ids = []
    for k in range(n):
        rid = api(app, tokens, 'diary.finance', 'post', '/api/v1/departments/finance/receipts',
                  201, params={'sender': 'Food Department', 'subject': f'Granary letter {k}',
                               'mode': 'post', 'classification': rng.choice(
                                   ['routine', 'confidential', 'secret'])},
                  upload_files=[('file', 'letter.pdf', pdf_bytes())]).json['id']
        ids.append(rid)
        fate = rng.choice(['diary', 'marked', 'marked-on', 'returned', 'in-file'])
        path = f'/api/v1/receipts/{rid}/actions'
        if fate == 'diary':
            continue
        api(app, tokens, 'diary.finance', 'post_json', f'{path}/mark',
            params={'to_post': 'so-budget-finance'})
        if fate == 'marked-on':
            api(app, tokens, 'so.finance', 'post_json', f'{path}/forward',
                params={'to_post': 'secretary-finance'})
        elif fate == 'returned':
            api(app, tokens, 'so.finance', 'post_json', f'{path}/return',
                params={'remarks': 'Not ours'})
        elif fate == 'in-file':
            api(app, tokens, 'so.finance', 'post_json', f'{path}/open_file',
                params={'subject': f'Opened on letter {k}'})
    return ids


def test_every_role_finds_exactly_what_it_may_open(app, tokens):
    """Over a generated population of files and letters in the dak: for each demo user,
    the search results (across all pages) are exactly the items the API lets that user
    open."""
    rng = random.Random(20261123)
    senders = [('so.finance', 'finance', 'so-budget-finance'),
               ('so.hed', 'higher-education', 'so-general-hed'),
               ('so.sit', 'science-it', 'so-sit')]
    targets = ['secretary-finance', 'secretary-hed', 'chief-secretary', 'so-sports',
               'secretary-sit']
    holders = {'secretary-finance': 'secretary.finance', 'secretary-hed': 'secretary.hed',
               'chief-secretary': 'cs', 'so-sports': 'so.sports', 'secretary-sit': 'secretary.sit'}
    ids = []
    for n in range(24):
        login, dept, _post = senders[n % 3]
        f = open_api_file(app, tokens, f'Population file {n} granary', login=login, dept=dept,
                          classification=rng.choice(['routine', 'routine', 'confidential',
                                                     'secret']))
        ids.append(f['id'])
        fate = rng.choice(['stay', 'forward', 'forward-on', 'close'])
        path = f'/api/v1/files/{f["id"]}/actions'
        if fate == 'close':
            api(app, tokens, login, 'post_json', f'{path}/close', params={})
        elif fate.startswith('forward'):
            first = rng.choice(targets)
            api(app, tokens, login, 'post_json', f'{path}/forward', params={'to_post': first})
            if fate == 'forward-on':
                second = rng.choice([t for t in targets if t != first])
                api(app, tokens, holders[first], 'post_json', f'{path}/forward',
                    params={'to_post': second})
    letters = population_of_letters(app, tokens, rng, 10)
    # and an acting charge: the Sports officer holds the Secretary Finance's post today
    api(app, tokens, 'admin', 'post_json', '/api/v1/charges', 201,
        params={'post': 'secretary-finance', 'login': 'so.sports', 'reason': 'Leave',
                'start': utc_today().isoformat(),
                'end': (utc_today() + datetime.timedelta(days=3)).isoformat()})
    for login in LOGINS:
        facets = search(app, tokens, login, 'granary')['facets']
        for kind, made in (('file', ids), ('receipt', letters)):
            may_open = {i for i in made if api(app, tokens, login, 'get',
                                               f'/api/v1/{kind}s/{i}', '*').status_int == 200}
            found, page = set(), 1
            while True:
                res = search(app, tokens, login, 'granary', page=page, type=kind)
                found |= {i['id'] for i in res['items']}
                if page >= res['pages']:
                    break
                page += 1
            assert found == may_open, (login, kind)
            assert search(app, tokens, login, 'granary', type=kind)['total'] == len(may_open)
            assert facets.get(kind, 0) == len(may_open), (login, kind)


def test_filters_sorting_and_pages(app, tokens):
    for n in range(25):
        open_api_file(app, tokens, f'Pagination sample {n} turbine')
    first = search(app, tokens, 'so.finance', 'turbine')
    assert first['total'] == 25 and len(first['items']) == 20 and first['pages'] == 2
    second = search(app, tokens, 'so.finance', 'turbine', page=2)
    assert len(second['items']) == 5
    assert not {i['id'] for i in first['items']} & {i['id'] for i in second['items']}
    newest = search(app, tokens, 'so.finance', 'turbine', sort='date')['items'][0]
    assert newest['title'] == 'Pagination sample 24 turbine'
    assert search(app, tokens, 'so.finance', 'turbine', department='sports')['total'] == 0
    assert search(app, tokens, 'so.finance', 'turbine', state='closed')['total'] == 0
    assert search(app, tokens, 'so.finance', 'turbine', page=9)['items'] == []
    search(app, tokens, 'so.finance', 'turbine', 400, type='poem')
    search(app, tokens, 'so.finance', 'turbine', 400, page='x')


def test_query_syntax_errors_are_friendly(app, tokens):
    for q in ('title:(', '"unclosed', 'AND OR NOT', '(((', 'content:[a TO', '*'):
        res = api(app, tokens, 'so.finance', 'get', '/api/v1/search', '*', params={'q': q})
        assert res.status_int in (200, 400) and 'Traceback' not in res.text, q
    app.login('so.finance')
    page = app.get('/search', params={'q': 'title:('}, status='*')
    assert page.status_int in (200, 400) and 'Something went wrong' not in page.text


def test_search_page(app, tokens):
    open_api_file(app, tokens, 'Repair of the <script>alert(1)</script> roof')
    app.indexed()
    app.login('so.finance')
    assert 'Results never include anything you may not open' in app.get('/search').text
    page = app.get('/search', params={'q': 'roof'})
    assert '1 result you may open.' in page.text
    assert '<script>alert(1)</script>' not in page.text
    assert '&lt;script&gt;' in page.text
    app.set_cookie('kpw_locale', 'ur')
    assert '1 نتیجہ جو آپ کھول سکتے ہیں۔' in app.get('/search', params={'q': 'roof'}).text
    app.set_cookie('kpw_locale', 'en')
    open_api_file(app, tokens, 'A second roof')
    app.indexed()
    assert '2 results you may open.' in app.get('/search', params={'q': 'roof'}).text
    page = app.get('/search', params={'q': 'nothingatall'})
    assert 'Nothing found among the files you may open.' in page.text
    app.get('/search', params={'q': 'roof', 'state': 'bogus'}, status=400)


def test_search_needs_a_token(app):
    app.get('/api/v1/search', params={'q': 'x'}, status=401)


def _domain_file(app, subject, commit):
    """Open a file through the domain in a transaction of our own (no web request)."""
    db = app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    manager.push({'registry': app.registry, 'request': None})
    try:
        tm.begin()
        site = conn.root()[ROOT_KEY]
        officer = Officer(site['principals'].users['so.finance'], site,
                          Actor('test', 'test', ensure_audit_log(conn)))
        open_file(site['departments']['finance'], officer, subject)
        tm.commit() if commit else tm.abort()
    finally:
        manager.pop()
        conn.close()


def test_aborted_transactions_leave_no_trace_in_the_index(app, wsgi_app, tokens):
    _domain_file(wsgi_app, 'Aborted hovercraft', commit=False)
    assert search(app, tokens, 'so.finance', 'hovercraft')['total'] == 0
    _domain_file(wsgi_app, 'Committed hovercraft', commit=True)
    assert search(app, tokens, 'so.finance', 'hovercraft')['total'] == 1


def test_index_failure_keeps_the_commit_and_is_retried(app, wsgi_app, tokens, monkeypatch):
    indexer, engine = wsgi_app.registry.kpw_indexer, wsgi_app.registry.kpw_search
    monkeypatch.setattr(indexer, 'retry_after', 0.05)
    original, failures = engine.apply, []

    def flaky(*args, **kw):
        if not failures:
            failures.append('disk full')
            raise OSError('disk full')
        return original(*args, **kw)
    monkeypatch.setattr(engine, 'apply', flaky)
    f = open_api_file(app, tokens, 'Queued zeppelin')  # committed although indexing fails
    api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{f["id"]}')
    # the change waited in the queue and the indexer tried again
    assert search(app, tokens, 'so.finance', 'zeppelin')['total'] == 1
    assert failures == ['disk full']


def test_reindex_check_finds_a_damaged_index_and_reindex_repairs_it(app, wsgi_app, tokens,
                                                                    var_dir, tmp_path,
                                                                    search_settings):
    import io as _io
    from kp_workspace.scripts import kpw
    f = open_api_file(app, tokens, 'Damaged index subject')
    open_api_file(app, tokens, 'Healthy index subject')
    engine = wsgi_app.registry.kpw_search
    app.indexed()
    engine.apply([], remove_items=[f['id']])  # (behind the queue's back)
    assert search(app, tokens, 'so.finance', 'damaged')['total'] == 0
    close_app(wsgi_app)  # the console opens the same data directory
    ini = write_ini(tmp_path, var_dir, **search_settings)
    out = _io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--check'], out=out) == 3
    assert f'missing: {f["id"]}' in out.getvalue() and '1 missing, 0 extra, 0 stale' in out.getvalue()
    out = _io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--batch', '1'], out=out) == 0
    assert 'Reindexed 14 items' in out.getvalue()  # and the demo's files, letters and summaries
    out = _io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--check'], out=out) == 0
    assert 'The index matches the database.' in out.getvalue()
    assert found_by_a_new_app(var_dir, search_settings, 'damaged') == [f['id']]


def test_filter_by_classification_and_date_and_browse_by_filters_alone(app, tokens):
    routine = open_api_file(app, tokens, 'Canteen subsidy routine')
    secret = open_api_file(app, tokens, 'Canteen subsidy sensitive', classification='confidential')
    ids = lambda res: {i['id'] for i in res['items']}  # noqa: E731
    assert ids(search(app, tokens, 'so.finance', 'canteen')) == {routine['id'], secret['id']}
    assert ids(search(app, tokens, 'so.finance', 'canteen', classification='confidential')) \
        == {secret['id']}
    today = datetime.datetime.now(datetime.timezone.utc).date()
    day = datetime.timedelta(days=1)
    assert ids(search(app, tokens, 'so.finance', 'canteen', **{'from': today.isoformat()})) \
        == {routine['id'], secret['id']}
    assert search(app, tokens, 'so.finance', 'canteen', to=(today - day).isoformat())['total'] == 0
    assert search(app, tokens, 'so.finance', 'canteen',
                  **{'from': (today + day).isoformat()})['total'] == 0
    # no words, only filters: everything matching, newest first
    browsed = search(app, tokens, 'so.finance', '', classification='confidential',
                     **{'from': today.isoformat(), 'to': today.isoformat()})
    assert [i['id'] for i in browsed['items']][:1] == [secret['id']]
    assert routine['id'] not in ids(browsed)
    # and only among what the user may open
    assert secret['id'] not in ids(search(app, tokens, 'secretary.hed', '',
                                          classification='confidential'))
    # no words and no filter: nothing is listed
    assert search(app, tokens, 'so.finance', '')['total'] == 0


def test_search_page_filters_keep_their_values(app, tokens):
    open_api_file(app, tokens, 'Canteen tender', classification='confidential')
    app.indexed()
    app.login('so.finance')
    page = app.get('/search', params={'q': 'canteen', 'classification': 'confidential',
                                      'from': '2020-01-01'})
    assert 'Canteen tender' in page.text
    form = next(f for f in page.forms.values() if 'classification' in f.fields)
    assert form['classification'].value == 'confidential'
    assert form['from'].value == '2020-01-01'
    page = app.get('/search', params={'classification': 'secret'})
    assert 'Nothing found among the files you may open.' in page.text


def test_bad_filter_values_are_refused_with_a_message(app, tokens):
    app.login('so.finance')
    for params, message in (({'classification': 'top'}, 'classification is one of'),
                            ({'from': '23/11/2026'}, '"from" must be a date like'),
                            ({'from': '2026-11-23', 'to': '2026-11-01'}, 'from is a day before to')):
        res = search(app, tokens, 'so.finance', 'x', status=400, **params)
        assert message in res['error']
        page = app.get('/search', params={'q': 'x', **params}, status=400)
        assert message in page.text


def test_a_reused_searcher_sees_deletions_and_merges(engine):
    """The engine keeps a searcher per thread; after the index changes it must see
    exactly the new documents: none deleted, none twice after segments merge."""
    for n in range(3):  # three segments
        engine.apply([{'key': f'k{n}-{i}', 'item': f'k{n}-{i}', 'kind': 'file',
                       'title': 'walrus', 'allowed': 'post:a'} for i in range(4)])

    def keys():
        return sorted(h.key for h in engine.query('walrus', ['post:a'], pagelen=50).hits)
    assert len(keys()) == 12
    engine.apply([dict(item='k0-1', key='k0-1', kind='file', title='walrus', allowed='post:b')],
                 remove_items=['k0-1'])  # the document now belongs to someone else
    assert 'k0-1' not in keys() and len(keys()) == 11
    engine.optimize()
    assert len(keys()) == 11 and len(set(keys())) == 11
    # someone who may open nothing finds nothing (an empty filter is no filter to whoosh)
    assert engine.query('walrus', ['post:nobody']).total == 0
    assert engine.query('walrus', ['post:b']).total == 1


def test_an_index_with_an_old_layout_is_reported_and_rebuilt(app, wsgi_app, tokens, var_dir,
                                                              tmp_path, search_backend,
                                                              search_settings):
    from kp_workspace.scripts import kpw
    f = open_api_file(app, tokens, 'Layout change subject')
    app.indexed()
    close_app(wsgi_app)
    age_the_index(search_backend, search_settings, var_dir)
    ini = write_ini(tmp_path, var_dir, **search_settings)
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--check'], out=out) == 3
    assert 'older layout' in out.getvalue()
    assert kpw.main(['-c', ini, 'reindex'], out=io.StringIO()) == 0
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--check'], out=out) == 0
    assert found_by_a_new_app(var_dir, search_settings, 'layout') == [f['id']]


def test_merges_never_build_a_segment_past_the_limit(tmp_path, monkeypatch):
    """Memory of indexing and of a rebuild is bounded by the largest merge."""
    from kp_workspace.search import engine as search_engine
    monkeypatch.setattr(search_engine, 'MAX_SEGMENT_DOCS', 50)
    engine = search_engine.WhooshEngine(str(tmp_path / 'ix'))
    for batch in range(40):
        engine.apply([{'key': f'k{batch}-{i}', 'item': f'k{batch}-{i}', 'kind': 'file',
                       'title': 'walrus', 'allowed': 'post:a'} for i in range(7)])
    engine.optimize()
    reader = engine.ix.reader()
    sizes = [leaf.doc_count() for leaf, _offset in reader.leaf_readers()]
    reader.close()
    assert sum(sizes) == 280 and max(sizes) <= 50 + 7  # the limit, plus one commit's own
    assert len(sizes) < 40  # and merging did happen
    assert engine.query('walrus', ['post:a'], pagelen=500).total == 280
    engine.close()


def test_merged_segments_hold_exactly_the_postings_they_held_before(tmp_path):
    """Merging streams each segment's sorted postings instead of pooling them again:
    after segments with deleted documents are merged (and in the same commit as new
    documents), every term lists the same documents with the same weights, positions
    and lengths, and the order of terms in the index is still sorted."""
    from kp_workspace.search.engine import WhooshEngine
    rng = random.Random(13)
    words = ['walrus', 'budget', 'treasury', 'خزانہ', 'محکمہ', 'vehicle', 'A03970', 'zebra']
    engine = WhooshEngine(str(tmp_path / 'ix'))

    def doc(key):
        text = ' '.join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        return {'key': key, 'item': key, 'kind': 'file', 'title': text, 'content': text,
                'allowed': rng.choice(['post:a', 'post:b'])}
    for batch in range(6):
        engine.apply([doc(f'k{batch}-{i}') for i in range(9)])
        gone = [f'k{batch}-{i}' for i in range(9) if rng.random() < 0.3]
        engine.apply([doc(key) for key in gone[::2]], remove_items=gone)

    def content():
        reader = engine.ix.reader()
        try:
            keys = {n: reader.stored_fields(n)['key'] for n in reader.all_doc_ids()}
            postings = sorted((field, text, keys[n], weight, value)
                              for field, text, n, weight, value in reader.iter_postings()
                              if n in keys)
            lengths = sorted((keys[n], field, reader.doc_field_length(n, field))
                             for n in keys for field in ('title', 'content'))
            terms = list(reader.all_terms())
            return postings, lengths, terms, reader.doc_count()
        finally:
            reader.close()
    before = content()
    assert len(engine.ix._segments()) > 1
    engine.optimize()
    assert len(engine.ix._segments()) == 1
    after = content()
    assert after[0] == before[0] and after[1] == before[1] and after[3] == before[3] > 30
    # the merged segment's terms: in order, and only those of documents still there
    assert after[2] == sorted({(field, text) for field, text, *_ in before[0]})
    engine.close()
