"""Rebuilding the index from the database, and checking one against the other.

Both walk the items in batches: a batch's documents are written and committed
to the index, then the ZODB cache is trimmed, so memory stays bounded whatever
the size of the archive.
"""
from .documents import documents_for


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
    """Empty the index and index every item again.  :returns: documents written."""
    engine.clear()
    items = site.desk.items
    total, done, written = len(items), 0, 0
    for ids in _batches(items, batch):
        docs = []
        for item_id in ids:
            docs.extend(documents_for(items[item_id]))
        engine.apply(docs)
        written += len(docs)
        done += len(ids)
        if progress is not None:
            progress(done, total)
        if trim is not None:
            trim()
    engine.optimize()
    return written


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
            for doc in documents_for(items[item_id]):
                expected.add(doc['key'])
                if doc['key'] not in indexed:
                    missing.append(doc['key'])
                elif indexed[doc['key']] != doc['stamp']:
                    stale.append(doc['key'])
        if trim is not None:
            trim()
    extra = sorted(set(indexed) - expected)
    return sorted(missing), extra, sorted(stale)
