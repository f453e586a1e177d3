"""The site root, how a request reaches it, and how the database is prepared.

The ZODB root mapping holds one :class:`Site` under ``ROOT_KEY``.  A new
database gets an empty Site at generation 0 and then runs every evolve step
(:mod:`kp_workspace.evolve`), so the path that builds a new database is the same
path that upgrades an old one, and each step runs in every test.
"""
import transaction
from pyramid.httpexceptions import HTTPServiceUnavailable
from pyramid_zodbconn import get_connection

from .audit import ensure_audit_log
from .container import Folder
from .evolve import evolve_site, refuse_newer
from .security.roles import site_acl

ROOT_KEY = 'kp_workspace'


class Site(Folder):
    """The root of the workspace: ``departments`` and ``principals`` are its items;
    the token store and the sign-in throttle are attributes, not traversable."""

    type_name = 'Site'
    title = 'KP Digital Workspace'
    generation = 0

    @property
    def __acl__(self):
        return site_acl()


def get_site(request):
    """The :class:`Site` of the request's database connection.

    Cached on the request object, never in the WSGI environ: a retried request
    gets a new request object and a new connection, and must not reuse objects
    of the connection its failed attempt closed.
    """
    site = request.__dict__.get('_kpw_site')
    if site is None:
        root = get_connection(request).root()
        site = root.get(ROOT_KEY)
        if site is None:
            raise HTTPServiceUnavailable('The workspace database has not been initialised.')
        request.__dict__['_kpw_site'] = site
    return site


def root_factory(request):
    return get_site(request)


def databases(registry):
    """The ZODB databases opened by pyramid_zodbconn, by name ('' is the main one)."""
    return registry._zodb_databases


def close_databases(registry):
    """Stop the scan reader and the search indexer (after their work under way) and close
    the databases."""
    ocr = getattr(registry, 'kpw_ocr', None)
    if ocr is not None:   # (after the page under way; its job waits in the queue)
        ocr.stop()
    indexer = getattr(registry, 'kpw_indexer', None)
    if indexer is not None:
        indexer.stop()
    for db in databases(registry).values():
        db.close()


def prepare_database(registry, evolve=True):
    """Create the site on first start and bring an older database up to date.

    :param evolve: run pending evolve steps; when False, only report them.
    :returns: ``(generation_before, generation_after)``.
    """
    db = databases(registry)['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            root = conn.root()
            site = root.get(ROOT_KEY)
            if site is None:
                site = root[ROOT_KEY] = Site()
                conn.add(site)  # (evolve steps reach the audit database through it)
            ensure_audit_log(conn)
            before = site.generation
            if evolve:
                after = evolve_site(site, registry)  # (which refuses a newer database)
            else:  # (production starts without evolving: a newer database is refused too)
                refuse_newer(site)
                after = before
        return before, after
    finally:
        conn.close()
