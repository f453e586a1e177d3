"""The registers that lists read: what each post holds, what it sent, counts, desk time.

Every list users open all day (inbox, sent, pending, overdue, a department's
dashboard) reads these BTrees, kept current on every move, so its cost grows
with the page, not with the archive.  They also map a site-wide item id to its
file or summary.

Keys are chosen so concurrent moves rarely collide: sets of ``(time, id)``
tuples (BTrees resolve concurrent inserts of different keys) and
:class:`~BTrees.Length.Length` counters (concurrent changes add up).
"""
import heapq
import itertools
import secrets

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent

PRIORITIES = ('immediate', 'urgent', 'routine')


class Counter(Persistent):
    """A number that must never be handed out twice: concurrent increments
    conflict (and are retried) instead of being merged."""

    def __init__(self):
        super().__init__()
        self.value = 0

    def next(self):
        self.value += 1
        return self.value


class Desk(Persistent):
    def __init__(self):
        super().__init__()
        self.items = OOBTree()           # id -> CaseFile | Summary
        self._held = OOBTree()           # (post id, priority) -> OOTreeSet((received ts, id))
        self._sent = OOBTree()           # post id -> OOTreeSet((-sent ts, id))
        self._desk_seconds = OOBTree()   # post id -> Length (seconds items spent there)
        self._desk_stays = OOBTree()     # post id -> Length (completed stays)
        self._counts = OOBTree()         # (department, kind, state) -> Length
        self._numbers = OOBTree()        # (department, series, year) -> Counter

    # ids and numbers -------------------------------------------------------
    def new_id(self):
        while True:
            item_id = secrets.token_hex(5)
            if item_id not in self.items:
                return item_id

    def next_number(self, department, series, year):
        key = (department, series, year)
        counter = self._numbers.get(key)
        if counter is None:
            counter = self._numbers[key] = Counter()
        return counter.next()

    # registering -----------------------------------------------------------
    def register(self, item):
        self.items[item.id] = item
        self._count(item, +1)

    def _count(self, item, delta):
        key = (item.department, item.kind, item.state)
        length = self._counts.get(key)
        if length is None:
            length = self._counts[key] = Length(0)
        length.change(delta)

    def state_changing(self, item):
        """Call before an item's state changes; :meth:`state_changed` after."""
        self._count(item, -1)

    def state_changed(self, item):
        self._count(item, +1)

    # holding ---------------------------------------------------------------
    def _set(self, tree, key):
        found = tree.get(key)
        if found is None:
            found = tree[key] = OOTreeSet()
        return found

    def place(self, item, post_id, at):
        """``item`` now waits with ``post_id`` since ``at`` (a timestamp)."""
        self._set(self._held, (post_id, item.priority)).add((at, item.id))

    def lift(self, item, post_id, since, now):
        """``item`` leaves ``post_id``, where it had waited since ``since``."""
        held = self._held.get((post_id, item.priority))
        if held is not None:
            held.discard((since, item.id))
        for tree, amount in ((self._desk_seconds, int(max(0, now - since))),
                             (self._desk_stays, 1)):
            length = tree.get(post_id)
            if length is None:
                length = tree[post_id] = Length(0)
            length.change(amount)

    def unplace(self, item, post_id, since):
        """Take ``item`` off ``post_id`` without counting a stay (closing a file)."""
        held = self._held.get((post_id, item.priority))
        if held is not None:
            held.discard((since, item.id))

    def sent(self, item, post_id, at):
        self._set(self._sent, post_id).add((-at, item.id))

    # reading ---------------------------------------------------------------
    def held(self, post_ids, oldest_first=False, priorities=PRIORITIES, before=None):
        """Iterate ``(received ts, id)`` held by ``post_ids``, newest first (or oldest).

        ``before``: only items received before this timestamp.
        """
        streams = []
        for post_id in post_ids:
            for priority in priorities:
                held = self._held.get((post_id, priority))
                if not held:
                    continue
                if before is not None:
                    keys = held.keys(max=(before,), excludemax=True)
                else:
                    keys = held.keys()
                # BTree ranges iterate backwards in place (bucket links), no copy
                streams.append(iter(keys) if oldest_first else reversed(keys))
        if oldest_first:
            return heapq.merge(*streams)
        return heapq.merge(*streams, reverse=True)

    def held_count(self, post_ids, priorities=PRIORITIES):
        return sum(len(self._held.get((p, pr), ())) for p in post_ids for pr in priorities)

    def sent_by(self, post_ids):
        """Iterate ``(-sent ts, id)`` sent by ``post_ids``, newest first."""
        return heapq.merge(*(iter(self._sent[p].keys()) for p in post_ids if p in self._sent))

    def count(self, department, kind, state):
        length = self._counts.get((department, kind, state))
        return length() if length is not None else 0

    def desk_time(self, post_id):
        """``(average seconds per stay, stays)`` at ``post_id``."""
        stays = self._desk_stays.get(post_id)
        stays = stays() if stays is not None else 0
        if not stays:
            return None, 0
        return self._desk_seconds[post_id]() / stays, stays


def page(iterator, offset, limit):
    """Items ``offset``..``offset+limit`` of ``iterator`` and whether more follow."""
    chunk = list(itertools.islice(iterator, offset, offset + limit + 1))
    return chunk[:limit], len(chunk) > limit
