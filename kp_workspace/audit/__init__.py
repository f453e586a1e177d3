"""The audit log: append-only, in its own database.

The log lives in the ZODB database named ``audit`` (``zodbconn.uri.audit``), a
storage of its own beside the main one, so undoing or packing the main
database cannot remove entries.  Both databases commit in one transaction, so
an action and its audit entry are stored together or not at all.

Entries are keyed by the negated time of the action in microseconds (times a
small counter), so iterating keys in ascending order walks from the newest
entry back, and a page or a jump to a date is a range read on the BTrees, not a
scan: paging costs the same with ten entries or ten million.

Every action of every request writes here, so the entries are spread over
:data:`SHARDS` BTrees at random: two concurrent requests rarely write to the
same one (the newest bucket of one tree, filling from the front, splits every
thirty entries, and a split collides with every concurrent write to it).  A
key's remainder modulo the number of shards is its shard, so keys are unique
across shards; pages merge the shards.
"""
import datetime
import heapq
import random

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from persistent import Persistent
from pyramid_zodbconn import get_connection

from ..records import Record

ROOT_KEY = 'kp_workspace.audit_log'
_SPREAD = 1024  # keys per microsecond, so concurrent writers rarely collide
SHARDS = 8


class AuditEntry(Record):
    """One recorded action.  Immutable by convention: nothing in the code sets
    its attributes after creation, and the log offers no way to change or
    remove it."""

    def __init__(self, at, actor, action, target, client, details):
        self.at = at                  # aware UTC datetime
        self.actor = actor            # login, or 'console' for kpw, or '' when anonymous
        self.action = action          # dotted name, e.g. 'user.created'
        self.target = target          # what it was done to, e.g. 'user:so.finance'
        self.client = client          # client address, or 'console'
        self.details = tuple(details)  # ((name, value), ...) all strings

    def details_text(self):
        return '; '.join(f'{k}: {v}' for k, v in self.details)


def _key_for(at):
    micros = int(at.timestamp() * 1_000_000)
    return -(micros * _SPREAD + random.randrange(_SPREAD))


class AuditLog(Persistent):
    """Append-only, newest-first log of :class:`AuditEntry`."""

    _shards = None  # (a log of an older release has only _entries until evolve step 7)

    def __init__(self):
        super().__init__()
        self._entries = LOBTree()
        self._count = Length(0)
        self.add_shards()

    def add_shards(self):
        """Spread new entries over :data:`SHARDS` trees (the first is the one an
        older release wrote to)."""
        if self._shards is None:
            self._shards = (self._entries,) + tuple(LOBTree() for _ in range(SHARDS - 1))

    def _trees(self):
        return self._shards or (self._entries,)

    def __len__(self):
        return self._count()

    def append(self, entry):
        trees = self._trees()
        shard = random.randrange(len(trees))
        key = _key_for(entry.at)
        # Entries written through this connection keep their order even within
        # one microsecond (a volatile attribute: per connection, never stored).
        last = getattr(self, '_v_last_key', None)
        if last is not None and key >= last:
            key = last - 1
        key -= (key - shard) % len(trees)  # (the shard is the key's remainder)
        tree = trees[shard]
        while key in tree:  # same microsecond and same draw: step aside
            key -= len(trees)
        tree[key] = entry
        self._count.change(1)
        self._v_last_key = key
        return key

    def page(self, after=None, before_time=None, limit=50):
        """Up to ``limit`` entries, newest first.

        :param after: a cursor returned by a previous call: continue after it.
        :param before_time: an aware datetime: start at the newest entry older than it.
        :returns: ``(entries, next_cursor)``; ``next_cursor`` is None on the last page.
        """
        if after is not None:
            start = {'min': after, 'excludemin': True}
        elif before_time is not None:
            start = {'min': -(int(before_time.timestamp() * 1_000_000) * _SPREAD),
                     'excludemin': True}
        else:
            start = {}
        entries, cursor = [], None
        for key, entry in heapq.merge(*(tree.items(**start) for tree in self._trees()),
                                      key=lambda pair: pair[0]):
            if len(entries) == limit:
                return entries, cursor
            entries.append(entry)
            cursor = key
        return entries, None


def ensure_audit_log(connection):
    """Return the log in the audit database of ``connection``, creating it once."""
    root = connection.get_connection('audit').root()
    log = root.get(ROOT_KEY)
    if log is None:
        log = root[ROOT_KEY] = AuditLog()
    return log


def audit_log(request):
    return get_connection(request, 'audit').root()[ROOT_KEY]


def now():
    return datetime.datetime.now(datetime.timezone.utc)


class Actor:
    """Who is acting, from where, and the log their actions go to.

    The domain takes an Actor instead of a request so that browser views, the
    JSON API and the ``kpw`` console record actions the same way.
    """

    def __init__(self, login, client, log):
        self.login = login or ''
        self.client = client or ''
        self.log = log

    def record(self, action, target='', **details):
        entry = AuditEntry(now(), self.login, action, target, self.client,
                           sorted((k, str(v)) for k, v in details.items()))
        self.log.append(entry)
        return entry


def actor_from_request(request, login=None):
    """The Actor for ``request``: the signed-in user (or ``login``) and the client address."""
    if login is None:
        identity = request.identity
        login = identity.login if identity is not None else ''
    return Actor(login, request.client_addr or '', audit_log(request))
