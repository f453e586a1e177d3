"""End-to-end fixtures: the real app served by waitress on a free loopback port,
driven by Debian's Chromium through Playwright (no downloaded browser).

Helpers every end-to-end test uses:

* :func:`sign_in` signs in through the login form and waits, with ``expect``,
  until the page it leads to is really there (never a sleep);
* the ``shot`` fixture saves screenshots under one folder per test run (see
  :func:`run_output`), named by test and step, for people to look at.
"""
import contextlib
import os
import re
import shutil
import socket
import threading

import pytest
import waitress.server
from playwright.sync_api import expect

from kp_workspace.populate import DEMO_PASSWORD
from tests.conftest import close_app, copy_demo, make_app, run_folder

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
TIMEOUT = 60_000  # ms: a loaded 2-core machine can be slow; never flaky
DESK = {'width': 1280, 'height': 800}
PHONE = {'width': 390, 'height': 844}


@contextlib.contextmanager
def serve(var):
    """The app on ``var`` served by waitress on a free loopback port: yields
    ``(its URL, the WSGI app)``."""
    app = make_app(var)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    server = waitress.server.create_server(app, host='127.0.0.1', port=port, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{port}', app
    finally:
        server.close()
        thread.join(5)
        close_app(app)


@pytest.fixture
def live_app(tmp_path, demo_template):
    """The served app: ``(base URL, the WSGI app)`` (to add data while it serves)."""
    with serve(copy_demo(demo_template, tmp_path / 'var')) as served:
        yield served


@pytest.fixture
def live_server(live_app):
    return live_app[0]


@pytest.fixture(scope='module')
def module_server(tmp_path_factory, demo_template):
    """One server for a whole module (for tests that only read, or build on each other)."""
    with serve(copy_demo(demo_template, tmp_path_factory.mktemp('e2e') / 'var')) as (url, _app):
        yield url


@pytest.fixture(scope='session')
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.fail('Chromium is not installed: run the suite through `make test`, '
                    'which installs Debian\'s chromium package.')
    from playwright.sync_api import sync_playwright
    # (for every test, whichever runs first in its worker: a test that made its own
    # context waited 5 s, playwright's default, for an upload under load)
    expect.set_options(timeout=TIMEOUT)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS,
                                    timeout=120_000)
        yield browser
        browser.close()


def new_page(chromium, viewport=DESK, **options):
    """A page in a fresh browser context (its own cookies), with the suite's timeout."""
    context = chromium.new_context(viewport=viewport, **options)
    context.set_default_timeout(TIMEOUT)
    return context.new_page()


@pytest.fixture
def page(chromium):
    page = new_page(chromium)
    yield page
    page.context.close()


def sign_in(page, base, login, password=DEMO_PASSWORD, lands_on='/'):
    """Sign in through the login form; return once the page it leads to
    (``lands_on``, the home page unless given) has loaded and shows the
    signed-in frame (the sign-out button).

    Waiting for that page, rather than for the click, is what keeps a loaded
    machine from racing the next step against the sign-in's redirect.
    """
    page.goto(base + '/login')
    expect(page.locator('#login')).to_be_editable()
    page.locator('#login').fill(login)
    page.locator('#password').fill(password)
    page.locator('form[action$="/login"] button[type=submit]').click()
    expect(page).to_have_url(base + lands_on)
    expect(page.locator('form[action$="/logout"] button')).to_be_visible()
    return page


def run_output():
    """This test run's output folder (made on first use): ``$KPW_RUN_OUTPUT``, which the
    suite's conftest sets once per run, before any worker process starts, so that every
    worker of a parallel run writes into the same folder."""
    path = os.environ.setdefault('KPW_RUN_OUTPUT', run_folder())
    os.makedirs(path, exist_ok=True)
    return path


def _slug(text):
    return re.sub(r'[^A-Za-z0-9._-]+', '-', text).strip('-')[:80] or 'page'


@pytest.fixture
def shot(request):
    """Call ``shot(page, step)`` to save a full-page PNG of ``page`` as
    ``<run output>/<test>/<nn>-<step>.png``; returns the path."""
    folder = os.path.join(run_output(), _slug(request.node.name))
    count = iter(range(1, 1000))

    def take(page, step):
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f'{next(count):02d}-{_slug(step)}.png')
        page.screenshot(path=path, full_page=True)
        return path
    return take
