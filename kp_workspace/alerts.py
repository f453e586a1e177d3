"""In-app alerts to users, with an unread count; e-mail too when a mailer is set up.

An alert goes to every user holding the post a file or summary reaches.  Mail
is sent through pyramid_mailer's transactional ``send``: only after the
transaction commits, so an aborted action sends nothing.
"""
import datetime
import itertools

from BTrees.Length import Length
from BTrees.LLBTree import LLBTree, LLTreeSet
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid_mailer.message import Message

from .records import Record

KINDS = {
    'arrived': 'A file reached you',
    'returned': 'A file you sent came back',
    'decided': 'A summary was decided',
    'receipt': 'A letter was marked to you',
    'implementation_overdue': 'A cabinet decision is overdue for implementation',
}


class Alert(Record):
    def __init__(self, at, kind, text, item_id):
        self.at, self.kind, self.text, self.item_id = at, kind, text, item_id


EMPTY = 0   # the cursor of a box with no alert yet: every alert is newer (numbers are > 0)
# Kept in every box's set of unnumbered alerts, never an alert's key (those are < 0): a
# reading that numbered every alert would otherwise empty the set, and ZODB cannot merge
# an emptied tree set with an alert added to it at the same time (a conflict, retried).
KEEP = 0


class AlertBox(Persistent):
    """One user's alerts, newest first, and which of them are unread.

    ``_unread`` holds ``(item id, key)`` of every unread alert, so that the alerts
    about one item are found (and marked read when the user opens it) without
    walking the box.  It is a tree set of its own: a new alert and a reading
    rarely touch the same bucket, and when they do ZODB merges or retries.

    Each alert also has a number (``_numbered``: number -> key): what an app asks for
    "since" it last looked.  The time of an alert would not do: a slow transaction (a
    signature waiting for the time-stamping service) commits an alert timed before one
    an app has already read.  Numbers are given when the alerts are read for an app
    (:meth:`since`), to those added since the last reading, oldest first: an alert
    committed late is numbered after every alert already read, and so is still new to
    the app.  Adding an alert only inserts into tree sets (``_unnumbered``), which
    concurrent transactions merge: the actions that alert a busy post do not conflict
    over its holder's box; only two readings of one box at once do, and one is retried.
    """

    _unread = None       # (before generation 10: see evolve.step_10_alerts_by_item)
    _numbered = None     # (before generation 21: see evolve.step_21_alert_numbers)
    _unnumbered = None   # keys of the alerts added since the last reading
    last_number = 0

    def __init__(self):
        super().__init__()
        self._items = LOBTree()     # -(microseconds) -> Alert, newest first
        self._unread = OOTreeSet()  # (item id or '', key) of the unread alerts
        self._numbered = LLBTree()  # number (in the order read) -> key
        self._unnumbered = LLTreeSet([KEEP])
        self.unread = Length(0)
        self.read_through = None    # (before generation 10) key of the newest alert read

    def add(self, alert):
        key = -int(alert.at.timestamp() * 1_000_000)
        while key in self._items:
            key -= 1
        self._items[key] = alert
        self._unread.add((alert.item_id or '', key))
        self._unnumbered.add(key)
        self.unread.change(1)

    def _number(self, key):
        self.last_number += 1
        self._numbered[self.last_number] = key

    def number_new(self):
        """Number the alerts added since the last reading, oldest first (a write only
        when there are some).  :returns: how many."""
        keys = list(self._unnumbered.keys(max=KEEP, excludemax=True))  # (the newest first)
        for key in reversed(keys):
            self._number(key)
        for key in keys:   # (one by one: an alert added meanwhile stays, to be numbered;
            self._unnumbered.remove(key)   # and never all: see KEEP)
        return len(keys)

    def number_all(self):
        """Number the alerts of a box from before generation 21, oldest first."""
        self._numbered = LLBTree()
        self._unnumbered = LLTreeSet([KEEP])
        self.last_number = 0
        for key in reversed(self._items.keys()):
            self._number(key)

    def newest(self, limit=50):
        found = []
        for key, alert in self._items.items():
            if len(found) == limit:
                break
            found.append((alert, (alert.item_id or '', key) in self._unread))
        return found

    def since(self, cursor=None, limit=50):
        """``([(alert, unread)], cursor, more)``: the alerts added after ``cursor`` (a
        number this gave before; None: the newest ``limit``), newest first; the cursor to
        ask from next; whether more new ones wait (ask again from the new cursor).

        From a cursor the oldest new ones come first, so none is skipped however many
        arrived since.  Numbers the alerts added since the last reading first.
        """
        self.number_new()
        if cursor is None:
            numbers = list(itertools.islice(reversed(self._numbered.keys()), limit))[::-1]
            more = False
        else:
            numbers = list(itertools.islice(
                self._numbered.keys(min=cursor, excludemin=True), limit + 1))
            more = len(numbers) > limit
            numbers = numbers[:limit]
        newest = numbers[-1] if numbers else (self.last_number if cursor is None else cursor)
        keys = [self._numbered[n] for n in reversed(numbers)]
        found = [(self._items[k], (self._items[k].item_id or '', k) in self._unread)
                 for k in keys]
        return found, newest, more

    def mark_read(self):
        if len(self._items):
            self.read_through = self._items.minKey()
        self._unread.clear()
        self.unread.set(0)

    def unread_about(self, item_id):
        """The keys of the unread alerts about ``item_id`` (reads only)."""
        return list(self._unread.keys(min=(item_id,), max=(item_id, 0)))

    def mark_item_read(self, item_id):
        """Mark the alerts about ``item_id`` read.  :returns: how many were unread."""
        keys = self.unread_about(item_id)
        for key in keys:
            self._unread.remove(key)
        if keys:
            self.unread.change(-min(len(keys), self.unread()))
        return len(keys)

    def index_unread(self):
        """Build ``_unread`` from the older mark (every alert newer than the last read)."""
        self._unread = OOTreeSet()
        count = 0
        for key, alert in self._items.items():
            if self.read_through is not None and key >= self.read_through:
                break
            self._unread.add((alert.item_id or '', key))
            count += 1
        self.unread.set(count)


class AlertStore(Persistent):
    def __init__(self):
        super().__init__()
        self._boxes = OOBTree()

    def box(self, login, create=False):
        box = self._boxes.get(login)
        if box is None and create:
            box = self._boxes[login] = AlertBox()
        return box


def read_alerts_about(site, login, item_id):
    """``login`` opened ``item_id``: their unread alerts about it become read (theirs only).

    Writes nothing when there is nothing unread, so most page views stay reads.
    :returns: how many alerts were marked read.
    """
    box = site.alerts.box(login)
    if box is None or not box.unread_about(item_id):
        return 0
    return box.mark_item_read(item_id)


def notify_post(site, post_id, kind, text, item, mailer=None, sender=None):
    """Alert every holder of ``post_id`` (except ``sender``) about ``item``."""
    principals = site['principals']
    post = principals.posts.get(post_id)
    if post is None:
        return 0
    now = datetime.datetime.now(datetime.timezone.utc)
    sent = 0
    holders = list(principals.holders(post))
    charges = getattr(site, 'charges', None)
    if charges is not None:   # and whoever holds its charge today
        holders.extend(principals.users[login] for login in charges.acting(post_id)
                       if login in principals.users)
    for user in holders:
        if user.login == sender or not user.active:
            continue
        site.alerts.box(user.login, create=True).add(Alert(now, kind, text, item.id))
        if mailer is not None and user.email:
            mailer.send(Message(subject=f'[KP Workspace] {KINDS[kind]}: {item.number}',
                                recipients=[user.email], body=f'{text}\n'))
        sent += 1
    return sent
