"""For everyone: the main pages, in English and Urdu, in Chromium.

* axe-core (from the npm registry, installed by ``make test`` into
  ``.venv/axe``) finds no critical or serious violation on any of them;
* at phone width (390 px) no page scrolls sideways (a wide table scrolls
  inside its own keyboard-reachable region instead);
* each page leaves a screenshot at 1280 and at 390 px under the run's output.

The figures (violations by impact, per page and language) are written to
``axe-<language>.json`` in the run's output folder, then gathered into
``axe.json`` and printed as a table at the end of the run (see
``pytest_terminal_summary`` in tests/conftest.py).

To check a new page, add a line to :data:`PAGES`.
"""
import json
import os
import re
import sys

import pytest
import requests
from playwright.sync_api import expect

from kp_workspace.populate import DEMO_PASSWORD
from tests.conftest import IMPACTS, REPO

from .conftest import DESK, PHONE, new_page, run_output, sign_in

# (name, who is signed in (None: nobody), path, the status the page answers with).
# ``{file}`` is the demo file held by secretary.finance with the put-up draft,
# ``{summary}`` a summary so.finance drafts for these tests; so.finance has two devices
# signed in (through the API, as the Super-App does), secretary.finance none.
PAGES = [
    ('login', None, '/login', 200),
    ('verify', None, '/verify', 200),
    ('public notifications', None, '/public/notifications', 200),
    ('public information', None, '/public', 200),
    ('public department figures', None, '/public/departments', 200),
    ('public department', None, '/public/departments/finance', 200),
    ('not found (signed out)', None, '/no-such-page', 404),
    ('home', 'secretary.finance', '/', 200),
    ('inbox', 'secretary.finance', '/inbox', 200),
    ('pending', 'secretary.finance', '/pending', 200),
    ('overdue', 'secretary.finance', '/overdue', 200),
    ('sent', 'secretary.finance', '/sent', 200),
    ('alerts', 'secretary.finance', '/alerts', 200),
    ('demo file', 'secretary.finance', '{file}', 200),
    ('search with results', 'secretary.finance', '/search?q=pension', 200),
    ('department dashboard', 'secretary.finance', '/departments/finance', 200),
    ('department files', 'secretary.finance', '/departments/finance/files?age=0-2', 200),
    ('signing', 'secretary.finance', '/account/signing', 200),
    ('my devices (none)', 'secretary.finance', '/account/devices', 200),
    ('new file form', 'so.finance', '/departments/finance/files/new', 200),
    ('new summary form', 'so.finance', '/departments/finance/summaries/new', 200),
    ('summary', 'so.finance', '{summary}', 200),
    ('sent (officer)', 'so.finance', '/sent', 200),
    ('password', 'so.finance', '/account/password', 200),
    ('my devices', 'so.finance', '/account/devices', 200),
    ('not found (signed in)', 'so.finance', '/files/no-such-file', 404),
    ('record room', 'clerk.finance', '/departments/finance/records', 200),
    ('admin', 'admin', '/admin', 200),
    ('admin users', 'admin', '/admin/users', 200),
    ('admin user', 'admin', '/admin/users/so.finance', 200),
    ('admin user (no devices)', 'admin', '/admin/users/secretary.finance', 200),
    ('admin new user', 'admin', '/admin/users/+add', 200),
    ('admin posts', 'admin', '/admin/posts', 200),
    ('admin post', 'admin', '/admin/posts/so-budget-finance', 200),
    ('admin groups', 'admin', '/admin/groups', 200),
    ('admin departments', 'admin', '/admin/departments', 200),
    ('admin department', 'admin', '/admin/departments/finance', 200),
    ('admin roles', 'admin', '/admin/roles', 200),
    ('admin audit log', 'admin', '/admin/audit', 200),
    ('admin signing', 'admin', '/admin/signing', 200),
    ('cabinet (the Cabinet Wing)', 'secretary.cabinet', '/cabinet', 200),
    ('cabinet (a member)', 'minister.finance', '/cabinet', 200),
    ('cabinet meeting', 'minister.finance', '/cabinet/meetings/1', 200),
    ('cabinet meeting (the Chief Secretary)', 'cs', '/cabinet/meetings/1', 200),
    ('public cabinet decisions', None, '/public/cabinet/decisions', 200),
]
CABINET_MEMBERS = ('minister.finance',)
LANGUAGES = ('en', 'ur')
BLOCKING = ('critical', 'serious')

AXE_PATHS = (os.environ.get('KPW_AXE', ''),
             os.path.join(REPO, '.venv', 'axe', 'node_modules', 'axe-core', 'axe.min.js'),
             os.path.join(sys.prefix, 'axe', 'node_modules', 'axe-core', 'axe.min.js'))

# Figures of this run, {language: {page: {impact: count}}}: written to axe-<language>.json
# and printed at the end of the run by the suite's conftest.py.
AXE_FIGURES = {}


@pytest.fixture(scope='module')
def axe_source():
    for path in AXE_PATHS:
        if path and os.path.exists(path):
            with open(path, encoding='utf-8') as f:
                return f.read()
    pytest.fail('axe-core is not installed: run the suite through `make test`, which '
                'installs it into .venv/axe (or set KPW_AXE to an axe.min.js).')


@pytest.fixture(scope='module')
def places(module_server, chromium):
    """The paths that depend on the data: the demo file, a summary drafted now (and
    so.finance's devices)."""
    for device in ("Ayesha's phone", 'دفتر کا ٹیبلٹ'):
        requests.post(module_server + '/api/v1/auth/token', json={
            'login': 'so.finance', 'password': DEMO_PASSWORD, 'device': device},
            timeout=60).raise_for_status()
    page = new_page(chromium)
    try:
        sign_in(page, module_server, 'so.finance')
        page.goto(module_server + '/departments/finance/summaries/new')
        page.get_by_label('Subject').fill('Revision of pension rates for retired teachers')
        page.get_by_label('Background').fill('The rates were last revised in 2019.')
        page.get_by_label('Proposal').fill('Raise the rates by ten percent from July.')
        page.get_by_label('Decision sought').fill('Approval of the revised rates.')
        page.get_by_role('button', name='Draft summary').click()
        expect(page).to_have_url(re.compile(re.escape(module_server) + r'/summaries/[^/]+$'))
        summary = page.url[len(module_server):]
        page.context.close()
        page = new_page(chromium)
        sign_in(page, module_server, 'secretary.finance')
        page.goto(module_server + '/inbox')
        link = page.locator('main a[href*="/files/"]').first
        expect(link).to_be_visible()
        file = link.get_attribute('href').replace(module_server, '')
    finally:
        page.context.close()
    return {'file': file, 'summary': summary}


def visits(chromium, base, places, language, viewport, **options):
    """Yield ``(name, page)`` for every page of :data:`PAGES`, loaded in ``language``:
    one browser context per person, in the order of the list."""
    page, who = None, object()
    try:
        for name, login, path, status in PAGES:
            if login != who:
                if page is not None:
                    page.context.close()
                page = new_page(chromium, viewport=viewport, **options)
                page.goto(f'{base}/language/{language}?next=/login')
                if login is not None:   # (a member of the cabinet lands on its page)
                    sign_in(page, base, login,
                            lands_on='/cabinet' if login in CABINET_MEMBERS else '/')
                who = login
            response = page.goto(base + path.format(**places))
            assert response.status == status, f'{name}: {path} answered {response.status}'
            expect(page.locator('html')).to_have_attribute('lang', language)
            yield name, page
    finally:
        if page is not None:
            page.context.close()


@pytest.mark.parametrize('language', LANGUAGES)
def test_no_critical_or_serious_axe_violation(module_server, chromium, places, axe_source,
                                              language, shot):
    figures = AXE_FIGURES.setdefault(language, {})
    blocking = []
    for name, page in visits(chromium, module_server, places, language, DESK):
        shot(page, f'{language}-1280-{name}')
        # (evaluated through the DevTools protocol: the page's CSP, which allows no
        # inline script, stays on and applies to the page as users get it)
        page.evaluate(axe_source)
        violations = page.evaluate(
            '''() => axe.run(document).then(r => r.violations.map(v => (
                   {id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.map(n => n.target.join(' '))})))''')
        figures[name] = {impact: sum(len(v['targets']) for v in violations
                                     if v['impact'] == impact) for impact in IMPACTS}
        figures[name]['rules'] = sorted({f"{v['id']} ({v['impact']})" for v in violations})
        blocking += [f"{language} {name} ({page.url}): {v['id']} ({v['impact']}: {v['help']}) "
                     f"at {', '.join(v['targets'][:5])}"
                     for v in violations if v['impact'] in BLOCKING]
    write_figures(language, figures)
    assert not blocking, 'axe found violations:\n' + '\n'.join(blocking)


def test_axe_finds_what_it_is_there_to_find(chromium, axe_source):
    """The check above can fail: axe, injected the same way, reports an image
    without a text alternative and a field without a label, under the same CSP."""
    page = new_page(chromium)
    try:
        page.set_content('<html lang="en"><head><title>t</title></head><body><main>'
                         '<img src="data:,"><input type="text"></main></body></html>')
        page.evaluate(axe_source)
        found = page.evaluate('() => axe.run(document).then(r => r.violations.map(v => v.id))')
    finally:
        page.context.close()
    assert {'image-alt', 'label'} <= set(found)


def write_figures(language, figures):
    """Keep one language's figures in the run's output, as ``axe-<language>.json``
    (the suite's summary gathers them into ``axe.json``, whichever worker ran them)."""
    with open(os.path.join(run_output(), f'axe-{language}.json'), 'w', encoding='utf-8') as f:
        json.dump(figures, f, indent=1, ensure_ascii=False)


# ``width`` is the phone's: a mobile browser widens its layout viewport (innerWidth) to
# fit a page that is too wide, so innerWidth would hide the very fault looked for.
WIDER_THAN_THE_WINDOW = '''(width) => {
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.skip-link')) continue;  // off screen on purpose until focused
    const box = el.getBoundingClientRect();
    if ((box.right > width + 0.5 || box.left < -0.5) && box.width > 0) {
      let inside = false;  // within a region that scrolls by itself
      for (let p = el.parentElement; p; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden') { inside = true; break; }
      }
      if (!inside) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                             (el.className && typeof el.className === 'string'
                              ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                             ' [' + Math.round(box.left) + '..' + Math.round(box.right) + ']');
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
}'''


@pytest.mark.parametrize('language', LANGUAGES)
def test_no_page_scrolls_sideways_on_a_phone(module_server, chromium, places, language, shot):
    wide = []
    for name, page in visits(chromium, module_server, places, language, PHONE,
                             is_mobile=True, has_touch=True, device_scale_factor=2):
        # measured once the web fonts are in (Nastaliq is wider than the fallback: a
        # measurement before they load passed a page that is wide once they have), and
        # before the full-page screenshot, which lays the page out again at its height;
        # content that spills past either edge counts (right to left it spills left)
        page.evaluate('document.fonts.ready.then(() => true)')
        found = page.evaluate(WIDER_THAN_THE_WINDOW, PHONE['width'])
        shot(page, f'{language}-390-{name}')
        if found['scroll'] > found['width'] or found['wide']:
            wide.append(f"{language} {name} ({page.url}): {found['scroll']} px wide in "
                        f"{found['width']}: {'; '.join(found['wide'])}")
    assert not wide, 'pages that scroll sideways at 390 px:\n' + '\n'.join(wide)
