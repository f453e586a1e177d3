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
# Overdue limits are whole days (settings refuse less): a shorter stay is never overdue,
# so only stays of a day or more are kept for the dashboard's overdue trend.
LONG_STAY = 86400


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
        self._stays = OOBTree()          # post id -> OOTreeSet((left ts, since ts, priority, id))
                                         # (stays of LONG_STAY or more: the overdue trend's)
        self._counts = OOBTree()         # (department, kind, state) -> Length
        self._numbers = OOBTree()        # (department, series, year) -> Counter
        self._receipts = OOBTree()       # (post id, priority) -> OOTreeSet((received ts, id))
        self._diary = OOBTree()          # department -> OOTreeSet((registered ts, id))

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

    def _shelf(self, item=None, receipts=False):
        """Where what a post holds is kept: files and summaries (its inbox), or receipts
        (its Receipts list, apart: letters are not files, and their time with a post
        counts in no desk time)."""
        if not receipts and (item is None or item.kind != 'receipt'):
            return self._held
        tree = getattr(self, '_receipts', None)
        if tree is None:   # a desk from before generation 16 (evolve step 16 adds it)
            tree = self._receipts = OOBTree()
        return tree

    def place(self, item, post_id, at):
        """``item`` now waits with ``post_id`` since ``at`` (a timestamp)."""
        self._set(self._shelf(item), (post_id, item.priority)).add((at, item.id))

    def lift(self, item, post_id, since, now):
        """``item`` leaves ``post_id``, where it had waited since ``since``."""
        held = self._shelf(item).get((post_id, item.priority))
        if held is not None:
            held.discard((since, item.id))
        if item.kind == 'receipt':
            return
        for tree, amount in ((self._desk_seconds, int(max(0, now - since))),
                             (self._desk_stays, 1)):
            length = tree.get(post_id)
            if length is None:
                length = tree[post_id] = Length(0)
            length.change(amount)
        if now - since >= LONG_STAY:
            self._set(self.stays_tree(), post_id).add((now, since, item.priority, item.id))

    def stays_tree(self):
        # (a desk from before generation 12 gets its tree from evolve step 12; this
        # keeps code running before that step safe)
        tree = getattr(self, '_stays', None)
        if tree is None:
            tree = self._stays = OOBTree()
        return tree

    def unplace(self, item, post_id, since):
        """Take ``item`` off ``post_id`` without counting a stay (closing a file)."""
        held = self._shelf(item).get((post_id, item.priority))
        if held is not None:
            held.discard((since, item.id))

    def sent(self, item, post_id, at):
        if item.kind != 'receipt':   # (the diary register says where each letter went)
            self._set(self._sent, post_id).add((-at, item.id))

    def enter_in_diary(self, receipt):
        """Enter ``receipt`` in its department's diary register."""
        tree = getattr(self, '_diary', None)
        if tree is None:   # a desk from before generation 16
            tree = self._diary = OOBTree()
        self._set(tree, receipt.department).add((receipt.created_at.timestamp(), receipt.id))

    def diary(self, department, since=None, before=None):
        """Iterate ``(registered ts, id)`` of ``department``'s diary, newest first,
        registered in ``[since, before)`` if given."""
        entries = (getattr(self, '_diary', None) or {}).get(department)
        if not entries:
            return iter(())
        return reversed(entries.keys(**self._bounds(before, since)))

    # reading ---------------------------------------------------------------
    @staticmethod
    def _bounds(before, since):
        bounds = {}
        if before is not None:
            bounds.update(max=(before,), excludemax=True)
        if since is not None:
            bounds.update(min=(since,))
        return bounds

    def held(self, post_ids, oldest_first=False, priorities=PRIORITIES, before=None,
             since=None, receipts=False):
        """Iterate ``(received ts, id)`` held by ``post_ids``, newest first (or oldest).

        ``before``: only items received before this timestamp; ``since``: only those
        received at or after it; ``receipts``: the receipts they hold, not the files
        and summaries.
        """
        streams = []
        bounds = self._bounds(before, since)
        shelf = self._shelf(receipts=receipts)
        for post_id in post_ids:
            for priority in priorities:
                held = shelf.get((post_id, priority))
                if not held:
                    continue
                keys = held.keys(**bounds)
                # BTree ranges iterate backwards in place (bucket links), no copy
                streams.append(iter(keys) if oldest_first else reversed(keys))
        if oldest_first:
            return heapq.merge(*streams)
        return heapq.merge(*streams, reverse=True)

    def held_count(self, post_ids, priorities=PRIORITIES, before=None, since=None,
                   receipts=False):
        """How many items ``post_ids`` hold (received in ``[since, before)`` if given).
        Counted by the BTrees' own range lengths (bucket by bucket), not item by item."""
        shelf = self._shelf(receipts=receipts)
        if before is None and since is None:
            return sum(len(shelf.get((p, pr), ())) for p in post_ids for pr in priorities)
        bounds = self._bounds(before, since)
        return sum(len(held.keys(**bounds)) for p in post_ids for pr in priorities
                   for held in (shelf.get((p, pr)),) if held)

    def sent_by(self, post_ids):
        """Iterate ``(-sent ts, id)`` sent by ``post_ids``, newest first."""
        return heapq.merge(*(iter(self._sent[p].keys()) for p in post_ids if p in self._sent))

    def count(self, department, kind, state):
        length = self._counts.get((department, kind, state))
        return length() if length is not None else 0

    def stays_left_after(self, post_ids, after):
        """Iterate ``(left ts, since ts, priority, id)``: the completed stays of a day
        or more at ``post_ids`` that ended after ``after`` (a timestamp)."""
        tree = getattr(self, '_stays', None) or {}
        for post_id in post_ids:
            stays = tree.get(post_id)
            if stays:
                yield from stays.keys(min=(after,), excludemin=False)

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
