"""Rebuilding the index from the database, and checking one against the other.

Both walk the items in batches: a batch's documents are written and committed
to the index, then the ZODB cache is trimmed, so memory stays bounded whatever
the size of the archive.
"""
import logging

from .documents import documents_for

log = logging.getLogger(__name__)


def _batches(items, size):
    batch, after = [], None
    while True:
        keys = items.keys(min=after, excludemin=after is not None)
        batch = []
        for key in keys:
            batch.append(key)
            if len(batch) == size:
                break
        if not batch:
            return
        yield batch
        after = batch[-1]


def rebuild(engine, site, batch=1000, progress=None, trim=None):
    """Empty the index and index every item again.

    :returns: ``(documents written, {item id: reason})``, the second for items
        whose documents could not be made (they are left out).
    """
    engine.clear()
    items = site.desk.items
    total, done, written, failures = len(items), 0, 0, {}
    for ids in _batches(items, batch):
        docs = []
        for item_id in ids:
            try:
                docs.extend(documents_for(items[item_id]))
            except Exception as e:  # (one broken item must not stop the rebuild)
                log.exception('search: cannot make the documents of item %s', item_id)
                failures[item_id] = f'{type(e).__name__}: {e}'
        engine.apply(docs)
        written += len(docs)
        done += len(ids)
        if progress is not None:
            progress(done, total)
        if trim is not None:
            trim()
    engine.optimize()
    return written, failures


def check(engine, site, batch=1000, trim=None):
    """Compare the index with the database without changing either.

    :returns: ``(missing, extra, stale)``: document keys the index lacks, keys it
        has that the database does not, and keys whose document is out of date.
    """
    indexed = engine.stamps()
    items = site.desk.items
    missing, stale, expected = [], [], set()
    for ids in _batches(items, batch):
        for item_id in ids:
            try:
                docs = documents_for(items[item_id])
            except Exception:  # (a broken item: the queue's failures say why)
                continue
            for doc in docs:
                expected.add(doc['key'])
                if doc['key'] not in indexed:
                    missing.append(doc['key'])
                elif indexed[doc['key']] != doc['stamp']:
                    stale.append(doc['key'])
        if trim is not None:
            trim()
    extra = sorted(set(indexed) - expected)
    return sorted(missing), extra, sorted(stale)
