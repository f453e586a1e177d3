"""What case files and summaries share: a holder, a noting sheet and a movement register.

The domain operations here (open, write a note, move) keep the desk registers
(:mod:`kp_workspace.desk`) and the audit log in step; workflows call them, views
never touch the registers.
"""
import datetime

from BTrees.IOBTree import IOBTree
from persistent import Persistent
from persistent.list import PersistentList
from pyramid.i18n import TranslationStringFactory
from pyramid.threadlocal import get_current_registry

from ..alerts import notify_post
from ..errors import DomainError
from ..search import ItemChanged
from ..security.roles import ATTACH, DRAFT, FORWARD, REGISTER_RECEIPT, WRITE_NOTE
from ..text_rules import check_name, check_text
from ..transparency import file_opened, file_state_changed
from ..workflows import Refused

_ = TranslationStringFactory('kp_workspace')

CLASSIFICATIONS = ('routine', 'confidential', 'secret')
PRIORITIES = ('routine', 'urgent', 'immediate')
MAX_NOTE = 20000


def touch(item):
    """Record that ``item`` (or something in it) changed: its activity count, which
    recall checks, and the search index, which follows after commit."""
    item.activity += 1
    get_current_registry().notify(ItemChanged(item, _jar(item)))


def _jar(obj):
    """The connection of ``obj``, or of its nearest stored parent (new objects have none)."""
    while obj is not None and obj._p_jar is None:
        obj = getattr(obj, '__parent__', None)
    return obj._p_jar if obj is not None else None


def announce(item):
    """A new item, or a change that does not count as activity (a state change)."""
    item.activity -= 1
    touch(item)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


class Note(Persistent):
    """One numbered paragraph of the noting sheet."""

    acting = False   # written for the post by someone holding its charge (acting)

    def __init__(self, n, text, author, author_name, post_id, post_title, at):
        super().__init__()
        self.n, self.text = n, text
        self.author, self.author_name = author, author_name
        self.post_id, self.post_title = post_id, post_title
        self.at = at
        self.edited_at = None


class Movement:
    """One line of the movement register (immutable once written)."""

    acting = False   # moved for the post by someone holding its charge (acting)

    def __init__(self, n, at, action, from_post, from_title, to_post, to_title, remarks, by,
                 by_name, activity):
        self.n, self.at, self.action = n, at, action
        self.from_post, self.from_title = from_post, from_title
        self.to_post, self.to_title = to_post, to_title
        self.remarks, self.by, self.by_name = remarks, by, by_name
        self.activity = activity  # the item's activity count right after this move


class _Lines(IOBTree):
    """Lines by number, in buckets of at most 16: a line is stored with the 8 to 15
    before it in its bucket (lines come in order, and a full bucket splits in two).
    (``BTrees.check`` does not know subclasses; ``_check()`` does.)"""
    max_leaf_size = 16


class Movements(Persistent):
    """A movement register: its lines in order, kept in a BTree by number, so that
    writing a line stores a bucket of at most 16 lines, not the whole register (a
    file that had moved 800 times stored 100 kB of history again with every move).
    Reads as a sequence: ``len``, iteration in order, ``[-1]`` and slices."""

    def __init__(self, lines=()):
        super().__init__()
        self._lines = _Lines()
        for line in lines:
            self.append(line)

    def append(self, line):
        self._lines[len(self) + 1] = line

    def __len__(self):
        # (lines are numbered from 1 without gaps: the last number is the count, found
        # in one path down the tree, where len() of a BTree walks every bucket)
        return self._lines.maxKey() if self._lines else 0

    def __bool__(self):
        return bool(self._lines)

    def __iter__(self):
        return iter(self._lines.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self)[index]
        count = len(self)
        number = index + 1 if index >= 0 else count + index + 1
        if not 1 <= number <= count:
            raise IndexError(index)
        return self._lines[number]


class Movable(Persistent):
    """Base of :class:`CaseFile` and :class:`Summary`."""

    kind = None
    final_states = ()       # states in which nothing in the item may change

    def __init__(self, item_id, number, subject, department, classification, priority,
                 holder, at, created_by):
        super().__init__()
        self.id = item_id
        self.number = number
        self.subject = subject
        self.department = department
        self.classification = classification
        self.priority = priority
        self.holder = holder
        self.received_at = at.timestamp()
        self.chain = (holder,)
        self.movements = Movements()
        self.notes = IOBTree()
        self.frozen_through = 0     # notes numbered up to this are frozen
        self.activity = 0           # bumped by every note, attachment, draft and move
        self.created_at = at
        self.created_by = created_by
        self.state = None

    @property
    def title(self):
        return f'{self.number}: {self.subject}'

    def note_list(self):
        return list(self.notes.values())

    def is_final(self):
        return self.state in self.final_states

    def last_note_number(self):
        return self.notes.maxKey() if len(self.notes) else 0

    def freeze_notes(self):
        """Freeze every note written so far (the file moves on, or is reopened)."""
        self.frozen_through = self.last_note_number()

    def is_frozen(self, note):
        return note.n <= self.frozen_through or self.is_final()

    def last_movement(self):
        return self.movements[-1] if self.movements else None

    def add_movement(self, at, action, from_post, from_title, to_post, to_title, remarks,
                     officer):
        """Write the next line of the movement register (numbered, with the item's
        activity count as it is now).  An item made before :class:`Movements` has a
        list: it becomes a register, the same lines in the same order, with this line."""
        if isinstance(self.movements, PersistentList):
            self.movements = Movements(self.movements)
        line = Movement(len(self.movements) + 1, at, action, from_post, from_title, to_post,
                        to_title, remarks, officer.login, officer.user.name, self.activity)
        if officer.acts_for(from_post):
            line.acting = True
        self.movements.append(line)

    def previous_sender(self):
        """The post that sent the item to its holder, or None."""
        last = self.last_movement()
        return last.from_post if last is not None and last.to_post == self.holder else None


def create(cls, department, officer, post, number_format, series, subject, classification,
           priority, at=None, **fields):
    """Make a new file or summary held by ``post``, numbered, registered and announced.

    ``number_format`` uses ``{code}``, ``{year}`` and ``{serial}``; serials come from a
    counter per department, series and year, whose concurrent use conflicts (and is
    retried) rather than hands out a number twice.  ``at``: when it was opened (now; an
    earlier time for a file entered from the paper records, numbered in its year).
    """
    site = officer.site
    subject = check_name(subject, 'subject', 300, minimum=3)
    classification = check_choice(classification, CLASSIFICATIONS, 'classification')
    priority = check_choice(priority, PRIORITIES, 'priority')
    at = at or now()
    serial = site.desk.next_number(department.__name__, series, at.year)
    number = number_format.format(code=department.code, year=at.year, serial=serial)
    item = cls(site.desk.new_id(), number, subject, department.__name__, classification,
               priority, post.post_id, at, officer.login)
    for name, value in fields.items():
        setattr(item, name, value)
    department.add(item.id, item)
    site.desk.register(item)
    site.desk.place(item, post.post_id, item.received_at)
    file_opened(site, item)   # (the public figures: a case file received)
    announce(item)
    officer.actor.record(f'{item.kind}.opened', f'{item.kind}:{item.id}', number=number,
                         classification=classification, post=post.post_id)
    return item


def check_choice(value, choices, field):
    if not isinstance(value, str) or value not in choices:
        raise DomainError(_('Choose one of: ${choices}.', mapping={'choices': ', '.join(choices)}),
                          field=field)
    return value


NOTHING_HERE = _('There is nothing at this address, or you may not see it.')


def nothing_here():
    """The one answer for what does not exist and for what may not be seen (so the
    two cannot be told apart).  :returns: the error to raise."""
    return DomainError(NOTHING_HERE, status=404)


def acting_post(item, officer):
    """The post through which ``officer`` acts on ``item`` (the holder), or refuse."""
    if not officer.holds(item.holder):
        raise Refused(_('Only the holder of ${number} can do that; it is with another desk.',
                        mapping={'number': item.number}))
    return item.holder


FINAL_MESSAGES = {
    'file': _('${number} is closed: nothing in it can change until it is reopened.'),
    'summary': _('${number} has been decided: nothing in it can change any more.'),
    'receipt': _('${number} has been put into a file: it changes there, as the file\'s '
                 'correspondence.'),
}
NOT_YOUR_ROLE = {
    WRITE_NOTE: _('Your role does not let you write notes.'),
    ATTACH: _('Your role does not let you attach correspondence.'),
    DRAFT: _('Your role does not let you draft outgoing documents.'),
    FORWARD: _('Your role does not let you move files or park them awaiting a reply.'),
    REGISTER_RECEIPT: _('Only the diary registers receipts and gives them a diary number; '
                        'your role does not.'),
}


def check_not_final(item):
    """:raises Refused: (409) ``item`` is closed or decided."""
    if item.is_final():
        raise Refused(_(FINAL_MESSAGES[item.kind], mapping={'number': item.number}))


def check_change(item, officer, permission=None):
    """The guard every change to a file or summary (or to what it contains) passes,
    from the browser and the API alike.

    In the workflow engine's order: the item is not closed or decided (409); the
    officer's roles on it carry ``permission`` (403; None when the engine has
    checked it already); the officer holds it (409).

    :returns: the post through which the officer acts (the holder).
    :raises Refused: as above; nothing has changed.
    """
    check_not_final(item)
    if permission is not None and not officer.may(permission, item):
        raise Refused(NOT_YOUR_ROLE.get(permission, _('You may not do that.')), status=403)
    return acting_post(item, officer)


def write_note(item, officer, text):
    """Add a paragraph to the noting sheet as the holder.  :returns: the note."""
    post_id = check_change(item, officer, WRITE_NOTE)
    text = check_text(text, 'text', MAX_NOTE)
    n = item.last_note_number() + 1
    post = officer.site['principals'].posts[post_id]
    note = Note(n, text, officer.login, officer.user.name, post_id, post.title, now())
    acting = acting_details(officer, post_id)
    if acting:
        note.acting = True
    item.notes[n] = note
    touch(item)
    officer.actor.record('note.written', f'{item.kind}:{item.id}', n=n, post=post_id, **acting)
    return note


def edit_note(item, officer, n, text):
    """Change a note: its author only, while the author holds the item, and only
    until the item moves on or is closed."""
    check_not_final(item)
    note = item.notes.get(n)
    if note is None:
        raise DomainError(_('There is no note ${n}.', mapping={'n': n}), status=404)
    if note.author != officer.login:
        raise Refused(_('Only the author of a note can change it.'), status=403)
    if item.is_frozen(note):
        raise Refused(_('Note ${n} is frozen: the file has moved on since it was written.',
                        mapping={'n': n}))
    check_change(item, officer, WRITE_NOTE)
    note.text = check_text(text, 'text', MAX_NOTE)
    note.edited_at = now()
    touch(item)
    officer.actor.record('note.edited', f'{item.kind}:{item.id}', n=n)
    return note


def acting_details(officer, post_id):
    """What an audit record adds when ``officer`` acts for ``post_id`` on its charge."""
    return {'acting': True} if officer.acts_for(post_id) else {}


def post_title(site, post_id):
    post = site['principals'].posts.get(post_id)
    return post.title if post is not None else post_id


def move(item, officer, action, to_post, remarks='', alert='arrived'):
    """Move ``item`` from its holder to ``to_post`` and record it everywhere.

    Freezes the noting sheet written so far, updates the desk registers (a parked
    file's parking ends there, in :meth:`~kp_workspace.desk.Desk.lift`), the
    movement register, the audit log, and alerts the receiving post.
    """
    check_not_final(item)
    site = officer.site
    desk = site.desk
    if to_post not in site['principals'].posts:
        raise DomainError(_('There is no post "${post}".', mapping={'post': to_post}),
                          field='to_post', status=400)
    if to_post == item.holder:
        raise Refused(_('It is already with ${post}.', mapping={'post': post_title(site, to_post)}))
    remarks = check_text(remarks, 'remarks', 2000, minimum=0)
    at = now()
    from_post = item.holder
    desk.lift(item, from_post, item.received_at, at.timestamp())
    desk.sent(item, from_post, at.timestamp())
    item.holder = to_post
    item.received_at = at.timestamp()
    desk.place(item, to_post, item.received_at)
    if to_post not in item.chain:
        item.chain = item.chain + (to_post,)
    item.freeze_notes()
    touch(item)
    item.add_movement(at, action, from_post, post_title(site, from_post), to_post,
                      post_title(site, to_post), remarks, officer)
    officer.actor.record(f'{item.kind}.{action}', f'{item.kind}:{item.id}',
                         **{'from': from_post, 'to': to_post},
                         **acting_details(officer, from_post))
    if alert:
        text = f'{item.number} — {item.subject} (from {post_title(site, from_post)})'
        notify_post(site, to_post, alert, text, item, officer.mailer, sender=officer.login)


def put_away(item, officer, action, place, remarks=''):
    """Take ``item`` off its holder's desk into ``place`` (the record room, the
    department's records), with a line in the movement register.  :returns: the time."""
    site = officer.site
    at = now()
    site.desk.lift(item, item.holder, item.received_at, at.timestamp())
    touch(item)
    item.add_movement(at, action, item.holder, post_title(site, item.holder), '', place,
                      remarks, officer)
    return at


def change_state(item, officer, new_state):
    """Change ``item.state`` keeping the department counts right (a workflow's ``on_state``)."""
    officer.site.desk.state_changing(item)
    old, item.state = item.state, new_state
    officer.site.desk.state_changed(item)
    # (the public figures: a case file disposed of, or received again)
    file_state_changed(officer.site, item, old, new_state, now())
    announce(item)
