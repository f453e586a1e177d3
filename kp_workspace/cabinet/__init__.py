"""Cabinet business: proposed agenda items, meetings, working papers, decisions, minutes.

1. **Proposed items.**  The Chief Minister decides a summary "approved for placing
   before the Cabinet" (``for_cabinet``, :mod:`kp_workspace.workflows.summary`): it
   reaches the Cabinet Wing as a proposed agenda item (:func:`propose_item`).
2. **A meeting.**  A Cabinet Wing officer (``manage_cabinet``, anywhere it is granted:
   the Section Officer (Cabinet), the Secretary Cabinet) schedules a meeting (number,
   date, place; secret or not), calls members of the cabinet (users holding the
   ``cabinet_member`` role) and orders the agenda from the proposed items, adding
   annexures (PDFs) to an item.  **Issuing the papers** compiles one PDF (cover,
   agenda, each item's signed summary and annexures, bookmarked and numbered) and
   freezes the agenda and the members called: any change after is refused (409).
3. **Decisions and minutes.**  Once the meeting has met (its date has come), the
   Cabinet Wing records a decision on each item of the meeting (text, departments
   concerned, due date, public or not).  The Chief Secretary (``sign_minutes``)
   confirms the minutes: rendered as a PDF and signed (PAdES) with their certificate
   and PIN, once only.  Each decision then goes to each department concerned as an
   implementation item (:mod:`kp_workspace.implementation`'s ``assign``).
4. **Public.**  Decisions marked public, of meetings whose minutes are signed, are
   public (:func:`public_decisions`): subject and decision only, never the papers.

**Who sees what.**  A meeting is seen by the Cabinet Wing, the Chief Secretary and,
once its papers are issued, the members called to it; to anyone else it does not
exist (404).  A **secret** meeting's papers (the PDF, the items' subjects and
annexures) are seen before the meeting's date only by the members called and the
Secretary Cabinet (``cabinet_secret``), who alone prepares a secret meeting; the
Section Officer (Cabinet) and the Chief Secretary see its number, date and place.
From its date on, as any other meeting.  Members of the cabinet see nothing else of
the workspace (their role is denied ``view`` at the site: see
:mod:`kp_workspace.security.roles`).

The registers are BTrees kept by :class:`Cabinet` (``site.cabinet``, evolve step 23).
"""
import datetime

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from persistent.list import PersistentList
from pyramid.i18n import TranslationStringFactory
from ZODB.blob import Blob

from ..content_types.movable import nothing_here, now
from ..errors import DomainError
from ..records import Record
from ..security.roles import (CABINET_SECRET, MANAGE_CABINET, READ_CABINET_PAPERS, SIGN,
                              SIGN_MINUTES, permissions_of)
from ..text_rules import check_text
from ..workflows import Refused

_ = TranslationStringFactory('kp_workspace')

STATES = {'scheduled': _('scheduled: the agenda is being prepared'),
          'issued': _('papers issued'),
          'signed': _('minutes signed')}
MAX_ITEMS = 40
MAX_MEMBERS = 60
MAX_ANNEXURES = 20
ANNEXURE_LIMIT = 20 * 1024 * 1024
MEMBER_ROLE = 'cabinet_member'
# a summary so classified goes only on a secret meeting's agenda, is listed as proposed only
# to those who handle secret meetings, and its decision is never public
CLASSIFIED = ('confidential', 'secret')


def today():
    return now().date()


# --- values kept in the registers ----------------------------------------------------------

class ProposedItem(Persistent):
    """A summary the Chief Minister sent to the cabinet; ``meeting``: the meeting whose
    agenda it is on (None: waiting)."""

    meeting = None
    classification = 'routine'

    def __init__(self, summary_id, number, subject, department, classification, at):
        super().__init__()
        self.summary_id, self.number, self.subject = summary_id, number, subject
        self.department, self.classification, self.proposed_at = department, classification, at


class Annexure(Persistent):
    def __init__(self, title, filename, pages, by, at):
        super().__init__()
        self.title, self.filename, self.pages, self.by, self.at = title, filename, pages, by, at
        self.blob = Blob()


class Decision(Record):
    """The cabinet's decision on an agenda item."""

    sent = ()   # the departments it was sent to for implementation

    def __init__(self, text, departments, due, public, by, at):
        self.text, self.departments, self.due, self.public = text, departments, due, public
        self.by, self.at = by, at


class AgendaItem(Persistent):
    decision = None
    classification = 'routine'   # the summary's (set with the agenda)

    def __init__(self, summary_id, number, subject, department):
        super().__init__()
        self.summary_id, self.number, self.subject = summary_id, number, subject
        self.department = department
        self.annexures = PersistentList()


class Meeting(Persistent):
    papers = None           # Blob: the working papers (once issued)
    papers_pages = 0
    issued_by = issued_at = None
    minutes = None          # Blob: the signed minutes
    signed_by = signed_by_name = signed_at = None

    def __init__(self, meeting_id, number, date, place, secret, by, at):
        super().__init__()
        self.id, self.number, self.date, self.place = meeting_id, number, date, place
        self.secret = secret
        self.members = ()
        self.items = PersistentList()   # AgendaItem, in the agenda's order (item n = index + 1)
        self.state = 'scheduled'
        self.scheduled_by, self.scheduled_at = by, at

    @property
    def title(self):
        return f'Cabinet meeting No. {self.number}'

    def item(self, n):
        """Agenda item ``n`` (from 1), or None."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(self.items):
            return None
        return self.items[n - 1]


class Cabinet(Persistent):
    """The cabinet's registers (``site.cabinet``)."""

    count = 0   # meetings scheduled so far (the next one's number is count + 1)

    def __init__(self):
        super().__init__()
        self._proposed = OOBTree()         # summary id -> ProposedItem
        self._proposed_order = OOTreeSet()  # (-proposed ts, summary id)
        self._meetings = OOBTree()         # meeting id -> Meeting
        self._order = OOTreeSet()          # (-date ordinal, -number, meeting id)
        self._called = OOBTree()           # login -> OOTreeSet of _order keys (issued only)
        self._signed = OOTreeSet()         # (-signed ts, meeting id)

    # proposed items ----------------------------------------------------------------------
    def add_proposed(self, item):
        self._proposed[item.summary_id] = item
        self._proposed_order.add((-item.proposed_at.timestamp(), item.summary_id))

    def proposed(self, summary_id):
        return self._proposed.get(summary_id) if isinstance(summary_id, str) else None

    def proposed_items(self):
        """Every proposed item, newest first."""
        for _key, summary_id in self._proposed_order:
            yield self._proposed[summary_id]

    # meetings ----------------------------------------------------------------------------
    @staticmethod
    def _key(meeting):
        return (-meeting.date.toordinal(), -meeting.number, meeting.id)

    def add_meeting(self, meeting):
        self._meetings[meeting.id] = meeting
        self._order.add(self._key(meeting))

    def meeting(self, meeting_id):
        return self._meetings.get(meeting_id) if isinstance(meeting_id, str) else None

    def meetings(self):
        """Every meeting, latest date first."""
        for key in self._order:
            yield self._meetings[key[2]]

    def called(self, meeting):
        """``meeting``'s papers are issued: each member called finds it in their list."""
        for login in meeting.members:
            found = self._called.get(login)
            if found is None:
                found = self._called[login] = OOTreeSet()
            found.add(self._key(meeting))

    def meetings_of(self, login):
        """The meetings ``login`` was called to (papers issued), latest date first."""
        for key in self._called.get(login, ()):
            yield self._meetings[key[2]]

    def minutes_signed(self, meeting):
        self._signed.add((-meeting.signed_at.timestamp(), meeting.id))

    def signed_meetings(self):
        """Meetings whose minutes are signed, signed latest first."""
        for _key, meeting_id in self._signed:
            yield self._meetings[meeting_id]


def cabinet_of(site):
    """``site.cabinet`` (None on a database before evolve step 23)."""
    return getattr(site, 'cabinet', None)


def _cabinet(site):
    cabinet = cabinet_of(site)
    if cabinet is None:
        raise nothing_here()
    return cabinet


# --- who may --------------------------------------------------------------------------------

def _may_anywhere(officer, permission):
    """Whether ``officer`` has ``permission`` globally or in any department (the Cabinet
    Wing is wherever an administrator grants its roles)."""
    if permission in permissions_of(officer.user.roles):
        return True
    return any(permission in permissions_of(roles)
               for roles in officer.department_roles.values())


def is_wing(officer):
    """A Cabinet Wing officer: prepares meetings and records decisions."""
    return _may_anywhere(officer, MANAGE_CABINET)


def keeps_secrets(officer):
    """The Secretary Cabinet: prepares secret meetings and reads their papers before."""
    return _may_anywhere(officer, CABINET_SECRET)


def signs_minutes(officer):
    """The Chief Secretary: confirms and signs the minutes."""
    return _may_anywhere(officer, SIGN_MINUTES)


def is_member(officer):
    """A member of the cabinet (a Minister, an Adviser)."""
    return READ_CABINET_PAPERS in permissions_of(officer.user.roles)


def uses_cabinet(officer):
    """Whether ``officer`` has any business on the cabinet pages."""
    return is_wing(officer) or signs_minutes(officer) or is_member(officer)


def is_called(officer, meeting):
    return (meeting.state != 'scheduled' and officer.login in meeting.members
            and is_member(officer))


def may_see(officer, meeting):
    """Whether ``meeting`` exists for ``officer`` (its number, date and place)."""
    return is_wing(officer) or signs_minutes(officer) or is_called(officer, meeting)


def secret_now(meeting, day=None):
    """Whether ``meeting``'s papers are still secret (a secret meeting before its date)."""
    return meeting.secret and (day or today()) < meeting.date


def papers_open(officer, meeting, day=None):
    """Whether ``officer`` may read ``meeting``'s papers: its agenda's subjects, the
    papers PDF, the annexures, the decisions."""
    if not may_see(officer, meeting):
        return False
    if secret_now(meeting, day):
        return is_called(officer, meeting) or keeps_secrets(officer)
    return True


def may_prepare(officer, meeting=None):
    """Whether ``officer`` may schedule (``meeting`` None) or prepare ``meeting``: the
    Cabinet Wing; a secret meeting only its Secretary."""
    if not is_wing(officer):
        return False
    return meeting is None or not meeting.secret or keeps_secrets(officer)


def _check(allowed, message=None):
    if not allowed:
        raise Refused(message or _('Your role does not let you do that in the cabinet\'s '
                                   'business.'), status=403)


def _item_number(n):
    """``n`` (a whole number, or its digits as text: a form's value) as an int.
    :raises DomainError: (400)"""
    if isinstance(n, str):
        try:
            n = int(n.strip())
        except ValueError:
            pass
    if isinstance(n, bool) or not isinstance(n, int):
        raise DomainError(_('"${name}" must be a whole number.', mapping={'name': 'item'}),
                          field='item')
    return n


def _check_state(meeting, *states):
    if meeting.state not in states:
        messages = {
            'scheduled': _('The papers of ${title} are not issued yet.',
                           mapping={'title': meeting.title}),
            'issued': _('The papers of ${title} are issued: its agenda and members cannot '
                        'change now.', mapping={'title': meeting.title}),
            'signed': _('The minutes of ${title} are signed: nothing in it can change.',
                        mapping={'title': meeting.title}),
        }
        raise Refused(messages[meeting.state])


# --- proposed items (from the summary's workflow) -------------------------------------------

def propose_item(officer, summary):
    """The Chief Minister sent ``summary`` to the cabinet: a proposed agenda item."""
    cabinet = cabinet_of(officer.site)
    if cabinet is None or cabinet.proposed(summary.id) is not None:
        return None
    item = ProposedItem(summary.id, summary.number, summary.subject, summary.department,
                        summary.classification, now())
    cabinet.add_proposed(item)
    officer.actor.record('cabinet.item_proposed', f'summary:{summary.id}',
                         number=summary.number)
    return item


def classified(item):
    """Whether ``item`` (a proposed or agenda item) is a confidential or secret summary."""
    return item.classification in CLASSIFIED


def waiting_items(site, officer):
    """The proposed items on no meeting's agenda yet, newest first (the Cabinet Wing).

    A classified summary is listed only to those who handle secret meetings (the
    Secretary Cabinet): to the rest of the Wing it is not there at all (it could only
    go on a secret meeting, which they do not prepare)."""
    _check(is_wing(officer))
    secrets = keeps_secrets(officer)
    return [p for p in _cabinet(site).proposed_items()
            if p.meeting is None and (secrets or not classified(p))]


# --- meetings --------------------------------------------------------------------------------

def find_meeting(site, officer, meeting_id):
    """The meeting ``meeting_id`` if ``officer`` may see it.  :raises DomainError: (404)"""
    cabinet = cabinet_of(site)
    meeting = cabinet.meeting(meeting_id) if cabinet is not None else None
    if meeting is None or not may_see(officer, meeting):
        raise nothing_here()
    return meeting


def meetings_for(site, officer):
    """The meetings ``officer`` may see, latest date first (an iterator)."""
    cabinet = cabinet_of(site)
    if cabinet is None:
        return iter(())
    if is_wing(officer) or signs_minutes(officer):
        return cabinet.meetings()
    if is_member(officer):
        return cabinet.meetings_of(officer.login)
    return iter(())


def check_date(value, field='date', earliest=None, latest_days=366):
    """``value`` (a date or ``YYYY-MM-DD``) as a date, within a year back (or from
    ``earliest``) and ``latest_days`` ahead.  :raises DomainError: (400)"""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise DomainError(_('Give the date as YYYY-MM-DD.'), field=field)
    start = earliest or today() - datetime.timedelta(days=366)
    if not start <= value <= today() + datetime.timedelta(days=latest_days):
        raise DomainError(_('The date must be from ${first} to ${last}.', mapping={
            'first': start.isoformat(),
            'last': (today() + datetime.timedelta(days=latest_days)).isoformat()}),
            field=field)
    return value


def schedule(site, officer, date, place, secret=False):
    """A new meeting, numbered after the last.

    :raises Refused: (403) not the Cabinet Wing; a secret meeting: not its Secretary.
    :raises DomainError: (400) a bad date or place.
    """
    cabinet = _cabinet(site)
    _check(may_prepare(officer))
    if secret:
        _check(keeps_secrets(officer), _('Only the Secretary Cabinet prepares a secret '
                                         'meeting.'))
    date = check_date(date)
    place = check_text(place, 'place', 200, single_line=True)
    cabinet.count += 1
    number = cabinet.count
    meeting = Meeting(str(number), number, date, place, bool(secret), officer.login, now())
    cabinet.add_meeting(meeting)
    officer.actor.record('cabinet.meeting_scheduled', f'meeting:{meeting.id}',
                         date=date.isoformat(), secret=meeting.secret)
    return meeting


def _prepare(officer, meeting):
    _check(may_prepare(officer, meeting),
           _('Only the Secretary Cabinet prepares a secret meeting.') if is_wing(officer)
           else None)
    _check_state(meeting, 'scheduled')


def check_prepare(officer, meeting):
    """That ``officer`` may prepare ``meeting`` now (before asking them to confirm a step).
    :raises Refused: (403) not theirs to prepare; (409) the papers are issued."""
    _prepare(officer, meeting)


def call_members(site, officer, meeting, logins):
    """The members called to ``meeting`` are exactly ``logins`` (each a member of the
    cabinet, active).  :raises DomainError: (400) an unknown login or not a member."""
    _prepare(officer, meeting)
    if not isinstance(logins, (list, tuple)) or not all(isinstance(x, str) for x in logins):
        raise DomainError(_('Choose the members to call.'), field='members')
    wanted = list(dict.fromkeys(x.strip() for x in logins if x.strip()))
    if len(wanted) > MAX_MEMBERS:
        raise DomainError(_('At most ${n} members.', mapping={'n': MAX_MEMBERS}),
                          field='members')
    users = site['principals'].users
    for login in wanted:
        user = users.get(login)
        if user is None or not user.active or MEMBER_ROLE not in user.roles:
            raise DomainError(_('"${login}" is not a member of the cabinet.',
                                mapping={'login': login[:40]}), field='members')
    meeting.members = tuple(wanted)
    officer.actor.record('cabinet.members_called', f'meeting:{meeting.id}',
                         members=', '.join(wanted))
    return meeting


def set_agenda(site, officer, meeting, summary_ids):
    """The agenda of ``meeting`` is exactly ``summary_ids``' proposed items, in that order.

    :raises Refused: (409) papers issued; an item on another meeting's agenda.
    :raises DomainError: (400) an id that is not a proposed item, too many.
    """
    _prepare(officer, meeting)
    cabinet = _cabinet(site)
    if not isinstance(summary_ids, (list, tuple)) \
            or not all(isinstance(x, str) for x in summary_ids):
        raise DomainError(_('Choose the items of the agenda.'), field='items')
    wanted = list(dict.fromkeys(x.strip() for x in summary_ids if x.strip()))
    if len(wanted) > MAX_ITEMS:
        raise DomainError(_('At most ${n} items on one agenda.', mapping={'n': MAX_ITEMS}),
                          field='items')
    proposed = []
    for summary_id in wanted:
        found = cabinet.proposed(summary_id)
        if found is None:
            raise DomainError(_('"${id}" is not an item proposed for the cabinet.',
                                mapping={'id': summary_id[:40]}), field='items')
        if classified(found) and not meeting.secret:
            raise Refused(_('${number} is a ${classification} summary: it may be placed '
                            'only on a secret meeting\'s agenda.',
                            mapping={'number': found.number,
                                     'classification': found.classification}))
        if found.meeting not in (None, meeting.id):
            other = cabinet.meeting(found.meeting)
            if other is not None and secret_now(other) and not papers_open(officer, other):
                # (not which: a secret meeting's agenda is not theirs to know)
                raise Refused(_('${number} is on the agenda of another meeting already.',
                                mapping={'number': found.number}))
            raise Refused(_('${number} is on the agenda of meeting No. ${other} already.',
                            mapping={'number': found.number, 'other': found.meeting}))
        proposed.append(found)
    kept = {item.summary_id: item for item in meeting.items}
    for item in meeting.items:
        if item.summary_id not in wanted:
            cabinet.proposed(item.summary_id).meeting = None
    items = []
    for found in proposed:
        found.meeting = meeting.id
        item = kept.get(found.summary_id) or AgendaItem(found.summary_id, found.number,
                                                        found.subject, found.department)
        if item.classification != found.classification:
            item.classification = found.classification
        items.append(item)
    meeting.items[:] = items
    officer.actor.record('cabinet.agenda_set', f'meeting:{meeting.id}',
                         items=', '.join(i.number for i in items))
    return meeting


def add_annexure(site, officer, meeting, n, stream, filename, title, tmp_dir=None):
    """Add a PDF annexure to agenda item ``n`` (before the papers are issued).

    :raises DomainError: (404) no such item; (400) not a readable PDF, too large.
    """
    from ..content_types.extract import check_pdf
    _prepare(officer, meeting)
    n = _item_number(n)
    item = meeting.item(n)
    if item is None:
        raise nothing_here()
    if len(item.annexures) >= MAX_ANNEXURES:
        raise Refused(_('At most ${n} annexures to an item.', mapping={'n': MAX_ANNEXURES}))
    title = check_text(title or filename or 'Annexure', 'title', 200, single_line=True)
    annexure = Annexure(title, (filename or 'annexure.pdf')[:200], None, officer.login, now())
    size = 0
    with annexure.blob.open('w') as out:
        while True:
            chunk = stream.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > ANNEXURE_LIMIT:
                raise DomainError(_('An annexure may be at most 20 MB.'), field='file',
                                  status=413)
            out.write(chunk)
    if size == 0:
        raise DomainError(_('The file is empty.'), field='file')
    with annexure.blob.open('r') as f:
        head = f.read(5)
        path = f.name
    if head != b'%PDF-':
        raise DomainError(_('An annexure must be a PDF.'), field='file', status=415)
    annexure.pages = check_pdf(path)   # (DocumentRefused, 400: broken, encrypted, too long)
    item.annexures.append(annexure)
    # (a secret meeting's annexures are not named on the audit log: its item and pages)
    details = {} if meeting.secret else {'title': title}
    officer.actor.record('cabinet.annexure_added', f'meeting:{meeting.id}', item=n,
                         pages=annexure.pages, **details)
    return annexure


def _summary_pdf(site, summary_id):
    """The summary's (signed) PDF as bytes."""
    from .. import official_pdf, signing
    from ..content_types.summary import pdf_fields
    summary = site.desk.items.get(summary_id)
    if summary is None:
        return None
    if summary.pdf is not None:
        return signing.read_pdf(summary.pdf)
    return official_pdf.render_summary(pdf_fields(summary, site))


def issue_papers(site, officer, meeting):
    """Compile the working papers and freeze the agenda and the members called.

    :raises Refused: (409) issued already, no items, no members.
    """
    from .. import signing
    from .papers import render_papers
    _prepare(officer, meeting)
    if not meeting.items:
        raise Refused(_('Put at least one item on the agenda first.'))
    if not meeting.members:
        raise Refused(_('Call the members first.'))
    users = site['principals'].users
    data, pages = render_papers(site, meeting, [
        (users[m].name if m in users else m) for m in meeting.members],
        lambda item: _summary_pdf(site, item.summary_id))
    meeting.papers = signing.store_pdf(data)
    meeting.papers_pages = pages
    meeting.state = 'issued'
    meeting.issued_by, meeting.issued_at = officer.login, now()
    _cabinet(site).called(meeting)
    officer.actor.record('cabinet.papers_issued', f'meeting:{meeting.id}',
                         items=len(meeting.items), pages=pages,
                         members=', '.join(meeting.members))
    return meeting


def papers_pdf(site, officer, meeting):
    """The working papers' bytes.  :raises DomainError: (403) still secret to
    ``officer``; (404) not issued."""
    from .. import signing
    _check(papers_open(officer, meeting),
           _('The papers of this meeting are secret until it meets.'))
    if meeting.papers is None:
        raise nothing_here()
    officer.actor.record('cabinet.papers_read', f'meeting:{meeting.id}')
    return signing.read_pdf(meeting.papers)


# --- decisions and minutes ------------------------------------------------------------------

def _departments(site, names):
    if isinstance(names, str):
        names = [n for n in names.replace(',', ' ').split() if n]
    if not isinstance(names, (list, tuple)) or not all(isinstance(x, str) for x in names):
        raise DomainError(_('Choose the departments concerned.'), field='departments')
    wanted = list(dict.fromkeys(x.strip() for x in names if x.strip()))
    if not wanted:
        raise DomainError(_('Choose the departments concerned.'), field='departments')
    departments = site['departments']
    for name in wanted:
        if name not in departments:
            raise DomainError(_('There is no department "${name}".',
                                mapping={'name': name[:60]}), field='departments')
    return tuple(wanted)


def record_decision(site, officer, meeting, n, text, departments, due, public=False):
    """The cabinet's decision on item ``n`` of ``meeting`` (replacing an earlier one
    until the minutes are signed).

    :raises Refused: (403) not the Cabinet Wing; (409) papers not issued, minutes
        signed, the meeting has not met yet.
    :raises DomainError: (404) no item ``n`` in this meeting; (400) bad values.
    """
    _check(may_prepare(officer, meeting),
           _('Only the Secretary Cabinet prepares a secret meeting.') if is_wing(officer)
           else None)
    _check_state(meeting, 'issued')
    if today() < meeting.date:
        raise Refused(_('${title} has not met yet (${date}).',
                        mapping={'title': meeting.title, 'date': meeting.date.isoformat()}))
    n = _item_number(n)
    item = meeting.item(n)
    if item is None:
        raise nothing_here()
    text = check_text(text, 'text', 5000, minimum=3)
    departments = _departments(site, departments)
    due = check_date(due, 'due', latest_days=5 * 366)
    if due <= today():   # (else it would reach the departments overdue)
        raise DomainError(_('The date it is to be implemented by must be after today '
                            '(${today}).', mapping={'today': today().isoformat()}),
                          field='due')
    if not isinstance(public, bool):
        raise DomainError(_('"public" must be true or false.'), field='public')
    if public and classified(item):
        raise Refused(_('Item ${n} is a ${classification} summary: its decision cannot be '
                        'made public.', mapping={'n': n,
                                                 'classification': item.classification}))
    item.decision = Decision(text, departments, due, public, officer.login, now())
    officer.actor.record('cabinet.decision_recorded', f'meeting:{meeting.id}', item=n,
                         departments=', '.join(departments), due=due.isoformat(),
                         public=public)
    return item


def sign_minutes(site, officer, meeting, pin, context):
    """The Chief Secretary confirms the minutes: rendered, signed with their certificate
    and ``pin``; then each decision goes to its departments for implementation.

    :raises Refused: (403) not the Chief Secretary; (409) papers not issued, signed
        already, an item without a decision.
    :raises SigningRefused, WrongPin: from signing (a wrong PIN changes nothing else).
    """
    from .. import signing
    from .papers import render_minutes
    _check(signs_minutes(officer), _('Only the Chief Secretary signs the cabinet\'s minutes.'))
    _check_state(meeting, 'issued')
    undecided = [i for i, item in enumerate(meeting.items, 1) if item.decision is None]
    if undecided:
        raise Refused(_('Item ${n} of ${title} has no decision recorded yet.',
                        mapping={'n': undecided[0], 'title': meeting.title}))
    pin = check_pin_text(pin)
    posts = officer.posts_with(SIGN)
    signer = signing.unlock(officer, posts[0].post_id if posts else None, context, pin)
    at = now()
    users = site['principals'].users
    departments = site['departments']
    data = render_minutes(meeting, [(users[m].name if m in users else m)
                                    for m in meeting.members],
                          {name: d.title for name, d in departments.items()},
                          signer.name, signer.post, at)
    signed = signing.sign(data, signer, f'Minutes confirmed: {meeting.title}', context)
    meeting.minutes = signing.store_pdf(signed)
    meeting.state = 'signed'
    meeting.signed_by, meeting.signed_by_name, meeting.signed_at = officer.login, signer.name, at
    _cabinet(site).minutes_signed(meeting)
    officer.actor.record('cabinet.minutes_signed', f'meeting:{meeting.id}',
                         items=len(meeting.items))
    send_for_implementation(site, officer, meeting)
    return meeting


def check_pin_text(pin):
    """``pin`` as the summaries' workflows take it: text (a number, true or a list is
    refused plainly rather than reaching the signing code).  :raises DomainError: (400)"""
    if pin is not None and not isinstance(pin, str):
        raise DomainError(_('Give the signing PIN as text: its digits, in quotes.'),
                          field='pin')
    return check_text(pin, 'pin', 200, minimum=0, single_line=True, strip=False)


def source_id(meeting, n):
    """What an implementation item names its source by: the meeting and item."""
    return f'cabinet:{meeting.id}:{n}'


def send_for_implementation(site, officer, meeting):
    """Each decision of ``meeting`` to each department concerned, as an implementation
    item (when :mod:`kp_workspace.implementation` is installed).  :returns: how many."""
    try:
        from ..implementation import assign
    except ImportError:   # (built on its own branch; see the README)
        return 0
    sent = 0
    for n, item in enumerate(meeting.items, 1):
        decision = item.decision
        for department in decision.departments:
            assign(site, officer, department=department, source_id=source_id(meeting, n),
                   meeting_title=meeting.title, meeting_date=meeting.date, item_number=n,
                   subject=item.subject, decision_text=decision.text, due=decision.due)
            sent += 1
        decision.sent = decision.departments
        item._p_changed = True
    officer.actor.record('cabinet.sent_for_implementation', f'meeting:{meeting.id}',
                         items=sent)
    return sent


def minutes_pdf(site, officer, meeting):
    """The signed minutes' bytes (who may read the papers).  :raises DomainError: (404)"""
    from .. import signing
    if meeting.minutes is None or not papers_open(officer, meeting):
        raise nothing_here()
    return signing.read_pdf(meeting.minutes)


def public_decisions(site, offset=0, limit=50):
    """``([(meeting, n, item)], more)``: decisions marked public of meetings whose
    minutes are signed, newest minutes first."""
    cabinet = cabinet_of(site)
    found, skipped = [], 0
    if cabinet is None:
        return found, False
    for meeting in cabinet.signed_meetings():
        for n, item in enumerate(meeting.items, 1):
            if item.decision is None or not item.decision.public or classified(item):
                continue
            if skipped < offset:
                skipped += 1
                continue
            if len(found) == limit:
                return found, True
            found.append((meeting, n, item))
    return found, False


def includeme(config):
    config.scan('.views')
