"""The registers that lists read: what each post holds, what it sent, counts, desk time.

Every list users open all day (inbox, sent, pending, overdue, a department's
dashboard) reads these BTrees, kept current on every move, so its cost grows
with the page, not with the archive.  They also map a site-wide item id to its
file or summary.

Keys are chosen so concurrent moves rarely collide: sets of ``(time, id)``
tuples (BTrees resolve concurrent inserts of different keys) and
:class:`~BTrees.Length.Length` counters (concurrent changes add up).

Follow-ups live here too (from generation 19): the number of each item (to find
one by the number an officer types), the links between items ("put up with"),
and the files parked awaiting a reply, per post and priority keyed by the date
they are due, like the held items by the time they came.  A parked file is off
its holder's held set; the lists merge the held items with the parked ones whose
date has passed, so a file comes back "due" without any job running.  Every way
off a desk (:meth:`Desk.lift`, :meth:`Desk.unplace`) ends the parking, so moving,
closing or putting a file away clears it, whatever path it takes.
"""
import heapq
import itertools
import secrets

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent

from .records import Record

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


class Parking(Record):
    """Why and until when a file waits at its holder's post for a reply."""

    def __init__(self, post_id, until, reason, by, by_name, at):
        self.post_id = post_id      # the post it waits at (its holder when parked)
        self.until = until          # timestamp: when it comes back to the inbox, due
        self.reason = reason
        self.by, self.by_name = by, by_name
        self.at = at                # datetime: when it was parked


class Link(Record):
    """One file put up with another ("put up with FD/2025/0311"), and why."""

    def __init__(self, remark, by, by_name, post_id, at):
        self.remark = remark
        self.by, self.by_name = by, by_name
        self.post_id = post_id      # the post that linked them (the holder then)
        self.at = at


# (the largest id: item ids are short hex strings; ranges over (id, other id) keys end here)
_LAST = '\U0010ffff'


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
        # follow-ups (generation 19: kp_workspace.evolve.step_19_follow_ups)
        self._by_number = OOBTree()      # number -> id
        self._parked = OOBTree()         # (post id, priority) -> OOTreeSet((until ts, id))
        self._parking = OOBTree()        # id -> Parking
        self._links = OOBTree()          # (from id, to id) -> Link
        self._referred = OOTreeSet()     # (to id, from id): the links seen from their end

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
        self.numbers_tree()[item.number] = item.id

    def numbers_tree(self):
        # (a desk from before generation 19 gets its follow-up trees from evolve step 19;
        # these keep code running before that step safe, as stays_tree does)
        tree = getattr(self, '_by_number', None)
        if tree is None:
            tree = self._by_number = OOBTree()
        return tree

    def find_number(self, number):
        """The id of the item numbered ``number``, or None."""
        tree = getattr(self, '_by_number', None)
        return tree.get(number) if tree is not None else None

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
        """``item`` leaves ``post_id``, where it had waited since ``since`` (parked there
        or not: its parking ends)."""
        self.unpark(item)
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
        """Take ``item`` off ``post_id`` without counting a stay (its parking ends too)."""
        self.unpark(item)
        self.unplace_held(item, post_id, since)

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

    # parking (awaiting a reply) -------------------------------------------------
    def _follow_up_trees(self):
        if getattr(self, '_parking', None) is None:
            self._parked, self._parking = OOBTree(), OOBTree()
            self._links, self._referred = OOBTree(), OOTreeSet()
        return self._parked, self._parking

    def park(self, item, since, parking):
        """``item``, held at ``parking.post_id`` since ``since``, waits there until
        ``parking.until`` off the held set (parked already: the new date and reason
        replace the old)."""
        parked, by_id = self._follow_up_trees()
        if self.unpark(item) is None:
            self.unplace_held(item, parking.post_id, since)
        self._set(parked, (parking.post_id, item.priority)).add((parking.until, item.id))
        by_id[item.id] = parking

    def unpark(self, item):
        """End ``item``'s parking, if it has one, leaving it off every list (the caller
        places it or moves it on).  :returns: the :class:`Parking` it had, or None."""
        by_id = getattr(self, '_parking', None)
        parking = by_id.get(item.id) if by_id is not None else None
        if parking is None:
            return None
        del by_id[item.id]
        found = self._parked.get((parking.post_id, item.priority))
        if found is not None:
            found.discard((parking.until, item.id))
        return parking

    def resume(self, item, since):
        """``item`` is taken back from parking into its holder's held set, as held since
        ``since``.  :returns: the :class:`Parking` it had, or None (it was not parked)."""
        parking = self.unpark(item)
        if parking is not None:
            self.place(item, parking.post_id, since)
        return parking

    def unplace_held(self, item, post_id, since):
        """Take ``item`` off the held set of ``post_id`` (only)."""
        held = self._shelf(item).get((post_id, item.priority))
        if held is not None:
            held.discard((since, item.id))

    def parking_of(self, item_id):
        """The :class:`Parking` of ``item_id``, or None when it is not parked."""
        by_id = getattr(self, '_parking', None)
        return by_id.get(item_id) if by_id is not None else None

    def parked(self, post_ids, oldest_first=True, priorities=PRIORITIES, before=None,
               since=None, after=None):
        """Iterate ``(until ts, id)`` parked at ``post_ids``, soonest due first (or last).

        ``before``: only those due before this timestamp (``now``: the ones due now);
        ``after``: only those after this key in the order read (a page's cursor).
        """
        tree = getattr(self, '_parked', None)
        if not tree:
            return iter(())
        streams = []
        bounds = self._bounds(before, since, after, oldest_first)
        for post_id in post_ids:
            for priority in priorities:
                parked = tree.get((post_id, priority))
                if not parked:
                    continue
                keys = parked.keys(**bounds)
                streams.append(iter(keys) if oldest_first else reversed(keys))
        if oldest_first:
            return heapq.merge(*streams)
        return heapq.merge(*streams, reverse=True)

    def parked_count(self, post_ids, priorities=PRIORITIES, before=None):
        """How many items are parked at ``post_ids`` (due before ``before`` if given),
        counted by range lengths as :meth:`held_count` does."""
        tree = getattr(self, '_parked', None)
        if not tree:
            return 0
        bounds = self._bounds(before, None)
        return sum(len(parked.keys(**bounds)) for p in post_ids for pr in priorities
                   for parked in (tree.get((p, pr)),) if parked)

    # links ("put up with") ---------------------------------------------------------
    def link(self, from_id, to_id, link):
        self._follow_up_trees()
        self._links[(from_id, to_id)] = link
        self._referred.add((to_id, from_id))

    def unlink(self, from_id, to_id):
        """:returns: the :class:`Link` removed, or None when there was none."""
        links = getattr(self, '_links', None)
        link = links.get((from_id, to_id)) if links is not None else None
        if link is not None:
            del links[(from_id, to_id)]
            self._referred.discard((to_id, from_id))
        return link

    def link_between(self, from_id, to_id):
        links = getattr(self, '_links', None)
        return links.get((from_id, to_id)) if links is not None else None

    def links_from(self, item_id):
        """``[(to id, Link)]``: what ``item_id`` is put up with, in the order of the ids."""
        links = getattr(self, '_links', None)
        if not links:
            return []
        return [(key[1], link) for key, link in
                links.items(min=(item_id,), max=(item_id, _LAST))]

    def referred_from(self, item_id):
        """The ids of the items put up with ``item_id``."""
        referred = getattr(self, '_referred', None)
        if not referred:
            return []
        return [key[1] for key in referred.keys(min=(item_id,), max=(item_id, _LAST))]

    # forgetting (a file destroyed under a weeding list) --------------------------
    def forget(self, item):
        """Take ``item`` out of every register: the items, the counts, the numbers, what
        its posts sent, its parking and its links (both ways), a receipt's diary line.  Completed stays stay
        (they are counts of desk times, not the item)."""
        self.unpark(item)
        self.unplace_held(item, item.holder, item.received_at)
        if item.kind == 'receipt':
            diary = (getattr(self, '_diary', None) or {}).get(item.department)
            if diary is not None:
                diary.discard((item.created_at.timestamp(), item.id))
        for line in item.movements:
            sent = self._sent.get(line.from_post) if line.from_post else None
            if sent is not None:
                sent.discard((-line.at.timestamp(), item.id))
        for other, _link in self.links_from(item.id):
            self.unlink(item.id, other)
        for other in self.referred_from(item.id):
            self.unlink(other, item.id)
        numbers = self.numbers_tree()
        if numbers.get(item.number) == item.id:
            del numbers[item.number]
        self._count(item, -1)
        del self.items[item.id]

    # reading ---------------------------------------------------------------
    @staticmethod
    def _bounds(before, since, after=None, forwards=True):
        """BTree range arguments: keys received in ``[since, before)``, and, given a
        cursor ``after`` (a key of the same tree), only those strictly after it in the
        order read (``forwards``: ascending)."""
        bounds = {}
        if before is not None:
            bounds.update(max=(before,), excludemax=True)
        if since is not None:
            bounds.update(min=(since,))
        if after is not None:
            after = tuple(after)
            if forwards and (since is None or after >= (since,)):
                bounds.update(min=after, excludemin=True)
            elif not forwards and (before is None or after < (before,)):
                bounds.update(max=after, excludemax=True)
        return bounds

    def held(self, post_ids, oldest_first=False, priorities=PRIORITIES, before=None,
             since=None, receipts=False, after=None):
        """Iterate ``(received ts, id)`` held by ``post_ids``, newest first (or oldest).

        ``before``: only items received before this timestamp; ``since``: only those
        received at or after it; ``receipts``: the receipts they hold, not the files
        and summaries; ``after``: only those after this key in the order read (a
        page's cursor: what arrives or leaves meanwhile shifts no page).
        """
        streams = []
        bounds = self._bounds(before, since, after, oldest_first)
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

    def sent_by(self, post_ids, after=None):
        """Iterate ``(-sent ts, id)`` sent by ``post_ids``, newest first (after the key
        ``after``, a page's cursor, if given)."""
        bounds = self._bounds(None, None, after)
        return heapq.merge(*(iter(self._sent[p].keys(**bounds)) for p in post_ids
                             if p in self._sent))

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
