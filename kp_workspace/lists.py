"""The lists officers open all day, read from the desk registers (never by walking files).

Each function returns ready rows and a total; the cost is the page asked for
plus a few BTree lookups, whatever the size of the archive.

What waits with a post is what it holds and what it parked (awaiting a reply) whose
date has come: the inbox, pending and overdue lists merge the two registers, a parked
file counting from the day it came back, due.
"""
import collections
import datetime
import heapq
import itertools

from .desk import PRIORITIES, page

DAY = 86400.0

#: A page of a list: its rows, how many the list holds (None: not counted), whether
#: more follow, and then the key of the last row read -- the cursor of the next page
#: (``after=``), which stays right while items arrive and leave (an offset would not).
Page = collections.namedtuple('Page', 'rows total more next')


def _page(keys, offset, limit):
    """``(keys, more, next)``: a page of ``keys`` from ``offset``, and its cursor."""
    chunk, more = page(keys, offset, limit)
    return chunk, more, (chunk[-1] if more and chunk else None)


def _limits(overdue_days):
    return dict(overdue_days)


def row(item, received_ts, now_ts, limits):
    age = (now_ts - received_ts) / DAY
    return {
        'id': item.id, 'kind': item.kind, 'number': item.number, 'subject': item.subject,
        'priority': item.priority, 'classification': item.classification, 'state': item.state,
        'holder': item.holder,
        'received_at': datetime.datetime.fromtimestamp(received_ts, datetime.timezone.utc)
        .isoformat(),
        'age_days': int(age),
        'overdue': age > limits.get(item.priority, 7),
    }


def parked_row(r, parking, now_ts):
    """Add to a list row what its parking says: until when, why, and whether it is due."""
    r['parked_until'] = datetime.datetime.fromtimestamp(parking.until, datetime.timezone.utc) \
        .isoformat()
    r['reason'] = parking.reason
    r['due'] = parking.until <= now_ts
    return r


def _rows(desk, keys, now_ts, limits):
    rows = []
    for received_ts, item_id in keys:
        item = desk.items.get(item_id)
        if item is not None:
            r = row(item, received_ts, now_ts, limits)
            parking = desk.parking_of(item_id)
            if parking is not None:  # (came back from parking: due since received_ts)
                parked_row(r, parking, now_ts)
            rows.append(r)
    return rows


def waiting(desk, post_ids, now_ts, oldest_first=False, priorities=PRIORITIES, before=None,
            after=None):
    """Iterate ``(since ts, id)`` of what waits with ``post_ids``: what they hold (since
    it came) and what they parked whose date has come (since that date), newest first
    (or oldest); ``before``: only what waits since before that timestamp; ``after``:
    only what comes after that key in this order."""
    due_before = now_ts if before is None else min(before, now_ts)
    streams = (desk.held(post_ids, oldest_first, priorities, before, after=after),
               desk.parked(post_ids, oldest_first, priorities, due_before, after=after))
    if oldest_first:
        return heapq.merge(*streams)
    return heapq.merge(*streams, reverse=True)


def waiting_count(desk, post_ids, now_ts):
    """How many items wait with ``post_ids`` (held, and parked and due): range lengths."""
    return desk.held_count(post_ids) + desk.parked_count(post_ids, before=now_ts)


def inbox(desk, post_ids, overdue_days, now_ts, offset=0, limit=50, after=None):
    """What waits with the posts, newest first (a parked file, due, from its date)."""
    keys, more, next_key = _page(waiting(desk, post_ids, now_ts, after=after), offset, limit)
    return Page(_rows(desk, keys, now_ts, _limits(overdue_days)),
                waiting_count(desk, post_ids, now_ts), more, next_key)


def receipts(desk, post_ids, overdue_days, now_ts, offset=0, limit=50, after=None):
    """The receipts (letters in the dak) marked to the posts, newest first."""
    keys, more, next_key = _page(desk.held(post_ids, receipts=True, after=after),
                                 offset, limit)
    return Page(_rows(desk, keys, now_ts, _limits(overdue_days)),
                desk.held_count(post_ids, receipts=True), more, next_key)


def pending(desk, post_ids, overdue_days, now_ts, offset=0, limit=50, after=None):
    """What waits with the posts, oldest (longest waiting) first."""
    keys, more, next_key = _page(waiting(desk, post_ids, now_ts, oldest_first=True,
                                         after=after), offset, limit)
    return Page(_rows(desk, keys, now_ts, _limits(overdue_days)),
                waiting_count(desk, post_ids, now_ts), more, next_key)


def parked(desk, post_ids, overdue_days, now_ts, offset=0, limit=50, after=None):
    """What the posts parked awaiting a reply, soonest due first (the due ones first
    of all, marked ``due``), each with its date and reason."""
    keys, more, next_key = _page(desk.parked(post_ids, after=after), offset, limit)
    rows = []
    for until_ts, item_id in keys:
        item = desk.items.get(item_id)
        parking = desk.parking_of(item_id)
        if item is not None and parking is not None:
            rows.append(parked_row(row(item, item.received_at, now_ts, _limits(overdue_days)),
                                   parking, now_ts))
    return Page(rows, desk.parked_count(post_ids), more, next_key)


def follow_ups_due(desk, post_ids, now_ts, limit=50):
    """The reminders: files parked at ``post_ids`` whose date has come, due longest
    first (at most ``limit``), and how many there are.  :returns: ``(rows, count)``"""
    keys, _more = page(desk.parked(post_ids, before=now_ts), 0, limit)
    rows = []
    for until_ts, item_id in keys:
        item = desk.items.get(item_id)
        parking = desk.parking_of(item_id)
        if item is not None and parking is not None:
            rows.append(parked_row(row(item, until_ts, now_ts, {}), parking, now_ts))
    return rows, desk.parked_count(post_ids, before=now_ts)


def _overdue_keys(desk, post_ids, overdue_days, now_ts, after=None):
    streams = [waiting(desk, post_ids, now_ts, oldest_first=True, priorities=(priority,),
                       before=now_ts - days * DAY, after=after)
               for priority, days in overdue_days]
    return heapq.merge(*streams)


def overdue(desk, post_ids, overdue_days, now_ts, offset=0, limit=50, after=None):
    """Held past the limit of their priority, oldest first."""
    keys, more, next_key = _page(_overdue_keys(desk, post_ids, overdue_days, now_ts, after),
                                 offset, limit)
    total = None  # counting every overdue item would walk them all; pages say if more follow
    return Page(_rows(desk, keys, now_ts, _limits(overdue_days)), total, more, next_key)


def sent(desk, post_ids, overdue_days, now_ts, offset=0, limit=50, after=None):
    """What the posts sent, newest first, with where each item is now."""
    keys, more, next_key = _page(desk.sent_by(post_ids, after), offset, limit)
    rows = []
    for neg_ts, item_id in keys:
        item = desk.items.get(item_id)
        if item is not None:
            r = row(item, item.received_at, now_ts, _limits(overdue_days))
            r['sent_at'] = datetime.datetime.fromtimestamp(-neg_ts, datetime.timezone.utc).isoformat()
            r['now_since'] = now_since(item).isoformat()
            rows.append(r)
    return Page(rows, None, more, next_key)


def now_since(item):
    """Since when ``item`` is where it is now: closed, filed, decided, or with its holder."""
    for state, name in (('closed', 'closed_at'), ('filed', 'filed_at'),
                        ('decided', 'decided_at')):
        if item.state == state and getattr(item, name, None) is not None:
            return getattr(item, name)
    return datetime.datetime.fromtimestamp(item.received_at, datetime.timezone.utc)


def _bounded(iterator, cap):
    """``(count, more)``: how many ``iterator`` yields, counting no further than ``cap``."""
    n = sum(1 for _k in itertools.islice(iterator, cap + 1))
    return min(n, cap), n > cap


def at_a_glance(desk, post_ids, overdue_days, now_ts, longest=5, cap=99):
    """What the home page shows: counts per list and the items waiting longest.

    Inbox and pending are the same items (in another order): one count.  Overdue and
    sent are counted no further than ``cap`` (``more`` says there are more), so the cost
    stays with the page, whatever the archive holds.  Parked and due (for follow-up)
    are range lengths of the parking register.
    """
    rows, held, _more, _next = pending(desk, post_ids, overdue_days, now_ts, 0, longest)
    return {
        'held': held,
        'parked': desk.parked_count(post_ids),
        'due': desk.parked_count(post_ids, before=now_ts),
        'overdue': _bounded(_overdue_keys(desk, post_ids, overdue_days, now_ts), cap),
        'sent': _bounded(desk.sent_by(post_ids), cap),
        'longest': rows,
    }


def dashboard(site, department, overdue_days, now_ts):
    """Counts by kind and state, and per post of the department: held, overdue, desk time."""
    desk = site.desk
    counts = {kind: {state: desk.count(department, kind, state) for state in states}
              for kind, states in (('file', ('open', 'closed')),
                                   ('summary', ('draft', 'submitted', 'with_cm', 'decided')))}
    posts = []
    for post in site['principals'].posts.values():
        if post.department != department:
            continue
        held = desk.held_count([post.post_id])
        late = 0
        for priority, days in overdue_days:
            late += desk.held_count([post.post_id], priorities=(priority,),
                                    before=now_ts - days * DAY)
        average, stays = desk.desk_time(post.post_id)
        posts.append({'id': post.post_id, 'title': post.title, 'held': held, 'overdue': late,
                      'average_days': round(average / DAY, 1) if average is not None else None,
                      'average_seconds': average,
                      'stays': stays})
    return counts, posts
