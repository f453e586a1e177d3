"""Security headers: every page carries a CSP without inline script, and cannot be framed."""
import re
import urllib.parse

import pytest

from kp_workspace.security.headers import CONTENT_SECURITY_POLICY

PAGE_HEADERS = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
}


def assert_page_headers(res):
    for name, value in PAGE_HEADERS.items():
        assert res.headers.get(name) == value, (res.request.path_qs, name)
    assert 'camera=()' in res.headers['Permissions-Policy']
    assert 'Strict-Transport-Security' not in res.headers  # (not in development)


def assert_no_inline_script_or_style(res):
    html = res.text
    for script in re.findall(r'<script\b[^>]*>', html, re.I):
        assert 'src=' in script, (res.request.path_qs, script)  # never inline code
    assert not re.search(r'<style\b', html, re.I), res.request.path_qs
    assert not re.search(r'\sstyle\s*=', html, re.I), res.request.path_qs
    assert not re.search(r'\son[a-z]+\s*=', html, re.I), res.request.path_qs
    assert 'javascript:' not in html.lower(), res.request.path_qs


def crawl(browser, start, limit=150):
    """GET every same-site link reachable from ``start``; returns the responses."""
    seen, todo, found = set(), list(start), []
    while todo and len(seen) < limit:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        res = browser.get(path, status='*')
        found.append(res)
        if res.content_type != 'text/html' or res.status_int != 200:
            continue
        for href in re.findall(r'href="([^"]+)"', res.text):
            href = urllib.parse.urljoin('http://localhost' + path, href.replace('&amp;', '&'))
            parts = urllib.parse.urlsplit(href)
            if parts.netloc != 'localhost' or parts.path.startswith('/language/'):
                continue
            todo.append(parts.path + ('?' + parts.query if parts.query else ''))
    return found


@pytest.mark.parametrize('login', ['so.finance', 'secretary.finance', 'admin', 'cm'])
def test_every_page_a_signed_in_user_reaches_carries_the_headers(app, login):
    app.login(login)
    pages = crawl(app, ['/', '/inbox', '/sent', '/pending', '/overdue', '/alerts', '/search',
                        '/search?q=pension', '/account/password', '/account/signing',
                        '/departments/finance', '/departments/finance/files/new',
                        '/departments/finance/summaries/new', '/admin', '/files/nope',
                        '/no/such/page', '/logout', '/verify', '/public/notifications'])
    html = [r for r in pages if r.content_type == 'text/html']
    assert len(html) >= 15
    for res in html:
        assert_page_headers(res)
        if res.status_int == 200:
            assert_no_inline_script_or_style(res)
    for res in pages:  # static files, PDFs, JSON: no sniffing, no framing
        assert res.headers['X-Content-Type-Options'] == 'nosniff'
        if res.request.path == '/ca.crl':   # (the same public bytes for everyone, which
            assert 'public' in res.headers['Cache-Control']   # verifiers are meant to cache)
        elif not res.request.path.startswith('/static/'):  # no copy kept in any cache
            assert res.headers['Cache-Control'] == 'no-store', res.request.path
        if res.request.path.endswith('/inline') and res.content_type == 'application/pdf':
            # a PDF for the reading pane (a receipt's letter): only this site may frame it
            assert res.headers['X-Frame-Options'] == 'SAMEORIGIN', res.request.path
            assert "frame-ancestors 'self'" in res.headers['Content-Security-Policy']
            continue
        assert res.headers['X-Frame-Options'] == 'DENY', res.request.path
        assert "frame-ancestors 'none'" in res.headers['Content-Security-Policy']


def test_the_approve_and_sign_pages_cannot_be_framed(app):
    app.login('secretary.finance')
    inbox = app.get('/inbox')
    file_path = re.search(r'href="(?:http://localhost)?(/files/[^"/]+)"', inbox.text).group(1)
    page = app.get(file_path)
    assert 'approve' in page.text  # the demo draft awaits the Secretary's approval
    for res in (page, app.get('/account/signing')):
        assert res.headers['X-Frame-Options'] == 'DENY'
        assert "frame-ancestors 'none'" in res.headers['Content-Security-Policy']
        assert_page_headers(res)
        assert_no_inline_script_or_style(res)


def test_anonymous_pages_errors_and_other_content_carry_them(app):
    assert_page_headers(app.get('/login'))
    assert_page_headers(app.get('/files/nope', status=303).follow())
    css = app.get('/static/workspace.css')
    assert 'max-age=3600' in css.headers['Cache-Control']  # static files may be cached
    assert css.headers['X-Content-Type-Options'] == 'nosniff'
    assert css.headers['Content-Security-Policy'] == "default-src 'none'; frame-ancestors 'none'"
    api = app.get('/api/v1/me', status=401)
    assert api.headers['Content-Security-Policy'] == "default-src 'none'; frame-ancestors 'none'"
    assert api.headers['X-Frame-Options'] == 'DENY'
    assert app.get('/healthz', status='*').headers['X-Content-Type-Options'] == 'nosniff'
    bad = app.post('/login', {'login': 'x'}, status=400)  # CSRF refusal page
    assert_page_headers(bad)


def test_production_sends_hsts_and_secure_cookies(tmp_path, demo_template):
    from tests.conftest import Browser, close_app, copy_demo, make_app
    var = copy_demo(demo_template, tmp_path / 'var')
    wsgi = make_app(var, **{'kp_workspace.hsts_max_age': '31536000',
                            'kp_workspace.secure_cookies': 'true'})
    try:
        browser = Browser(wsgi, extra_environ={'wsgi.url_scheme': 'https',
                                               'HTTP_HOST': 'localhost:443'})
        page = browser.get('/login')
        assert page.headers['Strict-Transport-Security'] == 'max-age=31536000; includeSubDomains'
        cookie = [v for k, v in page.headerlist if k == 'Set-Cookie'][0]
        assert 'secure' in cookie.lower()
    finally:
        close_app(wsgi)


def test_production_ini_turns_them_on_and_development_ini_off():
    import configparser
    import os
    here = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))

    def app_settings(name):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(os.path.join(here, name))
        return parser['app:main']
    production, development = app_settings('production.ini'), app_settings('development.ini')
    assert production['kp_workspace.secure_cookies'] == 'true'
    assert int(production['kp_workspace.hsts_max_age']) >= 180 * 24 * 3600
    assert development['kp_workspace.secure_cookies'] == 'false'
    assert development['kp_workspace.hsts_max_age'] == '0'
