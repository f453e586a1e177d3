"""Scanned correspondence made searchable: text recognition (OCR) outside the request.

An upload that is a picture -- a PNG, JPEG or TIFF, or a PDF whose pages carry no text
-- is queued when it is attached (:func:`queue_if_scanned`), in the database, in the
same transaction: the upload answers at once, and a restart loses no job.  A worker
(:class:`OcrWorker`: a thread of the serving process that indexes the search, or
``kpw ocr --pending``) takes the oldest job, marks it claimed, recognises its pages
outside any transaction (:mod:`.engine`), saying how many are done as it goes, and
then keeps the text and a searchable PDF copy beside the original -- which is never
altered -- and queues the file (or receipt) for the search index.  A claim left by a
worker that stopped (a restart, a crash) is taken again after ``claim_seconds``.

A scan that cannot be read is marked failed with the reason; it blocks nothing (the
file moves as ever), and the holder may try again (:func:`retry`).

The attachment's ``ocr_state``: None (not a scan), ``waiting``, ``reading``, ``done``
or ``failed``.
"""
import atexit
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid

import transaction
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.i18n import TranslationStringFactory
from ZODB.blob import Blob
from ZODB.POSException import ConflictError

from ..errors import DomainError
from ..records import Record
from ..text_rules import scrub
from .engine import (PAGE_SECONDS, RASTER_SECONDS, RecognitionFailed, recognise, sweep,
                     work_prefix)

_ = TranslationStringFactory('kp_workspace')
log = logging.getLogger(__name__)

IMAGES = ('image/png', 'image/jpeg', 'image/tiff')
MIN_CHARACTERS_A_PAGE = 20   # fewer in a PDF's own text: its pages are pictures
MAX_TEXT = 1_000_000
# a claim not renewed for this long (a worker renews it after every page, and a page
# takes at most engine.PAGE_SECONDS) was left by a worker that stopped without saying so
CLAIM_SECONDS = RASTER_SECONDS + 2 * PAGE_SECONDS + 120
MAX_ATTEMPTS = 3   # claims of one job (each by a worker that stopped before the end)
POLL = 2.0
STATES = ('waiting', 'reading', 'done', 'failed')
SITE_KEY = 'kp_workspace'


def is_scan(att):
    """Whether ``att`` is a picture of text: an image, or a PDF without text of its own."""
    if att.content_type in IMAGES:
        return True
    if att.content_type == 'application/pdf':
        own = sum(1 for c in (att.text or '') if not c.isspace())
        return own < MIN_CHARACTERS_A_PAGE * max(att.pages or 1, 1)
    return False


class Stopped(Exception):
    """The worker was asked to stop between two pages."""


class OcrJob(Record):
    def __init__(self, att, item_id, queued_at):
        self.att = att
        self.item_id = item_id
        self.queued_at = queued_at
        self.claimed_by = None
        self.claimed_at = None
        self.attempts = 0


class OcrQueue(Persistent):
    """The scans waiting to be read, oldest first: ``(queued ts, serial) -> OcrJob``."""

    def __init__(self):
        super().__init__()
        self._jobs = OOBTree()
        self.count = Length(0)

    def __len__(self):
        return self.count()

    def add(self, att, item_id, at=None):
        at = time.time() if at is None else at
        key = (at, uuid.uuid4().hex)
        self._jobs[key] = OcrJob(att, item_id, at)
        self.count.change(1)
        return key

    def claim(self, worker, now, claim_seconds=CLAIM_SECONDS):
        """The oldest job nobody works on (or whose worker stopped): ``(key, job)``,
        claimed by ``worker`` in this transaction; None when there is none."""
        for key, job in self._jobs.items():
            if job.claimed_by is None or now - job.claimed_at > claim_seconds:
                job.claimed_by, job.claimed_at = worker, now
                job.attempts += 1
                self.save(key, job)
                return key, job
        return None

    def job(self, key):
        """The job at ``key`` (None: done, or removed)."""
        return self._jobs.get(key)

    def save(self, key, job):
        """Store ``job`` again after changing it (a record: its bucket must be told)."""
        self._jobs[key] = job

    def remove(self, key):
        if key in self._jobs:
            del self._jobs[key]
            self.count.change(-1)


def ocr_queue(site):
    """The queue of ``site``: None before generation 22 (``kpw evolve`` makes it; never a
    request or a worker: the site is everyone's, and writing it would conflict)."""
    return getattr(site, 'ocr_queue', None)


def queue_if_scanned(site, att, item_id):
    """Queue ``att`` (attached to ``item_id``) for recognition if it is a scan.
    :returns: whether it was queued."""
    queue = ocr_queue(site)
    if queue is None or not is_scan(att):   # (step 22 queues it, when it is run)
        return False
    att.ocr_state, att.ocr_done, att.ocr_error = 'waiting', 0, ''
    att.ocr_pages = att.pages if att.content_type == 'application/pdf' else 1
    queue.add(att, item_id)
    return True


def retry(site, officer, item, att):
    """Queue a scan of ``item`` (a file, or a receipt: its letter) whose reading failed
    again, as the item's holder.

    :raises Refused: as any change to the item (closed, or a receipt put into a file:
        409; on a file, the role may not attach: 403; not the holder: 409).
    :raises DomainError: 409 when it did not fail (waiting, being read, done, or not a
        scan).
    """
    from ..content_types.movable import check_change
    from ..security.roles import ATTACH
    check_change(item, officer, ATTACH if item.kind == 'file' else None)
    if att.ocr_state != 'failed':
        raise DomainError(_('Only a scan whose text could not be read can be tried again.'),
                          status=409)
    queue_if_scanned(site, att, item.id)
    officer.actor.record('attachment.ocr_retried', f'{item.kind}:{item.id}',
                         attachment=att.id)


def status(att):
    """What the pages and the API say of ``att``'s recognition (None: not a scan)."""
    if att.ocr_state is None:
        return None
    return {'state': att.ocr_state, 'pages_done': att.ocr_done, 'pages': att.ocr_pages,
            'error': att.ocr_error or None, 'searchable_pdf': att.searchable is not None}


def failure_reason(att):
    """Why the reading of ``att`` failed, in a word of :data:`engine.REASONS`."""
    return att.ocr_reason or 'failed'


def recognised_text(att):
    """The text of ``att`` for search: its own and what recognition read."""
    return '\n'.join(t for t in (att.text, att.ocr_text) if t)


class OcrWorker:
    """Reads the scans of the queue, one at a time, each in three short transactions
    (claim; progress after each page; result) around work done outside them."""

    def __init__(self, db, registry, claim_seconds=CLAIM_SECONDS, poll=POLL):
        self.db, self.registry = db, registry
        self.claim_seconds, self.poll = claim_seconds, poll
        self.name = f'{os.getpid()}-{uuid.uuid4().hex[:8]}'
        self._stop = threading.Event()
        self._thread = None

    def _in_transaction(self, fn, attempts=5):
        """``fn(site)`` in a transaction of its own, retried on conflicts."""
        for attempt in range(attempts):
            tm = transaction.TransactionManager()
            conn = self.db.open(transaction_manager=tm)
            try:
                tm.begin()
                result = fn(conn.root()[SITE_KEY])
                tm.commit()
                return result
            except ConflictError:
                tm.abort()
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
            except BaseException:
                tm.abort()
                raise
            finally:
                conn.close()

    def run_one(self):
        """Read the oldest scan waiting.  :returns: False when none waits."""
        work = tempfile.mkdtemp(prefix=work_prefix())
        try:
            claimed = self._in_transaction(self._claim)
            if claimed is None:
                return False
            key, attempts = claimed
            try:
                if attempts > MAX_ATTEMPTS:   # (it stopped a worker each time: give up)
                    raise RecognitionFailed(f'Reading it was begun {MAX_ATTEMPTS} times and '
                                            f'never finished')
                path, content_type = self._in_transaction(
                    lambda site: self._copy(site, key, work))
                text, pdf = recognise(path, content_type,
                                      on_page=lambda done, total: self._progress(key, done))
            except Stopped:   # (the process is stopping: the job waits for the next worker)
                self._in_transaction(lambda site: self._release(site, key))
                return False
            except RecognitionFailed as err:
                error = (err.reason, str(err))
                self._in_transaction(lambda site: self._finish(site, key, error=error))
            except Exception as err:   # (a scan no reader expected: failed, not retried
                log.exception('ocr: reading job %s failed', key)   # for ever)
                error = ('failed', f'The scan could not be read ({type(err).__name__})')
                self._in_transaction(lambda site: self._finish(site, key, error=error))
            else:
                self._in_transaction(lambda site: self._finish(site, key, text, pdf))
            indexer = getattr(self.registry, 'kpw_indexer', None)
            if indexer is not None:   # (the text is in the index's queue: index it now)
                indexer.wake()
            return True
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def run_pending(self):
        """Read every scan waiting now.  :returns: how many."""
        done = 0
        while not self._stop.is_set() and self.run_one():
            done += 1
        return done

    def _claim(self, site):
        """Claim the oldest job (committed on its own: whatever happens to the reading,
        the next worker goes on to the next job).  :returns: ``(key, attempts)``."""
        queue = ocr_queue(site)
        found = queue.claim(self.name, time.time(), self.claim_seconds) \
            if queue is not None else None
        if found is None:
            return None
        key, job = found
        job.att.ocr_state, job.att.ocr_done, job.att.ocr_error = 'reading', 0, ''
        return key, job.attempts

    def _copy(self, site, key, work):
        """The scan's bytes, copied out of the database for the readers."""
        att = ocr_queue(site).job(key).att
        path = os.path.join(work, 'scan')
        with att.blob.open('r') as source, open(path, 'wb') as target:
            shutil.copyfileobj(source, target)
        return path, att.content_type

    def _progress(self, key, done):
        """A page is read: say so, and renew the claim (it is this worker's still).
        :raises Stopped: the worker is stopping."""
        def write(site):
            queue = ocr_queue(site)
            job = queue.job(key)
            if job is not None and job.claimed_by == self.name:
                job.att.ocr_done = done
                job.claimed_at = time.time()
                queue.save(key, job)
        try:
            self._in_transaction(write, attempts=1)
        except ConflictError:   # (a figure on a page: the next one will say it)
            pass
        if self._stop.is_set():
            raise Stopped()

    def _release(self, site, key):
        queue = ocr_queue(site)
        job = queue.job(key)
        if job is not None and job.claimed_by == self.name:
            job.claimed_by = job.claimed_at = None
            job.att.ocr_state, job.att.ocr_done = 'waiting', 0
            queue.save(key, job)

    def _finish(self, site, key, text=None, pdf=None, error=None):
        queue = ocr_queue(site)
        job = queue.job(key)
        if job is None or job.claimed_by != self.name:
            return   # (taken over by another worker after this one was too slow)
        att = job.att
        if error is None:
            att.ocr_text = scrub(text)[:MAX_TEXT]
            att.searchable = Blob()
            with att.searchable.open('w') as f:
                f.write(pdf)
            att.ocr_state, att.ocr_done = 'done', att.ocr_pages or att.ocr_done
        else:
            att.ocr_reason, message = error
            att.ocr_state, att.ocr_error = 'failed', message[:500]
            log.warning('ocr: %s of %s could not be read: %s', att.id, job.item_id, message)
        queue.remove(key)
        self._reindex(site, {job.item_id, att.held_in} - {None})

    def _reindex(self, site, item_ids):
        from ..search.documents import allowed_principals
        for item_id in item_ids:
            item = site.desk.items.get(item_id)
            if item is not None:
                site.index_queue.add(item_id, allowed_principals(item))

    # the thread ----------------------------------------------------------------
    def start(self):
        sweep()   # (what readers killed before they could clean up left behind)
        self._thread = threading.Thread(target=self.run, name='kpw-ocr', daemon=True)
        self._thread.start()
        atexit.register(self.stop)   # (Ctrl-C on make run: the job under way waits, claimed
                                     # by nobody, for the next start)

    def run(self):
        while not self._stop.is_set():
            indexer = getattr(self.registry, 'kpw_indexer', None)
            try:
                # one worker per deployment: the process that indexes the search (where
                # none does, as with kp_workspace.indexer = off, each that is asked to)
                if indexer is None or indexer.active or \
                        self.registry.kpw_settings.indexer == 'off':
                    self.run_pending()
            except Exception:   # (logged, and tried again: a job stays in the queue)
                log.exception('ocr: the worker failed; trying again')
            self._stop.wait(self.poll)

    def stop(self, timeout=30):
        """Stop after the page under way (its job waits for the next worker)."""
        atexit.unregister(self.stop)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def includeme(config):
    registry = config.registry
    registry.kpw_ocr = OcrWorker(registry._zodb_databases[''], registry)
