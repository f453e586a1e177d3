"""The indexer: takes what the queue holds into the index, outside every request.

Requests only add entries to the queue in the database (:mod:`.queue`); this
indexer reads the oldest entries, builds the documents of their items as they
are now, writes them to the index in one commit (where Whoosh also merges
segments), and then removes exactly the entries it read.  A crash at any point
leaves the entries in the queue, and indexing an item twice gives the same
index, so the next indexer to run heals what the last one left.

One indexer works on an index at a time: the holder of the engine's indexer
lock (a lock file beside a Whoosh index; a PostgreSQL advisory lock, which
processes on several machines can share, for the PostgreSQL backend).  By
default that is a background thread of every serving process that can get the
lock (:meth:`Indexer.start`), otherwise ``kpw indexer`` in a process of its
own; processes that do not hold the lock keep trying, so one takes over when
the indexer's process ends.
"""
import atexit
import logging
import threading
import time

import transaction
from ZODB.POSException import ConflictError

from .documents import documents_for

log = logging.getLogger(__name__)
SITE_KEY = 'kp_workspace'
BATCH = 1000        # queue entries per index commit
MAX_BATCH_TEXT = 16_000_000  # characters of text a batch holds at most (attachments are long)
POLL = 1.0          # seconds between looks at the queue when nothing wakes the indexer
PAUSE = 0.5         # seconds between index commits while changes keep coming
RETRY_AFTER = 5.0   # seconds before trying again after indexing failed


class Indexer:
    def __init__(self, db, engine, batch=BATCH, poll=POLL, pause=PAUSE,
                 retry_after=RETRY_AFTER):
        self.db = db
        self.engine = engine
        self.batch, self.poll, self.pause, self.retry_after = batch, poll, pause, retry_after
        self._lock = engine.indexer_lock()
        self._working = threading.Lock()   # one batch at a time in this process
        self._wake = threading.Event()
        self._merge_wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._told_layout = False

    # the lock ----------------------------------------------------------------
    def acquire(self):
        """Become the indexer of this index, if no other holds the lock; a lock
        this process held and lost (its database session ended) is taken afresh
        if it is free.  :returns: bool"""
        if self._lock.held:
            if self._lock.check():
                return True
            log.warning('search: this process lost the indexer lock; taking it again')
            self.release()
        if not self._lock.acquire():
            return False
        try:  # (another process may have rebuilt the index while this one waited)
            self.engine.reopen()
        except BaseException:
            self.release()
            raise
        return True

    def release(self):
        """Stop being the indexer (after any index commit of this process)."""
        with self.engine.write_lock:
            self._lock.release()

    @property
    def active(self):
        """Whether this process is the indexer now."""
        return self._lock.held

    # indexing ----------------------------------------------------------------
    def index_batch(self):
        """Index the oldest changes in the queue (up to ``batch``).

        :returns: how many queue entries were indexed and removed (0: nothing waits).
        """
        if not self.engine.schema_current:
            # (writing needs the new layout; the queue keeps everything meanwhile)
            if not self._told_layout:
                log.warning('search: the index has an older layout; nothing is indexed '
                            'until kpw reindex rebuilds it')
                self._told_layout = True
            return 0
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
        built, failures, size = {}, {}, 0  # item id -> its documents
        for item_id in dict.fromkeys(key[1] for key in keys):
            if size > MAX_BATCH_TEXT:
                break  # (the rest waits for the next batch)
            item = items.get(item_id)
            try:  # (an item that is gone loses its documents)
                built[item_id] = documents_for(item) if item is not None else []
            except Exception as e:  # one broken item must not stop the others
                log.exception('search: cannot make the documents of item %s', item_id)
                built[item_id], failures[item_id] = [], f'{type(e).__name__}: {e}'
            size += sum(len(doc.get('content', '')) for doc in built[item_id])
        tm.abort()
        failures.update(self._apply(built))
        self._merge_wake.set()
        keys = [key for key in keys if key[1] in built]
        self._forget(tm, conn, keys, {item_id: failures.get(item_id) for item_id in built})
        return len(keys)

    def _apply(self, built):
        """Write ``built`` (``{item id: documents}``) in one index commit.

        When the index refuses the batch, halve it until the item it refuses is
        found; that one is taken out of the index.  An ``OSError`` (a full disk,
        a search database out of reach) is not the items' fault: it is raised, and
        the whole batch waits.

        :returns: ``{item id: reason}`` of the items refused.
        """
        try:
            self.engine.apply([doc for docs in built.values() for doc in docs],
                              remove_items=list(built), merge=False)  # (see _merge_loop)
            return {}
        except OSError:
            raise
        except Exception as e:
            if len(built) > 1:
                ids = list(built)
                half = len(ids) // 2
                return {**self._apply({i: built[i] for i in ids[:half]}),
                        **self._apply({i: built[i] for i in ids[half:]})}
            (item_id,) = built
            log.exception('search: the index refuses the documents of item %s', item_id)
            self.engine.apply([], remove_items=[item_id], merge=False)
            return {item_id: f'{type(e).__name__}: {e}'}

    def forget(self, keys, failures=None):
        """Remove ``keys`` (indexed queue entries) from the queue, in a transaction of
        its own; ``failures`` as for :meth:`IndexQueue.record_failures`."""
        tm = transaction.TransactionManager()
        conn = self.db.open(transaction_manager=tm)
        try:
            self._forget(tm, conn, keys, failures)
        finally:
            tm.abort()
            conn.close()

    def _forget(self, tm, conn, keys, failures=None):
        """Remove ``keys`` from the queue, retrying when a request's commit
        conflicts (entries left behind would only be indexed once more)."""
        for attempt in range(10):
            tm.begin()
            try:
                queue = conn.root()[SITE_KEY].index_queue
                queue.remove(keys)
                queue.record_failures(failures or {})
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
        try:  # (at once, so that whether this process indexes is known on return)
            self.acquire()
        except Exception:  # (the thread tries again)
            log.exception('search: cannot start indexing yet')
            self.release()
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
            try:
                acquired = self.acquire()
            except Exception:
                log.exception('search: cannot start indexing; trying again in %s s',
                              self.retry_after)
                self.release()
                self._stop.wait(self.retry_after)
                continue
            if not acquired:  # another process indexes; take over if it stops
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
                merged = self.engine.merge_step(
                    still_indexer=lambda: self.active and not self._stop.is_set())
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
