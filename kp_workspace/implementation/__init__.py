"""Implementation of cabinet decisions by the departments.

When the cabinet decides an agenda item, each department concerned gets an
**implementation item** (:func:`assign`, called by the cabinet side once per
department) with a due date.  It appears in the lists of that department's file
workers (posts with ``write_note`` there: its Secretary and officers) under
"Cabinet decisions to implement", overdue ones marked.

The department **reports compliance** (:func:`report`): a note, attachments (the
same checks and limits as a file's correspondence) and a status: ``in_progress``,
``implemented`` or ``not_possible`` (with the reasons).  Reports are appended, never
edited; an implemented item is final (409 for any further report).  Who may report:
whoever holds ``write_note`` in the item's department; whoever else may see it (the
dashboard's viewers) is refused 403; anyone else is told 404, as for an item that
does not exist.  Every report is on the audit record.

The **dashboard** (:data:`~kp_workspace.security.roles.VIEW_IMPLEMENTATION`: the Chief
Secretary and the Chief Minister) counts the decisions by department, status and
age, from the registers here, never by walking the items.

**Overdue alerts**: an item not implemented (pending or in progress) whose due date
has passed alerts its department's approvers (the Secretary), once.  Nothing runs in
the background: :func:`alert_overdue` is called when the lists are read (the home
page, the implementation pages, the API's list); it reads the register of items not
yet alerted by due date, so with nothing newly overdue it is one look-up and no write.

The registers are kept by :class:`ImplementationBook` (``site.implementation``,
evolve step 24).
"""
import datetime

from BTrees.IOBTree import IOBTree
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.i18n import TranslationStringFactory

from ..alerts import notify_post
from ..errors import DomainError
from ..records import Record
from ..security.roles import APPROVE, VIEW_IMPLEMENTATION, WRITE_NOTE, permissions_of
from ..text_rules import check_name, check_text
from ..workflows import Refused

_ = TranslationStringFactory('kp_workspace')

STATUSES = ('pending', 'in_progress', 'not_possible', 'implemented')
REPORTED = ('in_progress', 'implemented', 'not_possible')   # what a report may say
OPEN = ('pending', 'in_progress')      # still to be done: overdue once the due date passes
STATUS_TITLES = {'pending': _('awaiting a report'), 'in_progress': _('in progress'),
                 'not_possible': _('not possible'), 'implemented': _('implemented')}
# age of a decision not yet implemented, in days since it was sent to the department
AGE_BANDS = ((0, 30), (31, 90), (91, 180), (181, None))
MAX_NOTE = 10000
MAX_REASONS = 5000
MAX_DECISION = 20000
MAX_ATTACHMENTS = 10     # per report
ALERT_KIND = 'implementation_overdue'


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def now():
    return datetime.datetime.now(datetime.timezone.utc)


class ImplementationReport(Record):
    """One compliance report, as written (never changed)."""

    def __init__(self, n, status, note, reasons, by, by_name, post_id, at, attachments,
                 acting=False):
        self.n, self.status, self.note, self.reasons = n, status, note, reasons
        self.by, self.by_name, self.post_id, self.at = by, by_name, post_id, at
        self.attachments = tuple(attachments)   # ids in the item's ``attachments``
        self.acting = acting


class ImplementationItem(Persistent):
    """A cabinet decision to be implemented by one department."""

    kind = 'implementation'

    def __init__(self, item_id, source_id, department, meeting_title, meeting_date,
                 item_number, subject, decision_text, due, at, by, by_name):
        super().__init__()
        self.id = self.item_id = item_id
        self.source_id = source_id
        self.department = department
        self.meeting_title, self.meeting_date = meeting_title, meeting_date
        self.item_number = item_number
        self.subject, self.decision_text = subject, decision_text
        self.due = due                  # a date
        self.assigned_at = at           # an aware datetime
        self.assigned_by, self.assigned_by_name = by, by_name
        self.status = 'pending'
        self.reports = IOBTree()        # n -> ImplementationReport
        self.attachments = OOBTree()    # att id -> Attachment
        self.alerted_at = None          # when its overdue alert went (once)
        self.implemented_at = None

    @property
    def number(self):
        """How people cite it: the meeting and the agenda item."""
        return f'{self.meeting_title}, item {self.item_number}'

    def report_list(self):
        return list(self.reports.values())

    def is_final(self):
        return self.status == 'implemented'

    def is_overdue(self, on=None):
        return self.status in OPEN and self.due < (on or today())


class ImplementationBook(Persistent):
    """The items and the registers the lists and the dashboard read.

    - ``_items``: id -> item; ``_by_source``: (source id, department) -> id
    - ``_listed``: (department, status) -> OOTreeSet((due ordinal, id))
    - ``_counts``: (department, status) -> Length
    - ``_open_due``: OOTreeSet((due ordinal, department, id)) of the open items
    - ``_open_age``: OOTreeSet((assigned ordinal, department, id)) of the items not
      implemented (for the age bands)
    - ``_unalerted``: OOTreeSet((due ordinal, id)) of the open items not yet alerted
    """

    def __init__(self):
        super().__init__()
        self._items = OOBTree()
        self._by_source = OOBTree()
        self._listed = OOBTree()
        self._counts = OOBTree()
        self._open_due = OOTreeSet()
        self._open_age = OOTreeSet()
        self._unalerted = OOTreeSet()
        self.last_serial = 0

    def get(self, item_id):
        return self._items.get(item_id) if isinstance(item_id, str) else None

    def for_source(self, source_id):
        """The items of the cabinet decision ``source_id``, one per department."""
        keys = self._by_source.keys(min=(source_id, ''), max=(source_id, '\U0010ffff'))
        return [self._items[self._by_source[k]] for k in keys]

    def _new_id(self):
        self.last_serial += 1     # (a plain attribute: two assigns at once conflict)
        return f'i{self.last_serial}'

    def _set(self, key):
        found = self._listed.get(key)
        if found is None:
            found = self._listed[key] = OOTreeSet()
        return found

    def _count(self, department, status, change):
        counter = self._counts.get((department, status))
        if counter is None:
            counter = self._counts[(department, status)] = Length(0)
        counter.change(change)

    def add(self, item):
        self._items[item.id] = item
        self._by_source[(item.source_id, item.department)] = item.id
        self._file(item, +1)

    def _file(self, item, sign):
        """Put ``item`` in (``sign`` 1) or take it out of (-1) the registers of its status."""
        due = item.due.toordinal()
        listed = self._set((item.department, item.status))
        entries = [(listed, (due, item.id))]
        if item.status in OPEN:
            entries.append((self._open_due, (due, item.department, item.id)))
            if item.alerted_at is None:
                entries.append((self._unalerted, (due, item.id)))
        if item.status != 'implemented':
            entries.append((self._open_age, (item.assigned_at.date().toordinal(),
                                             item.department, item.id)))
        for tree, key in entries:
            if sign > 0:
                tree.add(key)
            elif key in tree:
                tree.remove(key)
        self._count(item.department, item.status, sign)

    def change_status(self, item, status):
        if status == item.status:
            return
        self._file(item, -1)
        item.status = status
        self._file(item, +1)

    def mark_alerted(self, item, at):
        key = (item.due.toordinal(), item.id)
        if key in self._unalerted:
            self._unalerted.remove(key)
        item.alerted_at = at

    # reading ------------------------------------------------------------------------------
    def listed(self, department, statuses=STATUSES, limit=None):
        """The items of ``department`` with one of ``statuses``, due soonest first (the
        first ``limit`` of them; only those are loaded)."""
        keys = []
        for status in statuses:
            found = self._listed.get((department, status))
            if found is not None:
                keys.extend(found.keys())
        keys.sort()
        if limit is not None:
            keys = keys[:limit]
        return [self._items[i] for _due, i in keys]

    def listed_count(self, department, statuses=STATUSES):
        return sum(self.count(department, status) for status in statuses)

    def overdue_count(self, department, on):
        """How many of ``department``'s open items were due before ``on``."""
        n = 0
        for status in OPEN:
            found = self._listed.get((department, status))
            if found is not None:
                n += len(found.keys(max=(on.toordinal(),), excludemax=True))
        return n

    def count(self, department, status):
        counter = self._counts.get((department, status))
        return counter() if counter is not None else 0

    def departments(self):
        """The departments with items, in name order."""
        return sorted({d for d, _s in self._counts.keys() if self._counts[(d, _s)]()})

    def overdue_keys(self, on):
        """``(due ordinal, department, id)`` of the open items due before ``on``."""
        return self._open_due.keys(max=(on.toordinal(),), excludemax=True)

    def due_for_alert(self, on):
        """``(due ordinal, id)`` of the open items due before ``on`` not yet alerted."""
        if not self._unalerted or self._unalerted.minKey()[0] >= on.toordinal():
            return []
        return list(self._unalerted.keys(max=(on.toordinal(),), excludemax=True))

    def age_keys(self):
        return self._open_age.keys()


def implementation_book(site):
    """``site.implementation`` (None before evolve step 24)."""
    return getattr(site, 'implementation', None)


def for_decision(site, source_id):
    """The implementation items of the cabinet decision ``source_id`` (one per
    department it was sent to, by department name): what the cabinet side shows of how
    its decision stands (``item.status``, ``item.due``, ``item.is_overdue()``)."""
    book = implementation_book(site)
    return book.for_source(source_id) if book is not None else []


# --- who may ----------------------------------------------------------------------------

def may_report(officer, department):
    """Whether ``officer`` may report on ``department``'s items (``write_note`` there)."""
    return officer.may_in_department(WRITE_NOTE, department)


def may_see_dashboard(officer):
    """Whether ``officer`` holds :data:`VIEW_IMPLEMENTATION` (globally or through a post)."""
    if VIEW_IMPLEMENTATION in permissions_of(officer.user.roles):
        return True
    return any(VIEW_IMPLEMENTATION in permissions_of(roles)
               for roles in officer.department_roles.values())


def may_view(officer, item):
    return may_report(officer, item.department) or may_see_dashboard(officer)


def departments_reporting(officer):
    """The departments whose items ``officer`` may report on, in name order."""
    return sorted(name for name, roles in officer.department_roles.items()
                  if WRITE_NOTE in permissions_of(roles))


def find_item(site, officer, item_id):
    """The item ``item_id`` if ``officer`` may see it.

    :raises DomainError: (404) no such item, or one the officer may not see: the same
        words for both.
    """
    book = implementation_book(site)
    item = book.get(item_id) if book is not None else None
    if item is None or not may_view(officer, item):
        from ..content_types.movable import nothing_here
        raise nothing_here()
    return item


# --- assigning ----------------------------------------------------------------------------

def _check_date(value, field):
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise DomainError(_('Give the date as a date (year-month-day).'), field=field)
    return value


def assign(site, by, *, department, source_id, meeting_title, meeting_date, item_number,
           subject, decision_text, due):
    """Send the cabinet decision ``source_id`` to ``department`` for implementation.

    Call it once per department concerned.  Idempotent per ``(source_id, department)``:
    a second call returns the item the first made, unchanged (whatever the other
    arguments say), and records nothing.

    :param site: the :class:`~kp_workspace.site.Site` (evolved to generation 24).
    :param by: the acting :class:`~kp_workspace.access.Officer` (e.g. the Cabinet Wing's
        officer recording the decision); its actor records ``implementation.assigned``.
        No permission is checked here: the caller (the cabinet's own rules) has.
    :param department: the department's name (``'finance'``); it must exist.
    :param source_id: a string id of the decision, unique per decision
        (``'meeting-3/item-2'``), at most 100 characters.
    :param meeting_title: e.g. ``'12th meeting of the Provincial Cabinet'`` (one line).
    :param meeting_date: a :class:`datetime.date`.
    :param item_number: the agenda item's number (an int or a short string, e.g. 2).
    :param subject: the agenda item's subject (one line, 3 to 300 characters).
    :param decision_text: the decision as recorded in the minutes.
    :param due: a :class:`datetime.date`: implementation is overdue after it.
    :returns: the :class:`ImplementationItem` (persistent, in ``site.implementation``);
        its id is ``item.item_id`` (also ``item.id``), e.g. ``'i7'``; its page is
        ``/implementation/<id>``.
    :raises DomainError: (400) an unknown department, a malformed text or date; the
        message names the field.
    """
    book = implementation_book(site)
    if book is None:
        raise DomainError(_('The workspace database is not up to date (evolve step 24).'))
    source_id = check_name(source_id, 'source_id', 100)
    if not isinstance(department, str) or department not in site['departments']:
        raise DomainError(_('There is no department "${name}".',
                            mapping={'name': str(department)[:60]}), field='department')
    existing = book._by_source.get((source_id, department))
    if existing is not None:
        return book._items[existing]
    meeting_title = check_name(meeting_title, 'meeting_title', 200)
    meeting_date = _check_date(meeting_date, 'meeting_date')
    item_number = check_name(str(item_number), 'item_number', 20)
    subject = check_name(subject, 'subject', 300, minimum=3)
    decision_text = check_text(decision_text, 'decision_text', MAX_DECISION)
    due = _check_date(due, 'due')
    item = ImplementationItem(book._new_id(), source_id, department, meeting_title,
                              meeting_date, item_number, subject, decision_text, due, now(),
                              by.login, by.user.name)
    book.add(item)
    by.actor.record('implementation.assigned', f'implementation:{item.id}',
                    source=source_id, department=department, due=due.isoformat())
    return item


# --- reporting ------------------------------------------------------------------------------

def reporting_post(officer, department):
    """The post through which ``officer`` reports for ``department`` (the first they hold
    there with ``write_note``; None when the permission comes from elsewhere)."""
    posts = officer.posts_with(WRITE_NOTE, department)
    return posts[0].post_id if posts else None


def report(item, officer, status, note, reasons='', uploads=(), limit=None, tmp_dir=None):
    """Append a compliance report to ``item`` as ``officer``.

    :param status: ``in_progress``, ``implemented`` or ``not_possible``.
    :param note: what was done (1 to 10,000 characters).
    :param reasons: why it is not possible (required for ``not_possible``; ignored
        otherwise).
    :param uploads: ``[(stream, filename)]``: attachments, at most ten, each checked as a
        file's correspondence is (type by its bytes, size ``limit``).
    :returns: the :class:`ImplementationReport`.
    :raises Refused: (403) the officer may see the item but not report on it; (409) it
        is implemented already.
    :raises DomainError: (400) a wrong status, no note, no reasons; (413/415) an
        attachment refused.
    """
    from ..content_types.attachment import DEFAULT_LIMIT, receive
    from ..content_types.movable import acting_details
    if not may_report(officer, item.department):
        raise Refused(_('Only the department the decision was sent to reports on it.'),
                      status=403)
    if item.is_final():
        raise Refused(_('${number} is implemented: no more reports are taken.',
                        mapping={'number': item.number}))
    if not isinstance(status, str) or status not in REPORTED:
        raise DomainError(_('Choose the status: in progress, implemented or not possible.'),
                          field='status')
    note = check_text(note, 'note', MAX_NOTE)
    if status == 'not_possible':
        if reasons is None or isinstance(reasons, str) and not reasons.strip():
            raise DomainError(_('Give the reasons why the decision cannot be implemented.'),
                              field='reasons')
        reasons = check_text(reasons, 'reasons', MAX_REASONS, minimum=3)
    else:
        reasons = ''
    uploads = list(uploads)
    if len(uploads) > MAX_ATTACHMENTS:
        raise DomainError(_('Attach at most ${n} files to one report.',
                            mapping={'n': MAX_ATTACHMENTS}), field='file')
    post_id = reporting_post(officer, item.department)
    received = [receive(officer, stream, filename, '', post_id,
                        limit or DEFAULT_LIMIT, tmp_dir, item)
                for stream, filename in uploads]
    at = now()
    att_ids = []
    for att in received:
        att.id = f'a{len(item.attachments) + 1}'   # (attachments are never removed)
        att.held_in = None   # (not a file's: the OCR queue and the file pages leave it)
        item.attachments[att.id] = att
        att_ids.append(att.id)
    n = (item.reports.maxKey() if len(item.reports) else 0) + 1
    acting = bool(post_id and acting_details(officer, post_id))
    entry = ImplementationReport(n, status, note, reasons, officer.login, officer.user.name,
                                 post_id, at, att_ids, acting)
    item.reports[n] = entry
    book = implementation_book(officer.site)
    book.change_status(item, status)
    if status == 'implemented':
        item.implemented_at = at
    officer.actor.record('implementation.reported', f'implementation:{item.id}', n=n,
                         status=status, attachments=','.join(att_ids), post=post_id or '',
                         **({'acting': True} if acting else {}))
    return entry


# --- overdue alerts -------------------------------------------------------------------------

def approver_posts(site, department):
    """The posts with ``approve`` in ``department`` (its Secretary and the like)."""
    dept = site['departments'][department]   # (departments are never removed)
    return [principal[5:] for principal, roles in dept.local_roles.items()
            if principal.startswith('post:') and APPROVE in permissions_of(roles)]


def alert_overdue(site, actor, on=None, mailer=None):
    """Alert the approvers of each department whose items became overdue (due before
    ``on``, today by default, and still pending or in progress), once per item.

    Reads one key when nothing is newly overdue (no write).
    :returns: the items alerted now.
    """
    book = implementation_book(site)
    if book is None:
        return []
    on = on or today()
    alerted = []
    at = now()
    for _due, item_id in book.due_for_alert(on):
        item = book.get(item_id)
        text = (f'Cabinet decision overdue for implementation: {item.number} — '
                f'{item.subject} (due {item.due.isoformat()})')
        for post_id in approver_posts(site, item.department):
            notify_post(site, post_id, ALERT_KIND, text, item, mailer)
        book.mark_alerted(item, at)
        actor.record('implementation.overdue_alerted', f'implementation:{item.id}',
                     due=item.due.isoformat(), department=item.department)
        alerted.append(item)
    return alerted


def age_band(days):
    """The band of :data:`AGE_BANDS` ``days`` falls in (the last has no end)."""
    return next(band for band in AGE_BANDS if band[1] is None or days <= band[1])


def dashboard_counts(site, on=None):
    """What the dashboard shows, from the registers (no item is loaded):

    ``{'departments': [name], 'by_status': {(department, status): n},
    'overdue': {department: n}, 'ages': {department: {(low, high): n}}}``
    (ages: items not yet implemented, by days since they were sent).
    """
    book = implementation_book(site)
    on = on or today()
    found = {'departments': [], 'by_status': {}, 'overdue': {}, 'ages': {}}
    if book is None:
        return found
    found['departments'] = book.departments()
    for dept in found['departments']:
        for status in STATUSES:
            found['by_status'][(dept, status)] = book.count(dept, status)
    for _due, dept, _id in book.overdue_keys(on):
        found['overdue'][dept] = found['overdue'].get(dept, 0) + 1
    today_ordinal = on.toordinal()
    for assigned, dept, _id in book.age_keys():
        band = age_band(today_ordinal - assigned)
        ages = found['ages'].setdefault(dept, {})
        ages[band] = ages.get(band, 0) + 1
    return found


def includeme(config):
    config.scan('.views')
