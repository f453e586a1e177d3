"""The search tests run on both engines: Whoosh and PostgreSQL.

A test that takes ``search_settings`` (directly, or through ``wsgi_app``, ``app``...)
runs once per engine, its id naming it (``test_x[whoosh]``, ``test_x[postgresql]``);
``@whoosh_only`` (Whoosh's own segments, merges and files) and ``@postgresql_only``
keep one to a single engine.  Each PostgreSQL test has a schema of its
own in one database of the session's cluster (the ``postgres`` fixture), dropped
afterwards together with every connection the test left open.
"""
import itertools

import psycopg2
import pytest
import transaction
from whoosh import index
from whoosh.fields import ID, Schema
from ZODB import DB
from ZODB.FileStorage import FileStorage

from kp_workspace.search.documents import documents_for
from kp_workspace.search.engine import WhooshEngine
from kp_workspace.search.postgres import PostgresEngine
from kp_workspace.site import ROOT_KEY
from tests.conftest import close_app, make_app

BACKENDS = ('whoosh', 'postgresql')
DATABASE = 'kpw_search_tests'
_schemas = itertools.count(1)


# (parametrize marks, not a marker of our own: a module elsewhere that imports a test
# module from here is collected before this conftest could register one)
whoosh_only = pytest.mark.parametrize('search_backend', ['whoosh'])
postgresql_only = pytest.mark.parametrize('search_backend', ['postgresql'])


def pytest_generate_tests(metafunc):
    chosen = any(mark.args[0] == 'search_backend'
                 for mark in metafunc.definition.iter_markers('parametrize'))
    if 'search_backend' in metafunc.fixturenames and not chosen:
        metafunc.parametrize('search_backend', BACKENDS)


@pytest.fixture(scope='session')
def search_cluster(postgres):
    """The session's PostgreSQL cluster, with a database for the search tests."""
    postgres.create_database(DATABASE)
    return postgres


def _admin(cluster, sql, params=()):
    conn = psycopg2.connect(cluster.dsn(DATABASE))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql, params)
    finally:
        conn.close()


@pytest.fixture
def pg_dsn(request):
    """A libpq connection string to a new, empty schema of its own (its tables are
    made there), for this test only; the schema and the connections left to it go
    at the end."""
    cluster = request.getfixturevalue('search_cluster')
    schema = f'test_{next(_schemas)}'
    _admin(cluster, f'CREATE SCHEMA {schema}')
    yield f"{cluster.dsn(DATABASE)} options='-csearch_path={schema}' application_name={schema}"
    _admin(cluster, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    'WHERE application_name = %s AND pid <> pg_backend_pid()', (schema,))
    _admin(cluster, f'DROP SCHEMA {schema} CASCADE')


@pytest.fixture(scope='session')
def demo_documents(demo_template):
    """The index documents of the demo data (the template's Whoosh index holds them)."""
    db = DB(FileStorage(str(demo_template / 'Data.fs'), blob_dir=str(demo_template / 'blobs'),
                        read_only=True))
    try:
        with db.transaction() as conn:
            items = conn.root()[ROOT_KEY].desk.items
            return [doc for item in items.values() for doc in documents_for(item)]
    finally:
        db.close()


@pytest.fixture
def search_settings(request, search_backend):
    """The app settings choosing the engine of this run of the test.  A PostgreSQL
    index starts as the demo data's Whoosh index does: holding the demo's documents."""
    if search_backend == 'whoosh':
        return {'kp_workspace.search': 'whoosh'}
    dsn = request.getfixturevalue('pg_dsn')
    engine = PostgresEngine(dsn)
    engine.apply(request.getfixturevalue('demo_documents'))
    engine.close()
    return {'kp_workspace.search': 'postgresql', 'kp_workspace.search_dsn': dsn}


@pytest.fixture
def engine(request, search_backend, tmp_path):
    """A bare engine of this run's kind, on an empty index."""
    if search_backend == 'whoosh':
        made = WhooshEngine(str(tmp_path / 'ix'))
    else:
        made = PostgresEngine(request.getfixturevalue('pg_dsn'))
    yield made
    made.close()


def another_engine(search_backend, settings, var_dir):
    """A second engine on the same index (as another process would open it)."""
    if search_backend == 'whoosh':
        return WhooshEngine(str(var_dir / 'search'))
    return PostgresEngine(settings['kp_workspace.search_dsn'])


@pytest.fixture
def wsgi_app(var_dir, search_settings):
    app = make_app(var_dir, **search_settings)
    yield app
    transaction.abort()
    close_app(app)
    app.registry.kpw_search.close()


def age_the_index(search_backend, settings, var_dir):
    """Make the index one of an older layout, as an older release left it."""
    if search_backend == 'whoosh':
        path = var_dir / 'search'
        for name in path.iterdir():
            if not name.name.startswith('.'):
                name.unlink()
        index.create_in(str(path), Schema(key=ID(stored=True)))
        return
    conn = psycopg2.connect(settings['kp_workspace.search_dsn'])
    try:
        with conn, conn.cursor() as cur:
            cur.execute('UPDATE kpw_search_layout SET version = 0')
            cur.execute('ALTER TABLE kpw_search DROP COLUMN stamp')
    finally:
        conn.close()
