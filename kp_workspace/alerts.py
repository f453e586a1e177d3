"""In-app alerts to users, with an unread count; e-mail too when a mailer is set up.

An alert goes to every user holding the post a file or summary reaches.  Mail
is sent through pyramid_mailer's transactional ``send``: only after the
transaction commits, so an aborted action sends nothing.
"""
import datetime

from BTrees.Length import Length
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
}


class Alert(Record):
    def __init__(self, at, kind, text, item_id):
        self.at, self.kind, self.text, self.item_id = at, kind, text, item_id


EMPTY = 0   # the cursor of a box with no alert yet: every alert is newer (keys are < 0)


class AlertBox(Persistent):
    """One user's alerts, newest first, and which of them are unread.

    ``_unread`` holds ``(item id, key)`` of every unread alert, so that the alerts
    about one item are found (and marked read when the user opens it) without
    walking the box.  It is a tree set of its own: a new alert and a reading
    rarely touch the same bucket, and when they do ZODB merges or retries.
    """

    _unread = None  # (before generation 10: see kp_workspace.evolve.step_10_alerts_by_item)

    def __init__(self):
        super().__init__()
        self._items = LOBTree()     # -(microseconds) -> Alert, newest first
        self._unread = OOTreeSet()  # (item id or '', key) of the unread alerts
        self.unread = Length(0)
        self.read_through = None    # (before generation 10) key of the newest alert read

    def add(self, alert):
        key = -int(alert.at.timestamp() * 1_000_000)
        while key in self._items:
            key -= 1
        self._items[key] = alert
        self._unread.add((alert.item_id or '', key))
        self.unread.change(1)

    def newest(self, limit=50):
        found = []
        for key, alert in self._items.items():
            if len(found) == limit:
                break
            found.append((alert, (alert.item_id or '', key) in self._unread))
        return found

    def since(self, cursor=None, limit=50):
        """``([(alert, unread)], cursor, more)``: the alerts newer than ``cursor`` (a
        position this gave before; None: the newest ``limit``), newest first; the position
        to ask from next; whether more newer ones wait (ask again from the new cursor).

        From a cursor the oldest new ones come first, so none is skipped however many
        arrived since; keys are ``-(microseconds)``, the newest the smallest.
        """
        if cursor is None:
            taken = []
            for key in self._items.keys():
                if len(taken) == limit:
                    break
                taken.append(key)
            more = False
            newest = taken[0] if taken else EMPTY
        else:
            taken = []
            for key in reversed(self._items.keys(max=cursor, excludemax=True)):
                if len(taken) == limit:
                    break
                taken.append(key)
            more = len(taken) == limit and next(
                iter(self._items.keys(max=taken[-1], excludemax=True)), None) is not None
            taken.reverse()
            newest = taken[0] if taken else cursor
        found = [(self._items[k], (self._items[k].item_id or '', k) in self._unread)
                 for k in taken]
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
