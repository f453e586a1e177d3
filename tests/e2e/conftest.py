"""End-to-end fixtures: the real app served by waitress on a free loopback port,
driven by Debian's Chromium through Playwright (no downloaded browser)."""
import os
import shutil
import socket
import threading

import pytest
import waitress.server

from tests.conftest import close_app, copy_demo, make_app

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']


@pytest.fixture
def live_server(live_app):
    return live_app[0]


@pytest.fixture
def live_app(tmp_path, demo_template):
    """The served app: ``(base URL, the WSGI app)`` (to add data while it serves)."""
    var = copy_demo(demo_template, tmp_path / 'var')
    app = make_app(var)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    server = waitress.server.create_server(app, host='127.0.0.1', port=port, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{port}', app
    server.close()
    thread.join(5)
    close_app(app)


@pytest.fixture(scope='session')
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.fail('Chromium is not installed: run the suite through `make test`, '
                    'which installs Debian\'s chromium package.')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS,
                                    timeout=120_000)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={'width': 1280, 'height': 800})
    context.set_default_timeout(60_000)  # a loaded 2-core machine can be slow; never flaky
    page = context.new_page()
    yield page
    context.close()
