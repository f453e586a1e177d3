"""The audit log: append-only, tamper-evident, in its own database.

The log lives in the ZODB database named ``audit`` (``zodbconn.uri.audit``), a
storage of its own beside the main one, so undoing or packing the main
database cannot remove entries.  Both databases commit in one transaction, so
an action and its audit entry are stored together or not at all.

Entries are keyed by the negated time of the action in microseconds (times a
small counter), so iterating keys in ascending order walks from the newest
entry back, and a page or a jump to a date is a range read on the BTrees, not a
scan: paging costs the same with ten entries or ten million.

Every action of every request writes here, so the entries are spread over
:data:`SHARDS` BTrees.  A key's remainder modulo the number of shards is its
shard, so keys are unique across shards; pages merge the shards.  (A log of an
older release had one tree, then eight: evolve steps 7 and 14 add the others.
Its keys had remainders modulo fewer shards; a key written since is of a later
time, so smaller, unless a clock went back, and then it would still have to
draw the same one of 1,024 keys of that microsecond.)

**The chains.**  Each shard is a hash chain of its own: an entry carries its
shard, its position ``seq`` in the shard (1, 2, ...), the digest of the entry
before it (``prev``; the first entry of a shard points at the shard's fixed
genesis value) and its own ``digest``, a SHA-256 over all of that and every
field.  A shard's :class:`ShardHead` holds its count, the digest of its newest
entry and that entry's key.  Every append writes the head of its shard, and a
head does not merge concurrent changes: two transactions appending to one
shard at once conflict and one is retried, so a chain never forks.  There is no
single object every append writes: a connection keeps to one shard (picked in
turn as connections first write), so the requests of different threads
write different heads.  Processes (ZEO) each start their turns at random among
many more shards than a process has threads, so two processes rarely share a
shard, and a conflict sends the process to another random start.  Within a
shard, keys fall with ``seq`` (an append never takes a key above its shard's
newest), so the key order is the chain order.

**Anchors.**  Each head is copied, in the same transaction, to an anchor in the
*main* database (``kp_workspace.audit_anchors`` in its root).  Whoever removes
the newest entries of the audit database, even by cutting transactions off
the end of ``Audit.fs`` so that heads and entries agree again, leaves the
anchors ahead of the log.  To hide a change one must rewrite both databases
consistently.  (Back up the main database before the audit one: an audit copy
that is newer than the anchors is reported but accepted; an older one is not.)

:func:`verify` walks every shard, checks each digest, each link and the
positions, compares the newest entry with the head and the head with the
anchor, and names the first entry that was changed, removed or reordered.
The console runs it as ``kpw audit verify``.

**Older logs.**  A log made before chaining (evolve step 8) is chained once at
the migration: every entry there was then is given its place, link and
digest, oldest first.  From the migration on these entries are protected
like any other; what happened to them before it cannot be known.  Each head
remembers how many entries it chained at the migration and when, and
``kpw audit verify`` says so.
"""
import datetime
import hashlib
import heapq
import itertools
import json
import random

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from persistent import Persistent
from pyramid_zodbconn import get_connection

from ..records import Record
from ..security.client import client_address

ROOT_KEY = 'kp_workspace.audit_log'
ANCHORS_KEY = 'kp_workspace.audit_anchors'  # in the root of the main database
_SPREAD = 1024  # keys per microsecond, so concurrent writers rarely collide
# Many more than the threads of a process (8 by default): with 8 shards, two
# processes of 8 threads each shared every shard, and under load reads of PDFs
# (audited) were refused after every retry.
SHARDS = 64
# The shard a connection writes to, handed out in turn (a hint for spreading
# writers, not a rule: any shard is correct).  Started at random so that two
# processes do not hand out the same shards in step.
_next_shard = itertools.count(random.randrange(SHARDS))
# Moved on by every conflict on a shard (:func:`conflicted`): a connection that wrote
# to a shard before it takes another at its next append.
_turn = 0


def conflicted(exc):
    """A transaction of this process met ``exc`` (a ConflictError) and will be
    retried: every connection here takes a new shard at its next append, in turn
    from a new random start.  A connection keeps its shard, and across processes two
    connections can hold the same one, so a retry on it would meet the same writer
    again; moving on in turn could keep two processes' turns overlapping.  Any
    conflict counts: the one reported may be on a shard's head, its anchor or its
    tree's buckets."""
    global _turn, _next_shard
    _next_shard = itertools.count(random.randrange(SHARDS))
    _turn += 1


def genesis(shard):
    """The ``prev`` of the first entry of ``shard``."""
    return hashlib.sha256(f'kp_workspace audit shard {shard}'.encode('ascii')).hexdigest()


class AuditEntry(Record):
    """One recorded action.  Immutable by convention: nothing in the code sets
    its attributes after it is appended, and the log offers no way to change
    or remove it.  :meth:`AuditLog.append` gives it its place in a chain
    (``shard``, ``seq``, ``prev``, ``digest``)."""

    shard = seq = prev = digest = None  # (unchained: not yet appended, or an older log)

    def __init__(self, at, actor, action, target, client, details):
        self.at = at                  # aware UTC datetime
        self.actor = actor            # login, or 'console' for kpw, or '' when anonymous
        self.action = action          # dotted name, e.g. 'user.created'
        self.target = target          # what it was done to, e.g. 'user:so.finance'
        self.client = client          # client address, or 'console'
        self.details = tuple(details)  # ((name, value), ...) all strings

    def details_text(self):
        return '; '.join(f'{k}: {v}' for k, v in self.details)

    def link(self, shard, seq, prev):
        """Give this entry (not yet stored) position ``seq`` of ``shard``, after ``prev``."""
        self.shard, self.seq, self.prev = shard, seq, prev
        self.digest = self.compute_digest()
        return self

    def copy(self):
        return AuditEntry(self.at, self.actor, self.action, self.target, self.client,
                          self.details)

    def compute_digest(self):
        """SHA-256 over the chain fields and every field, as a hex string."""
        fields = [1, self.shard, self.seq, self.prev, self.at.isoformat(), self.actor,
                  self.action, self.target, self.client, [list(d) for d in self.details]]
        # ASCII with escapes: any string, even a lone surrogate, has one encoding
        text = json.dumps(fields, ensure_ascii=True, separators=(',', ':'))
        return hashlib.sha256(text.encode('ascii')).hexdigest()

    def describe(self):
        when = self.at.strftime('%Y-%m-%d %H:%M:%S UTC')
        return f'{when} {self.actor or "-"} {self.action} {self.target or "-"}'


class ShardHead(Persistent):
    """The newest entry of one shard's chain.  No conflict resolution on
    purpose: concurrent appends to one shard must not both succeed."""

    def __init__(self, shard):
        self.shard = shard
        self.count = 0
        self.digest = genesis(shard)
        self.key = None      # the key of the newest entry
        self.migrated = 0    # entries chained at the migration (evolve step 8)
        self.migrated_at = None


class ShardAnchor(Persistent):
    """A copy of a shard's head (count and digest) kept in the main database."""

    def __init__(self, shard, count=0, digest=None):
        self.shard, self.count, self.digest = shard, count, digest or genesis(shard)


class AuditAnchors(Persistent):
    def __init__(self, heads):
        self.shards = ()
        self.extend(heads)

    def extend(self, heads):
        """Anchor the heads of shards added to the log (evolve step 14)."""
        self.shards += tuple(ShardAnchor(h.shard, h.count, h.digest)
                             for h in heads[len(self.shards):])


def _key_for(at):
    micros = int(at.timestamp() * 1_000_000)
    return -(micros * _SPREAD + random.randrange(_SPREAD))


class AuditLog(Persistent):
    """Append-only, newest-first log of :class:`AuditEntry`, one chain per shard."""

    _shards = None  # (a log of an older release has only _entries until evolve step 7)
    _heads = None   # (and is not chained until evolve step 8)

    def __init__(self):
        super().__init__()
        self._entries = LOBTree()
        self._count = Length(0)
        self.add_shards()
        self._heads = tuple(ShardHead(n) for n in range(SHARDS))

    def add_shards(self):
        """Spread new entries over :data:`SHARDS` trees (the first is the one an
        older release wrote to; evolve step 7), or add trees to a log of fewer
        shards (step 14): a chained log gets a head and an anchor for each."""
        trees = self._trees()
        if len(trees) < SHARDS:
            self._shards = trees + tuple(LOBTree() for _ in range(SHARDS - len(trees)))
        if self._heads is not None:
            if len(self._heads) < len(self._shards):
                self._heads += tuple(ShardHead(n)
                                     for n in range(len(self._heads), len(self._shards)))
            # (also when the trees were there already: a main database restored from
            # before this step holds fewer anchors than the audit one has heads)
            anchors = self.anchors()
            if anchors is not None and len(anchors.shards) < len(self._heads):
                anchors.extend(self._heads)

    def _trees(self):
        return self._shards or (self._entries,)

    def __len__(self):
        return self._count()

    @property
    def chained(self):
        return self._shards is not None and self._heads is not None

    def heads(self):
        return self._heads or ()

    def anchors(self):
        """The anchors in the main database, or None (a log outside a database,
        or one whose anchors are missing)."""
        jar = self._p_jar
        if jar is None:
            return None
        return jar.get_connection('').root().get(ANCHORS_KEY)

    def _shard_for_append(self):
        shard = getattr(self, '_v_shard', None)  # (per connection, never stored)
        if shard is None or getattr(self, '_v_turn', _turn) != _turn:
            shard = self._v_shard = next(_next_shard) % len(self._trees())
            self._v_turn = _turn
        return shard

    def append(self, entry):
        """Add ``entry`` at the newest end of one shard's chain.  :returns: its key."""
        trees = self._trees()
        shard = self._shard_for_append() if self.chained else random.randrange(len(trees))
        key = _key_for(entry.at)
        # Entries written through this connection keep their order even within
        # one microsecond (a volatile attribute: per connection, never stored).
        last = getattr(self, '_v_last_key', None)
        if last is not None and key >= last:
            key = last - 1
        head = self._heads[shard] if self.chained else None
        if head is not None and head.key is not None and key >= head.key:
            key = head.key - 1  # (another process's clock may be ahead: keep chain order)
        key -= (key - shard) % len(trees)  # (the shard is the key's remainder)
        tree = trees[shard]
        while key in tree:  # same microsecond and same draw: step aside
            key -= len(trees)
        if head is not None:
            entry.link(shard, head.count + 1, head.digest)
            head.count, head.digest, head.key = entry.seq, entry.digest, key
            anchors = self.anchors()
            if anchors is not None:
                if shard >= len(anchors.shards):  # (see add_shards)
                    anchors.extend(self._heads)
                anchor = anchors.shards[shard]
                anchor.count, anchor.digest = head.count, head.digest
        tree[key] = entry
        self._count.change(1)
        self._v_last_key = key
        return key

    def chain_all(self, at):
        """Chain every entry as it stands, oldest first, shard by shard (the
        migration of an older log, evolve step 8); sets the heads and anchors."""
        self.add_shards()
        heads = []
        for shard, tree in enumerate(self._trees()):
            head = ShardHead(shard)
            for key in reversed(list(tree.keys())):
                # (a new object: a bucket ignores a value equal to the one it holds)
                entry = tree[key].copy().link(shard, head.count + 1, head.digest)
                tree[key] = entry
                head.count, head.digest, head.key = entry.seq, entry.digest, key
            head.migrated, head.migrated_at = head.count, at
            heads.append(head)
        self._heads = tuple(heads)

    def page(self, after=None, before_time=None, limit=50):
        """Up to ``limit`` entries, newest first.

        :param after: a cursor returned by a previous call: continue after it.
        :param before_time: an aware datetime: start at the newest entry older than it.
        :returns: ``(entries, next_cursor)``; ``next_cursor`` is None on the last page.
        """
        entries, cursor = [], None
        for key, entry in self.walk(after, before_time):
            if len(entries) == limit:
                return entries, cursor
            entries.append(entry)
            cursor = key
        return entries, None

    def walk(self, after=None, before_time=None):
        """``(key, entry)`` pairs, newest first, from a cursor or a time back."""
        if after is not None:
            start = {'min': after, 'excludemin': True}
        elif before_time is not None:
            start = {'min': time_key(before_time), 'excludemin': True}
        else:
            start = {}
        return heapq.merge(*(tree.items(**start) for tree in self._trees()),
                           key=lambda pair: pair[0])


def time_key(at):
    """The key below which (newer than) no entry is older than ``at``."""
    return -(int(at.timestamp() * 1_000_000) * _SPREAD)


def ensure_audit_log(connection):
    """Return the log in the audit database of ``connection``, creating it (and
    its anchors in the main database) once."""
    audit = connection.get_connection('audit')
    root = audit.root()
    log = root.get(ROOT_KEY)
    if log is None:
        log = AuditLog()
        audit.add(log)
        root[ROOT_KEY] = log
        ensure_anchors(log)
    return log


def ensure_anchors(log):
    """Anchor the heads of ``log`` in the main database (a new log, or the migration)."""
    main = log._p_jar.get_connection('').root()
    main[ANCHORS_KEY] = AuditAnchors(log.heads())


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
        entry = make_entry(self.login, self.client, action, target, details)
        self.log.append(entry)
        return entry


def make_entry(login, client, action, target, details):
    """A new :class:`AuditEntry` of now; ``details`` values are kept as strings."""
    return AuditEntry(now(), login, action, target, client,
                      sorted((k, str(v)) for k, v in details.items()))


def actor_from_request(request, login=None):
    """The Actor for ``request``: the signed-in user (or ``login``) and the client address."""
    if login is None:
        identity = request.identity
        login = identity.login if identity is not None else ''
    return Actor(login, client_address(request), audit_log(request))
