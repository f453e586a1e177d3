"""The record room: record classes, weeding lists, legal holds and tombstones.

A closed file carries a **record class**, chosen when it is closed: **A** keep
permanently, **B** keep ten years, **C** keep three years (the years are settings,
``kp_workspace.retention_years.B`` and ``.C``).  A file of class B or C may be
weeded once its years have passed since it was closed.  A file closed before the
record room existed is class A (kept: nothing is weeded that nobody classed).

Weeding, in three steps, each on record in the audit log:

1. **Proposed.**  A records clerk of the department (``read_archive`` there), or
   an approver, proposes a **weeding list** of files that are due, each one checked:
   closed, class B or C with its years passed, not under a legal hold, not on
   another list, no notification of it published, and one the proposer may open.
2. **Approved and signed.**  An approver of the department (``approve`` and
   ``sign`` there: the Secretary), not the proposer, approves it with the signing
   PIN: the list is rendered as a PDF and signed with the approver's certificate.
   Every file is checked again first; one that is no longer due (reopened, put on
   hold) stops the approval until the list is rejected and proposed again.
   An approver may instead reject the list, with a reason: its files are free.
3. **Weeded.**  A records clerk (or an approver) carries out the approved list:
   each file still closed, due and not on hold is **destroyed** -- removed from the
   department, the desk and the search index, its notes, drafts and correspondence
   with it -- and a **tombstone** stays in the department's register and the audit
   log: number, subject, classification, class, when it was closed, the list, who
   approved it and when, who destroyed it and when.  A file put on hold (or
   reopened) after the approval is kept, and the list says so.

A **legal hold** blocks the weeding of a file (open or closed) until it is lifted:
records clerks and approvers of the department place holds (on one file, or on
every file of the department a search finds, up to :data:`MAX_HOLD_SEARCH`);
only an approver lifts one.  Closed files stay final: the record room changes
nothing in a file, it keeps it or destroys it.

The registers here are BTrees kept by :class:`RecordRoom` (``site.recordroom``,
evolve step 20): the closed files by department, class and closing time (the files
due are a range of it), the holds, the lists and the tombstones.
"""
import datetime

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.i18n import TranslationStringFactory

from ..content_types.movable import nothing_here, now, touch
from ..errors import DomainError
from ..records import Record
from ..security.roles import APPROVE, READ_ARCHIVE, SIGN
from ..text_rules import check_text
from ..workflows import Refused

_ = TranslationStringFactory('kp_workspace')

RECORD_CLASSES = ('A', 'B', 'C')
DEFAULT_YEARS = (('B', 10), ('C', 3))
UNCLASSED = 'A'          # what a file closed without a class is (kept permanently)
MAX_LIST = 500           # files on one weeding list at most
MAX_HOLD_SEARCH = 500    # files one hold by search covers at most
LIST_SERIES = 'weeding'
LIST_STATES = {'proposed': _('proposed, awaiting approval'),
               'approved': _('approved and signed, to be carried out'),
               'rejected': _('rejected'), 'weeded': _('carried out')}
OPEN_LIST_STATES = ('proposed', 'approved')
DAY = 86400


def class_titles(years=DEFAULT_YEARS):
    """``{class: title}`` for the close form and the pages."""
    kept = dict(years)
    return {'A': _('A: keep permanently'),
            'B': _('B: keep ${years} years', mapping={'years': kept['B']}),
            'C': _('C: keep ${years} years', mapping={'years': kept['C']})}


def check_class(value):
    """``value`` as a record class; None or '' is :data:`UNCLASSED`.
    :raises DomainError: (400) anything else."""
    if value in (None, ''):
        return UNCLASSED
    if not isinstance(value, str) or value.strip().upper() not in RECORD_CLASSES:
        raise DomainError(_('Choose the record class: A (keep permanently), B or C.'),
                          field='record_class')
    return value.strip().upper()


def weed_from(casefile, years):
    """The first day ``casefile`` may be weeded (a date), or None (class A, not closed)."""
    kept = dict(years).get(getattr(casefile, 'record_class', None))
    closed_at = getattr(casefile, 'closed_at', None)
    if casefile.state != 'closed' or kept is None or closed_at is None:
        return None
    return _add_years(closed_at.date(), kept)


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:   # 29 February
        return day.replace(year=day.year + years, day=28)


def _cutoff(years_kept, today):
    """Files closed before this timestamp have kept ``years_kept`` years by ``today``."""
    first = _add_years(today, -years_kept) + datetime.timedelta(days=1)
    return datetime.datetime.combine(first, datetime.time(),
                                     datetime.timezone.utc).timestamp()


# --- values kept in the registers ----------------------------------------------------------

class Hold(Record):
    def __init__(self, department, reason, by, by_name, at):
        self.department, self.reason = department, reason
        self.by, self.by_name, self.at = by, by_name, at


class Tombstone(Record):
    """What stays of a destroyed file."""

    def __init__(self, file_id, number, subject, department, classification, record_class,
                 closed_at, list_id, list_number, approved_by, approved_by_name, approved_at,
                 destroyed_by, destroyed_by_name, destroyed_at):
        self.file_id, self.number, self.subject = file_id, number, subject
        self.department, self.classification = department, classification
        self.record_class, self.closed_at = record_class, closed_at
        self.list_id, self.list_number = list_id, list_number
        self.approved_by, self.approved_by_name = approved_by, approved_by_name
        self.approved_at = approved_at
        self.destroyed_by, self.destroyed_by_name = destroyed_by, destroyed_by_name
        self.destroyed_at = destroyed_at


class ListEntry(Record):
    """A file as it stood on the list when proposed."""

    def __init__(self, file_id, number, subject, classification, record_class, closed_at):
        self.file_id, self.number, self.subject = file_id, number, subject
        self.classification, self.record_class = classification, record_class
        self.closed_at = closed_at


class WeedingList(Persistent):
    pdf = None
    approved_by = approved_by_name = approved_at = None
    rejected_by = rejected_at = None
    reason = ''
    weeded_by = weeded_at = None

    def __init__(self, list_id, number, department, entries, remarks, by, by_name, at):
        super().__init__()
        self.id, self.number, self.department = list_id, number, department
        self.entries = tuple(entries)
        self.remarks = remarks
        self.proposed_by, self.proposed_by_name, self.proposed_at = by, by_name, at
        self.state = 'proposed'
        self.outcome = {}     # file id -> 'destroyed' | 'held' | 'reopened' | 'gone'

    @property
    def file_ids(self):
        return [e.file_id for e in self.entries]


class RecordRoom(Persistent):
    """The record room's registers (``site.recordroom``)."""

    def __init__(self):
        super().__init__()
        self._closed = OOBTree()      # (department, class) -> OOTreeSet((closed ts, id))
        self._holds = OOBTree()       # file id -> Hold
        self._dept_holds = OOBTree()  # department -> OOTreeSet((-placed ts, id))
        self._lists = OOBTree()       # list id -> WeedingList
        self._dept_lists = OOBTree()  # department -> OOTreeSet((-proposed ts, list id))
        self._on_list = OOBTree()     # file id -> list id (a proposed or approved list)
        self._tombstones = OOBTree()  # department -> OOBTree((-destroyed ts, id) -> Tombstone)
        self._tomb_keys = OOBTree()   # file id -> (department, key)
        self._destroyed = Length(0)

    @staticmethod
    def _set(tree, key):
        found = tree.get(key)
        if found is None:
            found = tree[key] = OOTreeSet()
        return found

    # the closed files ---------------------------------------------------------------
    def filed(self, casefile):
        """``casefile`` was closed (with its ``record_class`` and ``closed_at``)."""
        if casefile.record_class in ('B', 'C'):
            self._set(self._closed, (casefile.department, casefile.record_class)).add(
                (casefile.closed_at.timestamp(), casefile.id))

    def unfiled(self, casefile):
        """``casefile`` leaves the record room (reopened, destroyed)."""
        closed_at = getattr(casefile, 'closed_at', None)
        found = self._closed.get((casefile.department, getattr(casefile, 'record_class', None)))
        if found is not None and closed_at is not None:
            found.discard((closed_at.timestamp(), casefile.id))

    def due(self, department, years, today):
        """Iterate ``(closed ts, id)`` of ``department``'s files whose years have passed
        by ``today``, closed longest ago first (B and C merged)."""
        import heapq
        streams = []
        for record_class, kept in years:
            found = self._closed.get((department, record_class))
            if found:
                streams.append(iter(found.keys(max=(_cutoff(kept, today),), excludemax=True)))
        return heapq.merge(*streams)

    # holds ----------------------------------------------------------------------------
    def hold_of(self, file_id):
        return self._holds.get(file_id)

    def place_hold(self, file_id, hold):
        if file_id in self._holds:
            return False
        self._holds[file_id] = hold
        self._set(self._dept_holds, hold.department).add((-hold.at.timestamp(), file_id))
        return True

    def lift_hold(self, file_id):
        hold = self._holds.pop(file_id, None)
        if hold is not None:
            self._dept_holds[hold.department].discard((-hold.at.timestamp(), file_id))
        return hold

    def holds(self, department):
        """Iterate ``(file id, Hold)``, newest first."""
        for _key, file_id in self._dept_holds.get(department, ()):
            yield file_id, self._holds[file_id]

    # lists --------------------------------------------------------------------------------
    def add_list(self, wlist):
        self._lists[wlist.id] = wlist
        self._set(self._dept_lists, wlist.department).add(
            (-wlist.proposed_at.timestamp(), wlist.id))
        for file_id in wlist.file_ids:
            self._on_list[file_id] = wlist.id

    def get_list(self, list_id):
        return self._lists.get(list_id) if isinstance(list_id, str) else None

    def lists(self, department):
        """Iterate the department's lists, newest first."""
        for _key, list_id in self._dept_lists.get(department, ()):
            yield self._lists[list_id]

    def list_of(self, file_id):
        """The id of the open list ``file_id`` is on, or None."""
        return self._on_list.get(file_id)

    def free(self, wlist):
        """``wlist``'s files are on no open list any more."""
        for file_id in wlist.file_ids:
            if self._on_list.get(file_id) == wlist.id:
                del self._on_list[file_id]

    # tombstones ---------------------------------------------------------------------------
    def bury(self, tomb):
        key = (-tomb.destroyed_at.timestamp(), tomb.file_id)
        tree = self._tombstones.get(tomb.department)
        if tree is None:
            tree = self._tombstones[tomb.department] = OOBTree()
        tree[key] = tomb
        self._tomb_keys[tomb.file_id] = (tomb.department, key)
        self._destroyed.change(1)

    def tombstone(self, file_id):
        found = self._tomb_keys.get(file_id) if isinstance(file_id, str) else None
        return self._tombstones[found[0]][found[1]] if found is not None else None

    def tombstones(self, department):
        """Iterate the department's tombstones, latest destroyed first."""
        return iter(self._tombstones.get(department, {}).values())


def record_room(site):
    """``site.recordroom`` (None on a database before evolve step 20)."""
    return getattr(site, 'recordroom', None)


# --- who may -------------------------------------------------------------------------------

def may_enter(officer, department):
    """Whether ``officer`` may open ``department``'s record room: its records clerks and
    its approvers."""
    return (officer.may_in_department(READ_ARCHIVE, department)
            or officer.may_in_department(APPROVE, department))


def may_propose(officer, department):
    return may_enter(officer, department)


def may_approve(officer, department):
    return (officer.may_in_department(APPROVE, department)
            and officer.may_in_department(SIGN, department))


def may_lift(officer, department):
    return officer.may_in_department(APPROVE, department)


def shows_subject(officer, department, classification):
    """Whether a list entry or tombstone shows its subject to ``officer`` (who may enter
    the record room): a routine file's always, a confidential or secret one's only to
    the department's approvers."""
    return classification == 'routine' or officer.may_in_department(APPROVE, department)


def may_read_pdf(officer, wlist):
    """Whether ``officer`` may read ``wlist``'s signed PDF, which names every subject:
    as the list's page shows them (a confidential or secret subject to approvers only)."""
    return may_enter(officer, wlist.department) and all(
        shows_subject(officer, wlist.department, e.classification) for e in wlist.entries)


def _check_enter(officer, department, allowed=may_enter):
    if not allowed(officer, department):
        raise Refused(_('Your role does not let you do that in the record room.'), status=403)


# --- closing and reopening (called by the file's workflow) ---------------------------------

def file_closed(site, casefile, record_class):
    casefile.record_class = record_class
    room = record_room(site)
    if room is not None:
        room.filed(casefile)


def file_reopened(site, casefile):
    room = record_room(site)
    if room is not None:
        room.unfiled(casefile)   # (a list it is on checks again: a reopened file is kept)
    casefile.record_class = None


# --- why a file may not be weeded ------------------------------------------------------------

def _published_notification(site, casefile):
    return any(d.kind == 'notification' and d.state == 'issued'
               for d in casefile.drafts.values())


def not_weedable(site, casefile, years, today, wlist=None):
    """Why ``casefile`` may not be weeded now (a translation string), or None."""
    room = site.recordroom
    if casefile.state != 'closed':
        return _('${number} is not closed.', mapping={'number': casefile.number})
    day = weed_from(casefile, years)
    if day is None:
        return _('${number} is class A: it is kept permanently.',
                 mapping={'number': casefile.number})
    if day > today:
        return _('${number} is kept until ${date}.',
                 mapping={'number': casefile.number, 'date': day.isoformat()})
    if room.hold_of(casefile.id) is not None:
        return _('${number} is under a legal hold.', mapping={'number': casefile.number})
    on = room.list_of(casefile.id)
    if on is not None and (wlist is None or on != wlist.id):
        return _('${number} is on weeding list ${list} already.',
                 mapping={'number': casefile.number, 'list': room.get_list(on).number})
    if _published_notification(site, casefile):
        return _('${number} published a notification: it is kept.',
                 mapping={'number': casefile.number})
    return None


def due_files(site, officer, department, years, today, limit=200, offset=0):
    """``[casefile]``: files of ``department`` due for weeding that ``officer`` may open
    and that are on no list, not held (a page of them, closed longest ago first), and
    whether there are more."""
    room = site.recordroom
    items = site.desk.items
    found, skipped = [], 0
    for _ts, file_id in room.due(department, years, today):
        casefile = items.get(file_id)
        if casefile is None or not officer.can_view(casefile) \
                or room.hold_of(file_id) is not None or room.list_of(file_id) is not None \
                or _published_notification(site, casefile):
            continue
        if skipped < offset:
            skipped += 1
            continue
        if len(found) == limit:
            return found, True
        found.append(casefile)
    return found, False


# --- weeding ---------------------------------------------------------------------------------

def find_list(site, officer, department, list_id):
    """The list ``list_id`` of ``department`` (404 when none or the officer may not
    enter the department's record room)."""
    room = record_room(site)
    wlist = room.get_list(list_id) if room is not None else None
    if wlist is None or wlist.department != department or not may_enter(officer, department):
        raise nothing_here()
    return wlist


def _file_ids(file_ids):
    if not isinstance(file_ids, (list, tuple)) or not all(isinstance(f, str) for f in file_ids):
        raise DomainError(_('Choose the files to weed.'), field='files')
    wanted = list(dict.fromkeys(f.strip() for f in file_ids if f.strip()))
    if not wanted:
        raise DomainError(_('Choose the files to weed.'), field='files')
    if len(wanted) > MAX_LIST:
        raise DomainError(_('At most ${n} files on one list.', mapping={'n': MAX_LIST}),
                          field='files')
    return wanted


def propose(site, officer, department, file_ids, years, remarks='', today=None):
    """A new weeding list of ``file_ids`` (each checked), proposed by ``officer``.

    :raises Refused: (403) not a records clerk or approver of the department; (409) a
        file that is not due, held, on a list, or published a notification.
    :raises DomainError: (400) no files, too many, unknown ones, a bad remark.
    """
    _check_enter(officer, department, may_propose)
    wanted = _file_ids(file_ids)
    remarks = check_text(remarks, 'remarks', 1000, minimum=0)
    today = today or now().date()
    items = site.desk.items
    entries, refused = [], []
    for file_id in wanted:
        casefile = items.get(file_id)
        if casefile is None or casefile.kind != 'file' or casefile.department != department \
                or not officer.can_view(casefile):
            raise DomainError(_('There is no file "${id}" in the record room of this '
                                'department, or you may not open it.',
                                mapping={'id': file_id[:40]}), field='files')
        why = not_weedable(site, casefile, years, today)
        if why is not None:
            refused.append(why)
            continue
        entries.append(ListEntry(casefile.id, casefile.number, casefile.subject,
                                 casefile.classification, casefile.record_class,
                                 casefile.closed_at))
    if refused:
        raise Refused(refused[0] if len(refused) == 1 else _(
            '${n} of the files may not be weeded; the first: ${first}',
            mapping={'n': len(refused), 'first': refused[0]}))
    dept = site['departments'][department]
    at = now()
    serial = site.desk.next_number(department, LIST_SERIES, at.year)
    # (ids are the site's: the department's name in it, as each has its own series)
    wlist = WeedingList(f'{department}-{at.year}-{serial:04d}',
                        f'{dept.code}/WL/{at.year}/{serial:04d}',
                        department, entries, remarks, officer.login, officer.user.name, at)
    site.recordroom.add_list(wlist)
    officer.actor.record('weeding.proposed', f'department:{department}', list=wlist.number,
                         files=len(entries))
    return wlist


def _check_state(wlist, *states):
    if wlist.state not in states:
        raise Refused(_('Weeding list ${number} is ${state}: that cannot be done now.',
                        mapping={'number': wlist.number, 'state': LIST_STATES[wlist.state]}))


def approve(site, officer, wlist, years, pin, context, today=None):
    """Approve ``wlist`` and sign it (its PDF) with ``officer``'s certificate and ``pin``.

    :raises Refused: (403) not an approver who may sign; (409) not proposed, proposed
        by the officer, a file no longer due.
    :raises SigningRefused, WrongPin: from signing (a wrong PIN changes nothing else).
    """
    from .. import official_pdf, signing
    _check_enter(officer, wlist.department, may_approve)
    _check_state(wlist, 'proposed')
    if wlist.proposed_by == officer.login:
        raise Refused(_('You proposed this list: another approver must approve it.'))
    today = today or now().date()
    for entry in wlist.entries:
        casefile = site.desk.items.get(entry.file_id)
        why = (not_weedable(site, casefile, years, today, wlist) if casefile is not None
               else _('${number} is no longer in the record room.',
                      mapping={'number': entry.number}))
        if why is not None:
            raise Refused(_('${why} Reject this list and propose it again without it.',
                            mapping={'why': why}))
    posts = officer.posts_with(SIGN, wlist.department) or officer.posts_with(APPROVE)
    post_id = posts[0].post_id if posts else None
    signer = signing.unlock(officer, post_id, context, pin)
    at = now()
    dept = site['departments'][wlist.department]
    data = official_pdf.render_weeding_list({
        'department_title': dept.title, 'number': wlist.number, 'remarks': wlist.remarks,
        'proposed_by': wlist.proposed_by_name, 'proposed_at': wlist.proposed_at,
        'approved_by': signer.name, 'approved_post': signer.post, 'approved_at': at,
        'years': dict(years),
        'entries': [(e.number, e.subject, e.classification, e.record_class, e.closed_at)
                    for e in wlist.entries]})
    signed = signing.sign(data, signer, f'Weeding approved: {wlist.number}', context)
    wlist.pdf = signing.store_pdf(signed)
    wlist.state = 'approved'
    wlist.approved_by, wlist.approved_by_name, wlist.approved_at = (
        officer.login, signer.name, at)
    officer.actor.record('weeding.approved', f'department:{wlist.department}',
                         list=wlist.number, files=len(wlist.entries))
    return wlist


def reject(site, officer, wlist, reason):
    """Reject a proposed list (or an approved one not yet carried out): its files are free."""
    _check_enter(officer, wlist.department, may_lift)
    _check_state(wlist, *OPEN_LIST_STATES)
    reason = check_text(reason, 'reason', 1000, minimum=3)
    wlist.state = 'rejected'
    wlist.rejected_by, wlist.rejected_at, wlist.reason = officer.login, now(), reason
    site.recordroom.free(wlist)
    officer.actor.record('weeding.rejected', f'department:{wlist.department}',
                         list=wlist.number, reason=reason)
    return wlist


def carry_out(site, officer, wlist, years, today=None):
    """Destroy the files of the approved ``wlist`` that are still due and not held.

    :returns: ``{file id: outcome}`` ('destroyed', 'held', 'reopened', 'gone').
    """
    _check_enter(officer, wlist.department)
    _check_state(wlist, 'approved')
    today = today or now().date()
    room = site.recordroom
    outcome = {}
    for entry in wlist.entries:
        casefile = site.desk.items.get(entry.file_id)
        if casefile is None:
            outcome[entry.file_id] = 'gone'
        elif room.hold_of(casefile.id) is not None:
            outcome[entry.file_id] = 'held'
        elif not_weedable(site, casefile, years, today, wlist) is not None:
            outcome[entry.file_id] = 'reopened'
        else:
            destroy(site, officer, casefile, wlist)
            outcome[entry.file_id] = 'destroyed'
    room.free(wlist)
    wlist.outcome = outcome
    wlist.state = 'weeded'
    wlist.weeded_by, wlist.weeded_at = officer.login, now()
    kept = sum(1 for v in outcome.values() if v != 'destroyed')
    officer.actor.record('weeding.carried_out', f'department:{wlist.department}',
                         list=wlist.number, destroyed=len(outcome) - kept, kept=kept)
    return outcome


def destroy(site, officer, casefile, wlist):
    """Remove ``casefile`` and everything in it; a tombstone stays."""
    room = site.recordroom
    at = now()
    letters = _letters_in(site, casefile)
    for item in (casefile, *letters):
        touch(item)   # (the index drops an item that is gone)
        site.desk.forget(item)
        site['departments'][item.department].remove(item.id)
    room.unfiled(casefile)
    room.bury(Tombstone(casefile.id, casefile.number, casefile.subject, casefile.department,
                        casefile.classification, casefile.record_class, casefile.closed_at,
                        wlist.id, wlist.number, wlist.approved_by, wlist.approved_by_name,
                        wlist.approved_at, officer.login, officer.user.name, at))
    # (the subject of a confidential or secret file stays out of the audit log, which
    # administrators read; its tombstone keeps it for the department's approvers)
    subject = casefile.subject if casefile.classification == 'routine' else ''
    officer.actor.record('file.destroyed', f'file:{casefile.id}', number=casefile.number,
                         subject=subject, record_class=casefile.record_class,
                         list=wlist.number, approved_by=wlist.approved_by,
                         approved_at=wlist.approved_at.isoformat(),
                         letters=', '.join(r.number for r in letters))


def _letters_in(site, casefile):
    """The receipts (dak) put into ``casefile``: their letters are its correspondence,
    and go with it."""
    found = []
    for att in casefile.attachments.values():
        number = getattr(att, 'diary_number', None)
        item_id = site.desk.find_number(number) if number else None
        receipt = site.desk.items.get(item_id) if item_id else None
        if receipt is not None and receipt.kind == 'receipt' \
                and getattr(receipt, 'file_id', None) == casefile.id:
            found.append(receipt)
    return found


def gone(site, officer, file_id):
    """:raises DomainError: (410) ``file_id`` was destroyed and ``officer`` may enter its
    department's record room; otherwise returns (the caller answers 404)."""
    room = record_room(site)
    tomb = room.tombstone(file_id) if room is not None else None
    if tomb is not None and may_enter(officer, tomb.department):
        raise DomainError(_('${number} was destroyed on ${date} under weeding list ${list}, '
                            'approved by ${name}.',
                            mapping={'number': tomb.number,
                                     'date': tomb.destroyed_at.date().isoformat(),
                                     'list': tomb.list_number,
                                     'name': tomb.approved_by_name}), status=410)


# --- holds -----------------------------------------------------------------------------------

def place_holds(site, officer, department, file_ids, reason):
    """Put ``file_ids`` (files of ``department`` the officer may open) under a legal hold.

    :returns: ``(placed, already)``: the files newly held, and those held already.
    """
    _check_enter(officer, department)
    reason = check_text(reason, 'reason', 1000, minimum=3)
    if not file_ids:
        raise DomainError(_('No file of this department matches: nothing was held.'),
                          field='files')
    room = site.recordroom
    at = now()
    placed, already = [], []
    for file_id in dict.fromkeys(file_ids):
        casefile = site.desk.items.get(file_id) if isinstance(file_id, str) else None
        if casefile is None or casefile.kind != 'file' or casefile.department != department \
                or not officer.can_view(casefile):
            raise nothing_here()
        if room.place_hold(casefile.id, Hold(department, reason, officer.login,
                                             officer.user.name, at)):
            # (written on the file too: a weeding that destroys it at the same moment
            # writes it as well, so one of the two conflicts and is retried)
            casefile.held_since = at
            placed.append(casefile)
            officer.actor.record('file.hold_placed', f'file:{casefile.id}',
                                 number=casefile.number, reason=reason)
        else:
            already.append(casefile)
    return placed, already


def lift_hold(site, officer, department, file_id, reason):
    _check_enter(officer, department, may_lift)
    reason = check_text(reason, 'reason', 1000, minimum=3)
    room = site.recordroom
    hold = room.hold_of(file_id) if isinstance(file_id, str) else None
    if hold is None or hold.department != department:
        raise nothing_here()
    room.lift_hold(file_id)
    casefile = site.desk.items.get(file_id)
    if casefile is not None:
        casefile.held_since = None
    officer.actor.record('file.hold_lifted', f'file:{file_id}',
                         number=casefile.number if casefile is not None else '',
                         reason=reason)
    return hold


def find_by_number(site, officer, department, number):
    """The file numbered ``number`` in ``department`` the officer may open.
    :raises DomainError: (400) there is none (or it may not be seen)."""
    number = check_text(number, 'number', 100, single_line=True)
    file_id = site.desk.find_number(number.strip())
    casefile = site.desk.items.get(file_id) if file_id else None
    if casefile is None or casefile.kind != 'file' or casefile.department != department \
            or not officer.can_view(casefile):
        raise DomainError(_('There is no file numbered "${number}" in this department that '
                            'you may open.', mapping={'number': number[:100]}),
                          field='number')
    return casefile


def includeme(config):
    config.scan('.views')
