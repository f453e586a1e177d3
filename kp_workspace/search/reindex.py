"""Rebuilding the index from the database, and checking one against the other.

A rebuild empties the index, then builds each item's documents and writes them
straight into segments of their final size (:class:`~.engine.SegmentBuilder`),
committing each segment as it is finished.  Nothing is merged: a merge reads
and writes every posting again, which costs more than writing it the first
time; the last segment of each process is left partly filled (at most one per
process; the indexer's merger takes them in when more small segments come).
The work can be spread over worker
processes (``processes``): each opens the database read-only, at the snapshot
the rebuild reads, takes batches of item ids and writes segments of its own;
this process walks the ids, commits the segments and reports progress.

Memory stays bounded whatever the size of the archive: batches of ids go out a
few at a time, every process trims its ZODB cache after each batch, and a
segment ends when its postings reach the builder's limit.

An engine without segments (PostgreSQL) takes each batch's documents as rows.

:func:`check` walks the items in batches too, comparing each document's stamp.
"""
import logging
import multiprocessing
import os
import queue
import traceback

from ZODB import DB

from ..databases import resolve_uri
from .documents import documents_for
from .engine import SegmentBuilder
from .indexer import SITE_KEY

log = logging.getLogger(__name__)
MAX_PROCESSES = 4  # worker processes by default, at most (each holds a segment being built)
LIMIT_MB = 192    # postings a segment builder holds before it ends a segment
QUEUED = 2        # batches waiting for each worker
POLL = 0.2        # seconds between looks at the workers while waiting


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


def _build(items, ids, builder, finished, failures):
    """Add the documents of the items ``ids`` to ``builder``; segments it
    finishes go to ``finished``, items whose documents cannot be made to
    ``failures`` (item id -> reason).  :returns: documents added."""
    count = 0
    for item_id in ids:
        item = items.get(item_id)
        if item is None:  # (gone since the ids were read: the queue has its removal)
            continue
        try:
            docs = documents_for(item)
        except Exception as e:  # (one broken item must not stop the rebuild)
            log.exception('search: cannot make the documents of item %s', item_id)
            failures[item_id] = f'{type(e).__name__}: {e}'
            continue
        for doc in docs:
            segment = builder.add(doc)
            if segment is not None:
                finished(segment)
        count += len(docs)
    return count


def default_processes():
    """Worker processes for a rebuild: one per CPU this process may use, up to
    :data:`MAX_PROCESSES` (1: no workers)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # (not on Linux)
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_PROCESSES, cpus))


def snapshot(conn):
    """What a worker passes to ``DB.open(before=...)`` to read what ``conn`` reads,
    or None when the storage does not say (a worker then reads the newest state:
    whatever changed since is still in the index queue, and is indexed after)."""
    return getattr(conn._storage, '_start', None)


def open_read_only(uri):
    """A database for ``uri`` (a zodburi) that this process only reads (a FileStorage
    is opened read-only, which takes no lock)."""
    if uri.startswith('file://'):
        uri += ('&' if '?' in uri else '?') + 'read_only=1'
    factory, dbkw = resolve_uri(uri)
    return DB(factory(), **dbkw)


def rebuild(engine, site, batch=1000, progress=None, trim=None, processes=1, uri=None,
            limitmb=LIMIT_MB):
    """Empty the index and index every item again.

    :param processes: how many processes build documents and write segments;
        above 1, worker processes each open the database at ``uri`` (a zodburi of
        the database ``site`` is in), read-only and at ``site``'s snapshot.
    :param trim: called after each batch done in this process (trims its cache).
    :param progress: called with ``(items done, items in all)``.
    :returns: ``(documents written, {item id: reason})``, the second for items
        whose documents could not be made (they are left out).
    :raises RuntimeError: a worker failed (the index is then incomplete: run it
        again).
    """
    engine.clear()
    items = site.desk.items
    total = len(items)
    if not hasattr(engine, 'add_segments'):  # (PostgreSQL: documents go in as rows)
        return _rebuild_by_documents(engine, items, total, batch, progress, trim)
    if processes > 1 and uri and not uri.startswith('memory:'):
        written, failures = _rebuild_in_workers(
            engine, items, total, batch, progress, trim, processes, uri,
            snapshot(site._p_jar), limitmb)
    else:
        written, failures = _rebuild_here(engine, items, total, batch, progress, trim,
                                          limitmb)
    return written, failures


def _rebuild_here(engine, items, total, batch, progress, trim, limitmb):
    builder = SegmentBuilder(engine.path, limitmb, started=engine.protect)
    done, written, failures = 0, 0, {}
    try:
        for ids in _batches(items, batch):
            finished = []
            written += _build(items, ids, builder, finished.append, failures)
            if finished:
                engine.add_segments(finished)
            done += len(ids)
            if progress is not None:
                progress(done, total)
            if trim is not None:
                trim()
        last = builder.finish()
        if last is not None:
            engine.add_segments([last])
    finally:
        builder.cancel()
    return written, failures


class _Batch:
    """A builder for an engine that takes documents, not segments: it holds one
    batch's documents."""

    def __init__(self):
        self.documents = []

    def add(self, document):
        self.documents.append(document)


def _rebuild_by_documents(engine, items, total, batch, progress, trim):
    done, written, failures = 0, 0, {}
    for ids in _batches(items, batch):
        built = _Batch()
        written += _build(items, ids, built, None, failures)
        engine.apply(built.documents)
        done += len(ids)
        if progress is not None:
            progress(done, total)
        if trim is not None:
            trim()
    engine.optimize()
    return written, failures


def _rebuild_in_workers(engine, items, total, batch, progress, trim, processes, uri,
                        before, limitmb):
    context = multiprocessing.get_context('spawn')  # (nothing of this process is shared)
    tasks = context.Queue(maxsize=QUEUED * processes)
    results = context.Queue()
    workers = [context.Process(target=work, name=f'kpw-reindex-{n}', daemon=True,
                               args=(n, uri, before, engine.path, limitmb, tasks, results))
               for n in range(processes)]
    for worker in workers:
        worker.start()
    state = {'done': 0, 'written': 0, 'failures': {}, 'ended': set()}

    def handle(message):
        kind, value = message
        if kind == 'started':
            engine.protect(value)
        elif kind == 'segment':
            engine.add_segments([value])
        elif kind == 'batch':
            ids, count, failures = value
            state['done'] += ids
            state['written'] += count
            state['failures'].update(failures)
            if progress is not None:
                progress(state['done'], total)
        elif kind == 'ended':
            state['ended'].add(value)
        else:  # 'failed'
            raise RuntimeError(f'a reindex worker failed:\n{value}')

    def lost():
        return [n for n, w in enumerate(workers) if not w.is_alive() and n not in state['ended']]

    def collect(wait):
        """Handle one message, waiting up to ``wait`` seconds.  :returns: whether
        there was one.  :raises RuntimeError: a worker failed or is gone."""
        try:
            message = results.get(timeout=wait) if wait else results.get_nowait()
        except queue.Empty:
            if lost():  # (what it said last may still be on its way)
                _collect_rest(results, handle)
                if lost():
                    raise RuntimeError('a reindex worker stopped unexpectedly')
            return False
        handle(message)
        return True

    def send(task):
        while True:
            while collect(0):
                pass
            try:
                tasks.put(task, timeout=POLL)
                return
            except queue.Full:
                continue

    try:
        for ids in _batches(items, batch):
            send(ids)
            if trim is not None:
                trim()
        for _worker in workers:
            send(None)
        while len(state['ended']) < len(workers):
            collect(POLL)
        return state['written'], state['failures']
    finally:
        for worker in workers:
            worker.join(None if len(state['ended']) == len(workers) else POLL)
            if worker.is_alive():
                worker.terminate()
                worker.join()


def _collect_rest(results, handle):
    """Handle what a worker said before it stopped (its failure, most likely)."""
    while True:
        try:
            handle(results.get(timeout=POLL))
        except queue.Empty:
            return


def work(number, uri, before, path, limitmb, tasks, results):
    """Worker process ``number`` of :func:`rebuild`: documents of the batches of
    item ids in ``tasks`` (until None) into segments of the index at ``path``.

    Tells ``results``: ``('started', segment id)`` before writing a segment,
    ``('segment', segment)`` when one is finished, ``('batch', (items, documents,
    failures))`` after each batch, ``('ended', number)`` at the end, or ``('failed',
    traceback)``.
    """
    builder = None
    try:
        db = open_read_only(uri)
        try:
            conn = db.open(before=before) if before is not None else db.open()
            items = conn.root()[SITE_KEY].desk.items
            builder = SegmentBuilder(path, limitmb,
                                     started=lambda seg_id: results.put(('started', seg_id)))
            finished = lambda segment: results.put(('segment', segment))  # noqa: E731
            while True:
                ids = tasks.get()
                if ids is None:
                    break
                failures = {}
                count = _build(items, ids, builder, finished, failures)
                results.put(('batch', (len(ids), count, failures)))
                conn.cacheMinimize()
            last = builder.finish()
            if last is not None:
                results.put(('segment', last))
            conn.close()
        finally:
            db.close()
        results.put(('ended', number))
    except BaseException:
        if builder is not None:
            builder.cancel()
        results.put(('failed', traceback.format_exc()))


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
