"""Full-text search: the index follows the database, one committed transaction at a time.

Domain code announces a changed file or summary with
:func:`kp_workspace.content_types.movable.touch` (an :class:`ItemChanged`
event).  The subscriber here collects the items of the transaction; just
before commit it builds their documents; only after a successful commit does it
write them to the index.  An aborted transaction leaves no trace.  If the index
cannot be written, the commit stands and the item ids go to a queue file in
the data directory, retried with the next indexing (and emptied by
``kpw reindex``).
"""
import logging
import os
import threading

from .documents import documents_for
from .engine import WhooshEngine

log = logging.getLogger(__name__)
DATA_KEY = 'kp_workspace.search.pending'
SITE_KEY = 'kp_workspace'


class ItemChanged:
    def __init__(self, item, jar):
        self.item, self.jar = item, jar


class RetryQueue:
    """Item ids whose documents could not be written, kept in a file."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()

    def add(self, ids):
        with self._lock, open(self.path, 'a', encoding='ascii') as f:
            f.writelines(f'{i}\n' for i in ids)

    def peek(self):
        try:
            with open(self.path, encoding='ascii') as f:
                return sorted({line.strip() for line in f if line.strip()})
        except FileNotFoundError:
            return []

    def remove(self, ids):
        ids = set(ids)
        with self._lock:
            left = [i for i in self.peek() if i not in ids]
            if left:
                with open(self.path, 'w', encoding='ascii') as f:
                    f.writelines(f'{i}\n' for i in left)
            elif os.path.exists(self.path):
                os.remove(self.path)


class Indexer:
    def __init__(self, engine, queue):
        self.engine = engine
        self.queue = queue

    def item_changed(self, event):
        txn = event.jar.transaction_manager.get()
        pending = txn.data(self) if _has_data(txn, self) else None
        if pending is None:
            pending = {}
            txn.set_data(self, pending)
            txn.addBeforeCommitHook(self._before_commit, (txn, event.jar))
        pending[event.item.id] = event.item

    def _before_commit(self, txn, jar):
        pending = txn.data(self)
        retry = self.queue.peek()
        if retry:
            items = jar.root()[SITE_KEY].desk.items
            for item_id in retry:
                if item_id not in pending and item_id in items:
                    pending[item_id] = items[item_id]
        documents = []
        for item in pending.values():
            documents.extend(documents_for(item))
        ids = list(pending)
        txn.addAfterCommitHook(self._after_commit, (documents, ids, retry))

    def _after_commit(self, committed, documents, ids, retried):
        if not committed:
            return
        try:
            self.engine.apply(documents, remove_items=ids)
        except Exception:
            log.exception('search index not updated; %d items queued for retry', len(ids))
            self.queue.add(ids)
            return
        if retried:
            self.queue.remove(retried)


def _has_data(txn, key):
    try:
        txn.data(key)
        return True
    except KeyError:
        return False


def includeme(config):
    settings = config.registry.kpw_settings
    path = os.path.join(settings.var_dir, 'search')
    engine = WhooshEngine(path)
    if not engine.schema_current:
        log.warning('the search index at %s has an older layout: run kpw reindex', path)
    indexer = Indexer(engine, RetryQueue(os.path.join(settings.var_dir, 'search-queue.txt')))
    config.registry.kpw_search = engine
    config.registry.kpw_indexer = indexer
    config.add_subscriber(indexer.item_changed, ItemChanged)
