"""The page of a missing address (a friendly 404) and the icon browsers ask for."""
import os
import re

import kp_workspace

FRIENDLY = ('We could not find that page. It may have moved, or the address may be mistyped; '
            'files you may not open look the same as missing ones.')
ICON = os.path.join(os.path.dirname(kp_workspace.__file__), 'static', 'favicon.svg')


def links(page):
    return [(a.text, a['href']) for a in page.html.select('main a')]


def test_a_missing_page_says_so_in_plain_words_and_offers_sign_in(app):
    page = app.get('/no/such/page', status=404)
    assert page.content_type == 'text/html'
    assert page.html.h1.text == 'Page not found'
    assert FRIENDLY in page.text
    assert links(page) == [('Sign in', 'http://localhost/login')]


def test_a_signed_in_user_is_offered_home_inbox_and_search(app):
    app.login('so.finance')
    page = app.get('/files/no-such-file', status=404)
    assert FRIENDLY in page.text
    assert links(page) == [('Home', 'http://localhost/'), ('Inbox', 'http://localhost/inbox'),
                           ('Search', 'http://localhost/search')]
    app.post('/logout', {'csrf_token': app.csrf()}, status=303)
    app.login('admin')  # (no post, so no inbox)
    assert [text for text, _url in links(app.get('/nothing', status=404))] == ['Home', 'Search']


def test_the_404_tells_nothing_of_what_was_missing(app):
    """Not the domain's reason (which note, which certificate): one page for all."""
    app.login('so.finance')
    form = app.get('/departments/finance/files/new').forms['kpw-form']
    form['subject'] = 'A file for the missing-note page'
    fid = form.submit('open_file', status=303).location.rsplit('/', 1)[1]
    page = app.get(f'/files/{fid}/notes/9/edit', status=404)
    assert FRIENDLY in page.text
    assert 'There is no note' not in page.text
    assert 'Traceback' not in page.text


def test_the_404_in_urdu(app):
    app.get('/language/ur', status=303)
    page = app.get('/no-such-page', status=404)
    assert page.html.html['lang'] == 'ur' and page.html.html['dir'] == 'rtl'
    assert page.html.h1.text == 'صفحہ نہیں ملا'
    assert 'جو فائلیں آپ نہیں کھول سکتے' in page.text
    assert [text for text, _url in links(page)] == ['سائن اِن']


def test_api_paths_keep_their_json_404(app, tokens):
    res = app.get('/api/v1/files/no-such-file',
                  headers={'Authorization': f"Bearer {tokens('so.finance')}"}, status=404)
    assert res.json == {'error': 'There is nothing at this address, or you may not see it.'}
    assert app.get('/api/v1/nothing-here', status=404).content_type == 'application/json'


def test_favicon_ico_answers_with_the_icon_without_touching_the_session(app):
    with open(ICON, 'rb') as f:
        icon = f.read()
    for signed_in in (False, True):
        res = app.get('/favicon.ico', status=200)
        assert res.content_type == 'image/svg+xml'
        assert res.body == icon
        assert 'Set-Cookie' not in res.headers
        assert 'max-age' in res.headers['Cache-Control']
        if not signed_in:
            app.login('so.finance')


def test_every_page_links_the_icon(app):
    href = 'http://localhost/static/favicon.svg'
    pages = [app.get('/login'), app.get('/no-such-page', status=404)]
    app.login('so.finance')
    pages += [app.get('/'), app.get('/inbox'), app.get('/files/nothing', status=404)]
    for page in pages:
        assert page.html.find('link', rel='icon')['href'] == href, page.request.path
    # the page of an unexpected error, drawn without the layout, links it too
    with open(os.path.join(os.path.dirname(ICON), '..', 'templates', 'error500.pt')) as f:
        assert re.search(r'<link rel="icon"[^>]*favicon\.svg', f.read())
