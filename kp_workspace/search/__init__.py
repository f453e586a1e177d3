"""Full-text search: the index follows the database, off the request path.

Domain code announces a changed file or summary with
:func:`kp_workspace.content_types.movable.touch` (an :class:`ItemChanged`
event).  The subscriber here collects the items of the transaction and, just
before it commits, adds them to the queue in the database (:mod:`.queue`), so
the change and its index update are committed together or not at all; after
the commit it wakes the indexer (:mod:`.indexer`), which builds the documents
and writes the index outside any request.  A request never waits for the
index, an aborted transaction leaves no trace, and whatever a crash interrupts
stays in the queue until the next indexer takes it.

``kp_workspace.indexer`` (``thread``, the default, or ``off``) says whether a
serving process runs the indexer in a background thread; with ``off`` a
separate ``kpw indexer`` process must run.

``kp_workspace.search`` chooses the engine: ``whoosh`` (the default: an index in
the data directory, shared by the processes of one machine) or ``postgresql``
(:mod:`.postgres`: an index in the database ``kp_workspace.search_dsn`` names,
shared by every machine).
"""
import logging
import os
import time

from .documents import allowed_principals
from .engine import WhooshEngine
from .indexer import SITE_KEY, Indexer
from .postgres import PostgresEngine
from .queue import UNKNOWN

log = logging.getLogger(__name__)


class ItemChanged:
    def __init__(self, item, jar):
        self.item, self.jar = item, jar


class Announcer:
    """Puts the items a transaction changed into the index queue as it commits.

    Each item keeps the principals it had at its last commit (``allowed_at_commit``,
    the index's own bookkeeping), so the queue can tell a change that takes some
    away; items older than that record are taken as possibly narrowed (UNKNOWN).
    """

    def __init__(self, indexer):
        self.indexer = indexer

    def item_changed(self, event):
        txn = event.jar.transaction_manager.get()
        pending = txn.data(self) if _has_data(txn, self) else None
        if pending is None:
            pending = {}
            txn.set_data(self, pending)
            txn.addBeforeCommitHook(self._before_commit, (event.jar,))
            txn.addAfterCommitHook(self._after_commit)
        pending[event.item.id] = event.item

    def _before_commit(self, jar):
        """Queue the transaction's items, with their principals now and at their
        last commit (so the queue knows when a change takes principals away)."""
        queue = jar.root()[SITE_KEY].index_queue
        at = time.time()
        for item in jar.transaction_manager.get().data(self).values():
            allowed = allowed_principals(item)
            previous = getattr(item, 'allowed_at_commit',
                               None if item._p_oid is None else UNKNOWN)
            queue.add(item.id, allowed, previous, at)
            if previous != allowed:
                item.allowed_at_commit = allowed

    def _after_commit(self, committed):
        if committed:
            self.indexer.wake()


def _has_data(txn, key):
    try:
        txn.data(key)
        return True
    except KeyError:
        return False


def includeme(config):
    registry = config.registry
    settings = registry.kpw_settings
    if settings.search == 'postgresql':
        engine = PostgresEngine(settings.search_dsn)
        where = 'in PostgreSQL'
    else:
        path = os.path.join(settings.var_dir, 'search')
        engine, where = WhooshEngine(path), f'at {path}'
    if not engine.schema_current:
        log.warning('the search index %s has an older layout: run kpw reindex', where)
    db = registry._zodb_databases['']  # (opened by pyramid_zodbconn, included before)
    indexer = Indexer(db, engine)
    registry.kpw_search = engine
    registry.kpw_indexer = indexer
    config.add_subscriber(Announcer(indexer).item_changed, ItemChanged)
