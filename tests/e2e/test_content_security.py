"""The pages render under their Content-Security-Policy in Chromium: nothing refused."""
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

# Recorded in the page itself, whatever the console shows: every refusal by the policy.
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def test_pages_render_with_the_csp_and_nothing_is_refused(live_server, chromium):
    context = chromium.new_context()
    context.set_default_timeout(60_000)
    context.add_init_script(WATCH)
    page = context.new_page()
    console = []
    page.on('console', lambda msg: console.append(msg.text))

    def visited(what):
        page.wait_for_load_state('load')
        assert 'frame-ancestors' in page.evaluate(
            "fetch(location.href).then(r => r.headers.get('content-security-policy'))")
        assert page.evaluate('window.__cspViolations') == [], what
        # the stylesheet applied (a refused one would leave the page unstyled)
        assert page.evaluate(
            "getComputedStyle(document.querySelector('.brand')).display") != 'inline', what

    page.goto(live_server + '/login')
    visited('login page')
    sign_in(page, live_server, 'secretary.finance')
    visited('home')
    page.get_by_role('link', name='Inbox', exact=True).click()
    page.locator('table.desk tr a').first.click()
    page.wait_for_url(f'{live_server}/files/*')
    expect(page.get_by_role('button', name='approve').first).to_be_visible()
    visited('file page')
    page.goto(live_server + '/search?q=pension')
    expect(page.locator('ol.results')).to_be_visible()
    visited('search page')
    page.goto(live_server + '/account/signing')
    visited('signing page')
    refused = [m for m in console if 'Content Security Policy' in m or 'Refused to' in m
               or 'Permissions-Policy' in m]  # (a feature the browser does not know)
    assert refused == []
    context.close()
