"""What awaits the search indexer, kept in the main database.

A transaction that changes a file or summary adds an entry for it to this queue
in the same commit, so a change and the promise to index it are stored together
or not at all: no crash, restart or kill can lose an index update, and an
aborted transaction queues nothing.  The indexer (:mod:`.indexer`) reads the
oldest entries, indexes the items as they are now, and removes exactly the
entries it read.

Concurrency: the entries are spread over :data:`SHARDS` BTrees by item, so two
requests rarely touch the same one; where they do, or where the indexer removes
entries while a request adds one, BTrees merge the changes to different keys.
The one change they cannot merge is a bucket emptied on one side while the
other side adds to it, so each shard keeps a permanent first key (:data:`_FIRST`)
and its first bucket never empties.  The count is a
:class:`~BTrees.Length.Length`, whose concurrent changes add up.

Narrowing: the index answers from the principals an item had when it was last
indexed.  When a change takes principals away (a closed file reopened: its
department's records clerks lose it), the item is listed in ``narrowed`` with
its principals now until the indexer has indexed that very entry (compared by
key, not by time: the clocks of several machines need not agree), and every
query leaves out what its user may no longer open (:meth:`IndexQueue.hidden_from`).

Failures: an item whose documents cannot be made, or that the index refuses,
is taken out of the index (nothing stale can be found) and recorded in
``failed`` with the reason, so it neither blocks the entries behind it nor goes
unnoticed (``/healthz``, ``kpw reindex --check``); its next change, or a
rebuild, tries it again.
"""
import heapq
import itertools
import time
import zlib

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent

_FIRST = (0.0, '')
SHARDS = 16
UNKNOWN = object()


def _shard(item_id):
    return zlib.crc32(item_id.encode()) % SHARDS


class IndexQueue(Persistent):
    _failed = None  # (a queue made before failures were kept has none until one is)

    def __init__(self):
        super().__init__()
        # (time, item id) -> 0, in the shard of the item
        self._shards = tuple(OOBTree({_FIRST: 0}) for _ in range(SHARDS))
        self._length = Length(0)
        # item id -> (entry key, principals now); '' is the permanent first key
        self._narrowed = OOBTree({'': None})
        self._failed = OOBTree({'': None})      # item id -> (time, reason)

    def __len__(self):
        return self._length()

    def add(self, item_id, allowed, previous=UNKNOWN, at=None):
        """Queue ``item_id`` for indexing, as of this transaction.

        :param allowed: the item's principals after this change (a space-separated
            string, as in the index).
        :param previous: its principals after the last committed change (None for
            a new item, :data:`UNKNOWN` when nobody recorded them).
        :returns: the entry's key.
        """
        key = (at if at is not None else time.time(), item_id)
        entries = self._shards[_shard(item_id)]
        if key not in entries:
            entries[key] = 0
            self._length.change(1)
        narrowing = previous is UNKNOWN or (
            previous is not None and not set(previous.split()) <= set(allowed.split()))
        if narrowing or item_id in self._narrowed:
            self._narrowed[item_id] = (key, allowed)
        return key

    def oldest(self, limit):
        """Up to ``limit`` entry keys ``(time, item id)``, oldest first."""
        streams = [entries.keys(min=_FIRST, excludemin=True) for entries in self._shards]
        return list(itertools.islice(heapq.merge(*streams), limit))

    def remove(self, keys):
        """Forget the entries ``keys`` (the ones an indexer has just indexed) and,
        for their items, the narrowing they covered.  :returns: how many were removed."""
        removed, items = 0, set()
        for key in keys:
            if key != _FIRST and self._shards[_shard(key[1])].pop(key, None) is not None:
                removed += 1
            items.add(key[1])
        if removed:
            self._length.change(-removed)
        removed_keys = set(keys)
        for item_id in items:
            narrowed = self._narrowed.get(item_id) if item_id else None
            if narrowed is not None and narrowed[0] in removed_keys:
                del self._narrowed[item_id]
        return removed

    def lag(self, now=None):
        """Seconds since the oldest change still waiting (0 when none waits)."""
        keys = self.oldest(1)
        if not keys:
            return 0.0
        return max(0.0, (now if now is not None else time.time()) - keys[0][0])

    def hidden_from(self, principals):
        """Items the index may still show to ``principals`` although they may no
        longer open them: narrowed items whose principals now have none of theirs."""
        mine = set(principals)
        return [item_id for item_id, entry in self._narrowed.items(min='', excludemin=True)
                if not mine.intersection(entry[1].split())]

    def record_failures(self, reasons, now=None):
        """``reasons``: ``{item id: why}`` for items the indexer could not index
        (and took out of the index); ``{item id: None}`` for ones it now has."""
        if self._failed is None:
            self._failed = OOBTree({'': None})
        for item_id, reason in reasons.items():
            if reason is not None:
                self._failed[item_id] = (now if now is not None else time.time(), reason)
            elif item_id in self._failed and item_id:
                del self._failed[item_id]

    def failure_count(self):
        """How many items the index lacks because they failed (without reading why)."""
        return 0 if self._failed is None else len(self._failed) - 1

    def failures(self):
        """``{item id: (time, reason)}`` of the items the index lacks because they failed."""
        if self._failed is None:
            return {}
        return dict(self._failed.items(min='', excludemin=True))
