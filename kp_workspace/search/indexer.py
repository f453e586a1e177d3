"""The indexer: takes what the queue holds into the index, outside every request.

Requests only add entries to the queue in the database (:mod:`.queue`); this
indexer reads the oldest entries, builds the documents of their items as they
are now, writes them to the index in one commit (where Whoosh also merges
segments), and then removes exactly the entries it read.  A crash at any point
leaves the entries in the queue, and indexing an item twice gives the same
index, so the next indexer to run heals what the last one left.

One indexer works on an index at a time: the holder of a lock file beside it.
By default that is a background thread of every serving process that can get
the lock (:meth:`Indexer.start`), otherwise ``kpw indexer`` in a process of its
own; processes that do not hold the lock keep trying, so one takes over when
the indexer's process ends.
"""
import atexit
import logging
import threading
import time

import transaction
from ZODB.POSException import ConflictError
from zc.lockfile import LockError, SimpleLockFile

from .documents import documents_for

log = logging.getLogger(__name__)
SITE_KEY = 'kp_workspace'
BATCH = 1000        # queue entries per index commit
POLL = 1.0          # seconds between looks at the queue when nothing wakes the indexer
PAUSE = 0.5         # seconds between index commits while changes keep coming
RETRY_AFTER = 5.0   # seconds before trying again after indexing failed


class Indexer:
    def __init__(self, db, engine, lock_path, batch=BATCH, poll=POLL, pause=PAUSE,
                 retry_after=RETRY_AFTER):
        self.db = db
        self.engine = engine
        self.lock_path = lock_path
        self.batch, self.poll, self.pause, self.retry_after = batch, poll, pause, retry_after
        self._lock = None
        self._working = threading.Lock()   # one batch at a time in this process
        self._wake = threading.Event()
        self._merge_wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    # the lock ----------------------------------------------------------------
    def acquire(self):
        """Become the indexer of this index, if no other holds the lock.  :returns: bool"""
        if self._lock is None:
            try:
                self._lock = SimpleLockFile(self.lock_path)
            except LockError:
                return False
            self.engine.storage.clean_temporary()
        return True

    def release(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @property
    def active(self):
        """Whether this process is the indexer now."""
        return self._lock is not None

    # indexing ----------------------------------------------------------------
    def index_batch(self):
        """Index the oldest changes in the queue (up to ``batch``).

        :returns: how many queue entries were indexed and removed (0: nothing waits).
        """
        if not self.engine.schema_current:
            return 0  # (writing needs the new layout: kpw reindex; the queue keeps all)
        with self._working:
            tm = transaction.TransactionManager()
            conn = self.db.open(transaction_manager=tm)
            try:
                return self._index_batch(tm, conn)
            finally:
                tm.abort()
                conn.close()

    def _index_batch(self, tm, conn):
        tm.begin()
        site = conn.root()[SITE_KEY]
        keys = site.index_queue.oldest(self.batch)
        if not keys:
            return 0
        items = site.desk.items
        documents, done, failed = [], [], set()
        for item_id in dict.fromkeys(key[1] for key in keys):
            item = items.get(item_id)
            try:
                if item is not None:  # (an item that is gone loses its documents)
                    documents.extend(documents_for(item))
                done.append(item_id)
            except Exception:  # one broken item must not stop the others
                log.exception('search: cannot index item %s; it stays in the queue', item_id)
                failed.add(item_id)
        tm.abort()
        if done:
            self.engine.apply(documents, remove_items=done, merge=False)  # (see _merge_loop)
            self._merge_wake.set()
        keys = [key for key in keys if key[1] not in failed]
        self._forget(tm, conn, keys)
        return len(keys)

    def forget(self, keys):
        """Remove ``keys`` (indexed queue entries) from the queue, in a transaction of its own."""
        tm = transaction.TransactionManager()
        conn = self.db.open(transaction_manager=tm)
        try:
            self._forget(tm, conn, keys)
        finally:
            tm.abort()
            conn.close()

    def _forget(self, tm, conn, keys):
        """Remove ``keys`` from the queue, retrying when a request's commit
        conflicts (entries left behind would only be indexed once more)."""
        for attempt in range(10):
            tm.begin()
            try:
                conn.root()[SITE_KEY].index_queue.remove(keys)
                tm.commit()
                return
            except ConflictError:
                tm.abort()
                time.sleep(0.01 * (attempt + 1))
        log.warning('search: %d indexed queue entries could not be removed (conflicts); '
                    'they will be indexed again', len(keys))

    def drain(self):
        """Index everything the queue holds, in this thread, if this process may
        be the indexer.  :returns: entries indexed, or None when another process
        holds the lock."""
        if not self.acquire():
            return None
        total = 0
        while True:
            done = self.index_batch()
            if not done:
                return total
            total += done

    # the background thread -------------------------------------------------
    def wake(self):
        """Something was committed: look at the queue now."""
        self._wake.set()

    def start(self):
        """Run the indexer in a background thread of this process until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.acquire()  # (at once, so that whether this process indexes is known on return)
        self._thread = threading.Thread(target=self.run, name='kpw-indexer', daemon=True)
        self._thread.start()
        atexit.register(self.stop)  # (Ctrl-C on make run: the batch under way completes)

    def stop_soon(self):
        """Ask the loop to end after the batch it is on (safe in a signal handler)."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout=60):
        """Stop the background thread after the batch it is on, and give up the lock."""
        atexit.unregister(self.stop)
        self.stop_soon()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():  # (it gives up the lock itself when its batch is done)
                log.warning('search: the indexer is still busy; not waiting any longer')
                return
        self.release()

    def run(self):
        """The indexer's loop: catch up with the queue first, then follow it.

        Segments are merged by a second thread (:meth:`_merge_loop`), outside the
        index lock, so that new changes are never kept waiting by a merge.
        """
        merger = None
        while not self._stop.is_set():
            if not self.acquire():  # another process indexes; take over if it stops
                self._stop.wait(self.poll * 5)
                continue
            if merger is None or not merger.is_alive():
                merger = threading.Thread(target=self._merge_loop, name='kpw-merger',
                                          daemon=True)
                merger.start()
            try:
                done = self.index_batch()
            except Exception:
                log.exception('search: indexing failed; trying again in %s s', self.retry_after)
                self._stop.wait(self.retry_after)
                continue
            if done:
                # changes keep coming: let a few more gather into the next commit
                self._stop.wait(self.pause)
                continue
            self._wake.wait(self.poll)
            self._wake.clear()
        self._merge_wake.set()
        if merger is not None:
            merger.join(self.poll * 5)  # (an unfinished merge is simply not used)
        self.release()

    def _merge_loop(self):
        while not self._stop.is_set() and self.active:
            try:
                merged = self.engine.merge_step()
            except Exception:
                log.exception('search: merging failed; trying again in %s s', self.retry_after)
                self._stop.wait(self.retry_after)
                continue
            if not merged:
                self._merge_wake.wait(self.poll * 5)
                self._merge_wake.clear()

    def wait_idle(self, timeout=60):
        """Until the queue is empty (tests and benchmarks).  :raises TimeoutError:"""
        deadline = time.monotonic() + timeout
        while True:
            tm = transaction.TransactionManager()
            conn = self.db.open(transaction_manager=tm)
            try:
                tm.begin()
                waiting = len(conn.root()[SITE_KEY].index_queue)
            finally:
                tm.abort()
                conn.close()
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f'{waiting} changes still wait for the search index')
            self.wake()
            time.sleep(0.01)
