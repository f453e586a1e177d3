"""Shared fixtures: a real app on real databases in a temporary data directory.

The demo database is built once per test session (through ``kpw init --demo``,
so the console script is exercised too) and copied into each test's own data
directory, so every test starts from the same state without paying for the
password hashes again.

Tests marked ``storages`` run once on each storage a deployment can use (the
``storage`` fixture, shown in the test id): ``file``, the data directory's own
FileStorages; ``zeo``, a real ZEO server (``runzeo``) serving a copy of them;
``postgresql``, RelStorage (history-free) on a real PostgreSQL cluster, each test
with databases of its own made from the demo's (``CREATE DATABASE ... TEMPLATE``).
Their data directory (:class:`DataDir`) carries the settings that open those
databases, and :func:`make_app` and :func:`write_ini` use them.
"""
import datetime
import glob
import itertools
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import transaction
import webtest
import ZODB
import ZODB.FileStorage

from kp_workspace import main
from kp_workspace.populate import DEMO_PASSWORD

SECRET = 'test-secret-' + 'x' * 40
CLIENT = '10.20.30.40'
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPACTS = ('critical', 'serious', 'moderate', 'minor')


def run_folder():
    """A new run's output folder (screenshots, axe figures): under ``$KPW_SCREENSHOTS``
    or ``screenshots/`` at the repository root (gitignored), named by its start (UTC)."""
    base = os.environ.get('KPW_SCREENSHOTS') or os.path.join(REPO, 'screenshots')
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%d-%H%M%S')
    return os.path.join(base, f'run-{stamp}-{os.getpid()}')


def pytest_configure(config):
    """One output folder for the whole run, named before any worker process of a
    parallel run starts (they inherit ``$KPW_RUN_OUTPUT``), so all write into it."""
    os.environ.setdefault('KPW_RUN_OUTPUT', run_folder())


# Modules that start real servers or a browser: the longest, so they run first, and the
# short ones fill in around them (in a parallel run, no long module is left for last).
LONG_FIRST = ('tests/system/', 'tests/e2e/')


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))  # (a stable sort)


def pytest_terminal_summary(terminalreporter):
    """The axe figures of this run (if its accessibility tests ran), for the closing
    note: gathered from each language's file into ``axe.json`` and printed."""
    folder = os.environ.get('KPW_RUN_OUTPUT', '')
    figures = {}
    for path in sorted(glob.glob(os.path.join(folder, 'axe-*.json'))):
        with open(path, encoding='utf-8') as f:
            figures[os.path.basename(path)[len('axe-'):-len('.json')]] = json.load(f)
    if not figures:
        return
    with open(os.path.join(folder, 'axe.json'), 'w', encoding='utf-8') as f:
        json.dump(figures, f, indent=1, ensure_ascii=False)
    write = terminalreporter.write_line
    terminalreporter.section('axe-core: violations by impact (nodes), per page and language')
    write(f"{'page':32} {'lang':4} " + ' '.join(f'{i:>8}' for i in IMPACTS) + '  rules')
    for language, pages in figures.items():
        for name, counts in pages.items():
            write(f'{name:32} {language:4} ' + ' '.join(f'{counts[i]:>8}' for i in IMPACTS)
                  + '  ' + ', '.join(counts['rules']))
    write(f'(written to {folder}/axe.json)')


def write_ini(directory, var_dir, **settings):
    """A test .ini for the data directory ``var_dir`` (and its databases, see
    :class:`DataDir`), with ``settings`` over them.  :returns: its path."""
    lines = ['[app:main]', 'use = egg:kp_workspace', f'kp_workspace.var_dir = {var_dir}',
             f'kp_workspace.secret = {SECRET}']
    lines += [f'{k} = {v}'.replace('%', '%%')
              for k, v in {**storage_settings(var_dir), **settings}.items()]
    lines += ['', '[loggers]', 'keys = root', '[handlers]', 'keys = console', '[formatters]',
              'keys = generic', '[logger_root]', 'level = WARN', 'handlers = console',
              '[handler_console]', 'class = StreamHandler', 'args = (sys.stderr,)',
              'level = NOTSET', 'formatter = generic', '[formatter_generic]',
              'format = %(levelname)s %(message)s', '']
    path = os.path.join(directory, 'test.ini')
    with open(path, 'w') as f:
        f.write('\n'.join(lines))
    return path


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch):
    monkeypatch.delenv('KPW_VAR_DIR', raising=False)
    monkeypatch.delenv('KPW_CONFIG', raising=False)


@pytest.fixture(scope='session')
def demo_url():
    """The demo's ``public_url``: a loopback port free when the session starts.  The
    demo's certificates name its ``/ca.crl`` and its OCSP responder (``/ocsp``), which
    pdfsig asks (see :func:`demo_responder`)."""
    from tests.pg import free_port
    return f'http://127.0.0.1:{free_port()}'


@pytest.fixture(scope='session')
def demo_template(tmp_path_factory, demo_url):
    from kp_workspace.scripts import kpw
    base = tmp_path_factory.mktemp('demo-template')
    var = base / 'var'
    ini = write_ini(base, var, **{'kp_workspace.public_url': demo_url})
    saved = os.environ.pop('KPW_VAR_DIR', None)
    try:
        assert kpw.main(['-c', ini, 'init', '--demo'], out=open(os.devnull, 'w')) == 0
    finally:
        if saved is not None:
            os.environ['KPW_VAR_DIR'] = saved
    return var


@pytest.fixture(scope='session')
def demo_responder(demo_template, demo_url, tmp_path_factory):
    """A copy of the demo served at its ``public_url``: the OCSP responder the demo's
    certificates name.  pdfsig asks it whether a signer is revoked, and without an
    answer says "Unknown issue with Certificate" (tests/test_ocsp.py).  It answers for
    the demo's certificates as the template has them (good)."""
    import threading
    from waitress.server import create_server
    var = copy_demo(demo_template, tmp_path_factory.mktemp('demo-responder') / 'var')
    app = make_app(var, **{'kp_workspace.public_url': demo_url,
                           'kp_workspace.indexer': 'off'})
    server = create_server(app, host='127.0.0.1', port=int(demo_url.rsplit(':', 1)[1]),
                           threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    yield demo_url
    server.close()
    close_app(app)


def copy_demo(template, target):
    shutil.copytree(template, target)
    for junk in ('Data.fs.lock', 'Audit.fs.lock'):
        try:
            os.remove(os.path.join(target, junk))
        except FileNotFoundError:
            pass
    return target


def close_app(wsgi_app):
    from kp_workspace.site import close_databases
    close_databases(wsgi_app.registry)


def set_generation(var_dir, generation, change=None):
    """Put the main database (a FileStorage) of ``var_dir`` at ``generation``, as if
    another release had left it there; ``change(site)`` first undoes what the steps
    after it made."""
    from kp_workspace.site import ROOT_KEY
    var_dir = pathlib.Path(var_dir)
    db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs'),
                                              blob_dir=str(var_dir / 'blobs')))
    try:
        with db.transaction() as conn:
            site = conn.root()[ROOT_KEY]
            if change is not None:
                change(site)
            site.generation = generation
    finally:
        db.close()


def make_app(var_dir, **settings):
    """The WSGI app on the data directory ``var_dir`` and its databases (see
    :class:`DataDir`), with ``settings`` over them."""
    settings = {'kp_workspace.var_dir': str(var_dir), 'kp_workspace.secret': SECRET,
                **storage_settings(var_dir), **settings}
    return main({'here': str(var_dir)}, **settings)


def check(form, value, checked=True):
    """Tick (or untick) the deform checkbox whose value is ``value``."""
    boxes = [f for f in form.fields.get('checkbox', []) if f._value == value]
    assert boxes, f'no checkbox with value {value!r}'
    boxes[0].checked = checked


def confirm(page, status=303, **fields):
    """Say yes on a confirmation page (filling ``fields``, e.g. the PIN it asks for)."""
    assert 'name="confirmed" value="1"' in page.text, 'not a confirmation page'
    form = [f for f in page.forms.values() if 'confirmed' in f.fields][0]
    for name, value in fields.items():
        form[name] = value
    return form.submit(status=status)


class Browser(webtest.TestApp):
    """A WebTest app with the helpers the tests share."""

    def login(self, login, password=DEMO_PASSWORD, status=303):
        form = self.get('/login').forms[0]
        form['login'] = login
        form['password'] = password
        return form.submit(status=status)

    def csrf(self):
        """The CSRF token of the current session (from any page's sign-out form)."""
        page = self.get('/', status='*')
        if page.status_int == 303 and '/login' not in page.headers['Location']:
            page = page.follow()   # (a member of the cabinet: to the cabinet's page)
        if page.status_int != 200:
            page = self.get('/login')
        match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        return match.group(1)

    def token(self, login, password=DEMO_PASSWORD):
        res = self.post_json('/api/v1/auth/token', {'login': login, 'password': password},
                             status=201)
        return res.json['token']

    def api(self, method, path, token, status=200, **kw):
        headers = {'Authorization': f'Bearer {token}'}
        return getattr(self, method)(path, headers=headers, status=status, **kw)

    def indexed(self, timeout=60):
        """Wait until the search indexer has taken in everything committed so far."""
        self.app.registry.kpw_indexer.wait_idle(timeout)


@pytest.fixture(scope='session')
def postgres():
    """A private PostgreSQL cluster for the session (:class:`tests.pg.Cluster`): started
    on first use, stopped and removed at the end."""
    from tests.pg import Cluster
    cluster = Cluster().start()
    yield cluster
    cluster.stop()


STORAGES = ('file', 'zeo', 'postgresql')


def pytest_generate_tests(metafunc):
    """A test marked ``storages`` that opens the databases runs on each storage."""
    if 'storage' in metafunc.fixturenames and metafunc.definition.get_closest_marker('storages'):
        metafunc.parametrize('storage', STORAGES, indirect=True)


@pytest.fixture
def storage(request):
    """The storage of the test's databases: ``file`` unless the test is marked
    ``storages`` (then each of :data:`STORAGES` in turn)."""
    return getattr(request, 'param', 'file')


class DataDir(type(pathlib.Path())):
    """A test's data directory; ``storage_settings`` open its databases when they are
    not the FileStorages in it (the ZEO server's or PostgreSQL's URIs)."""

    storage_settings = {}


def storage_settings(var_dir):
    """The settings that open the databases of ``var_dir`` (none: its FileStorages)."""
    return dict(getattr(var_dir, 'storage_settings', {}))


class ZEOPool:
    """Real ZEO servers (``runzeo``) for the tests, each serving fresh copies of the
    demo's FileStorages: a main (with its blob directory) and an audit storage per
    test, so no test sees another's writes, while a server's start is paid once for
    :attr:`BATCH` tests.  A test's app reaches its pair over the network (blobs too:
    its blob cache is in its data directory, as on a machine apart from the server)."""

    BATCH = 16
    ATTEMPTS = 3  # (a free port can be taken by another process before runzeo binds it)

    def __init__(self, template, folder):
        self.template, self.folder = template, folder
        self.batches = itertools.count(1)
        self.process = self.port = None
        self.spare = []  # data directories of the running server not yet handed out

    def take(self):
        """A data directory whose ``storage_settings`` open its own two databases
        through a running ZEO server."""
        if not self.spare:
            self._start_batch()
        return self.spare.pop(0)

    def _start_batch(self):
        from kp_workspace.scripts.serve import bin_path, wait_for_port
        from tests.pg import free_port
        from tests.system.server import die_with_parent
        self.stop()  # (the tests of the previous batch have ended)
        batch = os.path.join(self.folder, f'batch-{next(self.batches)}')
        dirs = [DataDir(copy_demo(self.template, os.path.join(batch, str(n), 'var')))
                for n in range(self.BATCH)]
        sections = ''.join(
            f'<filestorage main{n}>\n  path {var}/Data.fs\n  blob-dir {var}/blobs\n'
            f'</filestorage>\n<filestorage audit{n}>\n  path {var}/Audit.fs\n</filestorage>\n'
            for n, var in enumerate(dirs))
        for attempt in range(self.ATTEMPTS):
            self.port = free_port()
            config = os.path.join(batch, 'zeo.conf')
            with open(config, 'w', encoding='utf-8') as f:
                f.write(f'<zeo>\n  address 127.0.0.1:{self.port}\n</zeo>\n{sections}'
                        f'<eventlog>\n  <logfile>\n    path {batch}/zeo.log\n  </logfile>\n'
                        '</eventlog>\n')
            with open(os.path.join(batch, 'runzeo.out'), 'a') as out:
                self.process = subprocess.Popen([bin_path('runzeo'), '-C', config],
                                                stdout=out, stderr=subprocess.STDOUT,
                                                preexec_fn=die_with_parent)
            try:
                wait_for_port(self.port, self.process, 'The ZEO server')
                break
            except RuntimeError:
                self.stop()
                if attempt == self.ATTEMPTS - 1:
                    raise
        for n, var in enumerate(dirs):
            var.storage_settings = {
                'zodbconn.uri': f'zeo://127.0.0.1:{self.port}?storage=main{n}&cache_size=20MB',
                'zodbconn.uri.audit': f'zeo://127.0.0.1:{self.port}?storage=audit{n}'}
        self.spare = dirs

    def stop(self):
        """Stop the running server (its storages are closed cleanly)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture(scope='session')
def zeo_pool(demo_template, tmp_path_factory):
    """The session's :class:`ZEOPool`; its last server is stopped at the end."""
    pool = ZEOPool(demo_template, str(tmp_path_factory.mktemp('zeo')))
    yield pool
    pool.stop()


@pytest.fixture(scope='session')
def postgres_demo(postgres, demo_template, tmp_path_factory):
    """The demo databases on PostgreSQL, ``(main, audit)``: the demo template's
    FileStorages copied by RelStorage's ``zodbconvert`` (the tool a deployment moves
    to PostgreSQL with) into two history-free databases, the templates of each
    test's databases."""
    folder = tmp_path_factory.mktemp('postgres-demo')
    names = ('demo_main', 'demo_audit')
    for name, (fs, blobs) in zip(names, (('Data.fs', 'blobs'), ('Audit.fs', None))):
        postgres.create_database(name)
        source = f'path {demo_template / fs}\n  read-only true\n'
        target = 'keep-history false\n'
        if blobs:
            source += f'  blob-dir {demo_template / blobs}\n'
            target += f'  blob-dir {folder / "blobcache"}\n  shared-blob-dir false\n'
        config = folder / f'{name}.conf'
        config.write_text(f'%import relstorage\n<filestorage source>\n  {source}</filestorage>\n'
                          f'<relstorage destination>\n  {target}  <postgresql>\n'
                          f'    dsn {postgres.dsn(name)}\n  </postgresql>\n</relstorage>\n')
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'zodbconvert'),
                               str(config)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    return names


class PostgresDatabases:
    """Databases of one test made from the demo's, dropped at the end."""

    _numbers = itertools.count(1)

    def __init__(self, cluster, templates):
        self.cluster, self.templates = cluster, templates
        self.names = []

    def _sql(self, statement):
        import psycopg2
        conn = psycopg2.connect(self.cluster.dsn('postgres'))
        try:
            conn.autocommit = True  # (CREATE and DROP DATABASE refuse a transaction)
            with conn.cursor() as cursor:
                cursor.execute(statement)
        finally:
            conn.close()

    def create(self):
        """:returns: the app settings that open the new databases."""
        number = next(self._numbers)
        for template in self.templates:
            name = f'{template}_{os.getpid()}_{number}'
            self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            self.names.append(name)
        main, audit = self.names
        return {'zodbconn.uri': f'{self.cluster.uri(main)}?keep_history=false'
                                '&connection_cache_size=20000',
                'zodbconn.uri.audit': f'{self.cluster.uri(audit)}?keep_history=false'}

    def drop(self):
        for name in self.names:  # (FORCE: a connection a failed test left open)
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.names = []


FILESTORAGE_FILES = ('Data.fs*', 'Audit.fs*', 'blobs')


@pytest.fixture
def var_dir(tmp_path, demo_template, storage, request):
    """A copy of the demo's data directory, its databases on ``storage``: its own
    FileStorages, a pair of them served by a running ZEO server (:class:`ZEOPool`), or
    two PostgreSQL databases made for it and dropped at the end."""
    if storage == 'file':
        yield copy_demo(demo_template, tmp_path / 'var')
    elif storage == 'zeo':
        yield request.getfixturevalue('zeo_pool').take()
    else:
        var = DataDir(shutil.copytree(demo_template, tmp_path / 'var',
                                      ignore=shutil.ignore_patterns(*FILESTORAGE_FILES)))
        databases = PostgresDatabases(request.getfixturevalue('postgres'),
                                      request.getfixturevalue('postgres_demo'))
        try:
            var.storage_settings = databases.create()
            yield var
        finally:
            databases.drop()


@pytest.fixture
def wsgi_app(var_dir):
    app = make_app(var_dir)
    yield app
    transaction.abort()
    close_app(app)


@pytest.fixture
def app(wsgi_app):
    return Browser(wsgi_app, extra_environ={'REMOTE_ADDR': CLIENT})


@pytest.fixture
def other(wsgi_app):
    """A second browser on the same app (another person)."""
    return Browser(wsgi_app, extra_environ={'REMOTE_ADDR': '10.99.0.1'})


def token_getter(browser):
    """A function of a login giving its API token from ``browser`` (issued once)."""
    cache = {}

    def get(login):
        if login not in cache:
            cache[login] = browser.token(login)
        return cache[login]
    return get


@pytest.fixture
def tokens(app):
    """Call with a login: its API token (issued once per test)."""
    return token_getter(app)


@pytest.fixture
def open_site(wsgi_app):
    """Call with a function of the Site; runs it in its own transaction and returns its result."""
    from kp_workspace.site import ROOT_KEY

    def run(fn, commit=False):
        db = wsgi_app.registry._zodb_databases['']
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        try:
            tm.begin()
            result = fn(conn.root()[ROOT_KEY], conn)
            if commit:
                tm.commit()
            else:
                tm.abort()
            return result
        finally:
            conn.close()
    return run


@pytest.fixture
def audit_entries(wsgi_app):
    """Call to read the newest audit entries (newest first)."""
    from kp_workspace.audit import ROOT_KEY

    def read(limit=50):
        db = wsgi_app.registry._zodb_databases['audit']
        conn = db.open()
        try:
            entries, _cursor = conn.root()[ROOT_KEY].page(limit=limit)
            return entries
        finally:
            conn.transaction_manager.abort()
            conn.close()
    return read


@pytest.fixture
def log_size(wsgi_app):
    """Call to count the entries of the audit log now."""
    from kp_workspace.audit import ROOT_KEY

    def size():
        conn = wsgi_app.registry._zodb_databases['audit'].open()
        try:
            return len(conn.root()[ROOT_KEY])
        finally:
            conn.transaction_manager.abort()
            conn.close()
    return size
