"""In-app alerts to users, with an unread count; e-mail too when a mailer is set up.

An alert goes to every user holding the post a file or summary reaches.  Mail
is sent through pyramid_mailer's transactional ``send``: only after the
transaction commits, so an aborted action sends nothing.
"""
import datetime

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid_mailer.message import Message

from .records import Record

KINDS = {
    'arrived': 'A file reached you',
    'returned': 'A file you sent came back',
    'decided': 'A summary was decided',
}


class Alert(Record):
    def __init__(self, at, kind, text, item_id):
        self.at, self.kind, self.text, self.item_id = at, kind, text, item_id


class AlertBox(Persistent):
    def __init__(self):
        super().__init__()
        self._items = LOBTree()     # -(microseconds) -> Alert, newest first
        self.unread = Length(0)
        self.read_through = None    # key of the newest alert marked read

    def add(self, alert):
        key = -int(alert.at.timestamp() * 1_000_000)
        while key in self._items:
            key -= 1
        self._items[key] = alert
        self.unread.change(1)

    def newest(self, limit=50):
        found = []
        for key, alert in self._items.items():
            if len(found) == limit:
                break
            read = self.read_through is not None and key >= self.read_through
            found.append((alert, not read))
        return found

    def mark_read(self):
        if len(self._items):
            self.read_through = self._items.minKey()
        self.unread.set(0)


class AlertStore(Persistent):
    def __init__(self):
        super().__init__()
        self._boxes = OOBTree()

    def box(self, login, create=False):
        box = self._boxes.get(login)
        if box is None and create:
            box = self._boxes[login] = AlertBox()
        return box


def notify_post(site, post_id, kind, text, item, mailer=None, sender=None):
    """Alert every holder of ``post_id`` (except ``sender``) about ``item``."""
    principals = site['principals']
    post = principals.posts.get(post_id)
    if post is None:
        return 0
    now = datetime.datetime.now(datetime.timezone.utc)
    sent = 0
    for user in principals.holders(post):
        if user.login == sender or not user.active:
            continue
        site.alerts.box(user.login, create=True).add(Alert(now, kind, text, item.id))
        if mailer is not None and user.email:
            mailer.send(Message(subject=f'[KP Workspace] {KINDS[kind]}: {item.number}',
                                recipients=[user.email], body=f'{text}\n'))
        sent += 1
    return sent
