"""The dispatch register: how each issued document left the department.

An issued letter, memorandum, office order or notification is *dispatched*: an
entry in its department's register, numbered ``CODE/DS/YEAR/NNNN`` (from the desk's
counters: concurrent use conflicts and is retried, a number is never given twice),
names the document (its file, draft, number and subject), which of its addressees
and copies this dispatch covers, the mode (e-mail from the workspace with the signed
PDF attached, by hand, by post, by courier), when and by whom, and for e-mail the
addresses it went to.  Each addressee's acknowledgement (received on a date, by
whom, remarks) is recorded on the entry later.

The rules, which every path (browser, API) passes here:

- **Only an issued document** is dispatched (409 otherwise): a draft, one awaiting
  approval, approved, or signed but not issued is not out of the office yet.
- **Who may dispatch** (and record acknowledgements), :func:`check_dispatcher`:
  the holder of the document's file whose roles there carry FORWARD (sending
  something out of the file is the holder's work, as forwarding is; DRAFT alone would
  let a drafter post what an approver issued), or a user keeping the department's
  diary (REGISTER_RECEIPT in the department: the central registry handles dak in and
  out) -- for a routine file only: a confidential or secret document goes out from
  the section that holds the file, not through the registry.
- **A closed file's issued documents may still be dispatched**: a file is often
  closed the day its letter is issued, and the registry posts it later.  Dispatching
  changes nothing in the file (the entry is in the department's register, the
  document was frozen when signed); on a closed file the registry does it (the file
  has no desk to act from) or the post that held it last.
- **E-mail** needs a mail server (``mail.host``): without one it is refused (409,
  the deployment's state; retrying will not help, unlike a 503).  The addresses are
  given at dispatch (an addressee line is free text) and checked; the mail goes
  through pyramid_mailer's transactional ``send``, only after the commit.
- Who may **see** an entry: who may see the file, or the department's diary keepers
  when the file is routine (:func:`may_see`).  Lists, the CSV and the API apply it.
"""
import datetime
import re

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from persistent.mapping import PersistentMapping
from pyramid.i18n import TranslationStringFactory

from ..content_types.movable import nothing_here, now
from ..content_types.outgoing import PDF_TITLES
from ..errors import Conflict, DomainError
from ..records import Record
from ..security.roles import FORWARD, REGISTER_RECEIPT
from ..text_rules import check_text
from ..workflows import Refused

_ = TranslationStringFactory('kp_workspace')

MODES = ('email', 'by_hand', 'post', 'courier')
MODE_TITLES = {'email': _('E-mail'), 'by_hand': _('By hand'), 'post': _('By post'),
               'courier': _('Courier')}
SERIES = 'dispatch'
MAX_ADDRESSES = 50
# an address as mail servers take it: ASCII, no spaces or line breaks (nothing that
# could add a header), a domain with a dot
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
                    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
ROUTINE = 'routine'


class Acknowledgement(Record):
    """One addressee's acknowledgement: received on ``received_on`` (a date)."""

    def __init__(self, received_on, remarks, by, by_name, at):
        self.received_on, self.remarks = received_on, remarks
        self.by, self.by_name, self.at = by, by_name, at


class DispatchEntry(Persistent):
    """One line of a dispatch register."""

    def __init__(self, entry_id, number, department, file_id, draft_id, doc_number, subject,
                 kind, recipients, mode, emails, remarks, at, by, by_name):
        super().__init__()
        self.id, self.number, self.department = entry_id, number, department
        self.file_id, self.draft_id = file_id, draft_id
        self.doc_number, self.subject, self.kind = doc_number, subject, kind
        self.recipients = tuple(recipients)   # ((line, 'to' | 'copy'), ...)
        self.mode, self.emails, self.remarks = mode, tuple(emails), remarks
        self.at, self.by, self.by_name = at, by, by_name
        self.acknowledgements = PersistentMapping()   # recipient index -> Acknowledgement

    @property
    def address(self):
        return f'{self.file_id}-{self.draft_id}'

    @property
    def key(self):
        return (-self.at.timestamp(), self.id)

    def pending(self):
        """Indexes of the recipients not yet acknowledged."""
        return [i for i in range(len(self.recipients)) if i not in self.acknowledgements]


class DispatchRegister(Persistent):
    """A department's register: entries newest first, those awaiting an acknowledgement,
    each document's entries, and the issued documents not yet dispatched."""

    def __init__(self, department):
        super().__init__()
        self.department = department
        self._entries = OOBTree()       # (-timestamp, entry id) -> DispatchEntry
        self._ids = OOBTree()           # entry id -> key
        self._pending = OOTreeSet()     # keys of entries with an acknowledgement pending
        self._by_draft = OOBTree()      # draft address -> OOTreeSet(keys)
        self._awaiting = OOBTree()      # draft address -> issued timestamp
        self._count = Length()

    def __len__(self):
        return self._count()

    def add(self, entry):
        key = entry.key
        self._entries[key] = entry
        self._ids[entry.id] = key
        if entry.pending():
            self._pending.add(key)
        found = self._by_draft.get(entry.address)
        if found is None:
            found = self._by_draft[entry.address] = OOTreeSet()
        found.add(key)
        self._awaiting.pop(entry.address, None)
        self._count.change(1)

    def get(self, entry_id):
        key = self._ids.get(entry_id)
        return self._entries[key] if key is not None else None

    def acknowledged(self, entry):
        if not entry.pending():
            self._pending.discard(entry.key)

    def of_draft(self, address):
        """The entries of one document, oldest first."""
        return [self._entries[k] for k in reversed(list(self._by_draft.get(address, ())))]

    def entries(self, since=None, until=None, pending=False):
        """Entries newest first, dispatched in ``[since, until)`` (datetimes) if given;
        ``pending``: only those with an acknowledgement outstanding."""
        bounds = {}
        if until is not None:
            bounds.update(min=(-until.timestamp(),), excludemin=True)
        if since is not None:
            bounds.update(max=(-since.timestamp(), '\uffff'))
        if pending:
            return (self._entries[k] for k in self._pending.keys(**bounds))
        return iter(self._entries.values(**bounds))

    def awaiting(self):
        """Addresses of issued documents not yet dispatched, oldest issued first."""
        return [a for _ts, a in sorted((ts, a) for a, ts in self._awaiting.items())]

    def note_issued(self, address, at):
        if address not in self._by_draft:
            self._awaiting[address] = at.timestamp()


class DispatchBook(Persistent):
    """The registers of every department (``site.dispatch``, from evolve step 18)."""

    def __init__(self):
        super().__init__()
        self._registers = OOBTree()

    def register(self, department, create=False):
        found = self._registers.get(department)
        if found is None and create:
            found = self._registers[department] = DispatchRegister(department)
        return found


# --- the rules ----------------------------------------------------------------------------

def keeps_diary(officer, department):
    """Whether ``officer`` keeps ``department``'s diary (the central registry)."""
    return officer.may_in_department(REGISTER_RECEIPT, department)


def may_see(officer, casefile):
    """Whether ``officer`` may see the dispatches of ``casefile``'s documents."""
    return officer.can_view(casefile) or (
        casefile.classification == ROUTINE and keeps_diary(officer, casefile.department))


def may_keep_register(officer, department):
    """Whether ``officer`` may open ``department``'s dispatch register (what it shows is
    then filtered by :func:`may_see`): its diary keepers and its file workers."""
    return (keeps_diary(officer, department)
            or officer.may_in_department(FORWARD, department))


def find_document(site, address, officer):
    """The file and draft at ``address`` (``<file id>-<draft id>``) for dispatching.

    :raises DomainError: 404 alike when there is none and when the officer may not see
        it (the registry sees only issued documents of routine files).
    """
    file_id, _sep, local = (address or '').partition('-')
    casefile = site.desk.items.get(file_id)
    if casefile is None or casefile.kind != 'file' or local not in casefile.drafts:
        raise nothing_here()
    draft = casefile.drafts[local]
    if officer.can_view(casefile):
        return casefile, draft
    if draft.state == 'issued' and may_see(officer, casefile):
        return casefile, draft
    raise nothing_here()


def check_dispatcher(casefile, officer):
    """:raises Refused: ``officer`` may not dispatch (or acknowledge) documents of
    ``casefile``: 403 when no role allows it, 409 when the file is with another desk."""
    if casefile.classification == ROUTINE and keeps_diary(officer, casefile.department):
        return
    if not officer.holds(casefile.holder):
        raise Refused(_('Only the holder of ${number} or the diary and dispatch section can '
                        'do that; the file is with another desk.',
                        mapping={'number': casefile.number}))
    if not officer.may(FORWARD, casefile):
        raise Refused(_('Your role does not let you dispatch documents.'), status=403)


def check_issued(draft):
    """:raises Refused: (409) ``draft`` has not been issued."""
    if draft.state != 'issued':
        from ..workflows.draft import DRAFT_WORKFLOW  # (which calls note_issued below)
        raise Refused(_('Only an issued document can be dispatched; “${subject}” is ${state}. '
                        'It must be approved, signed and issued first.',
                        mapping={'subject': draft.subject,
                                 'state': DRAFT_WORKFLOW.states[draft.state]}))


def recipient_lines(draft):
    """``[(line, 'to' | 'copy')]``: the draft's addressees, then its copies."""
    return ([(line.strip(), 'to') for line in draft.addressees.splitlines() if line.strip()]
            + [(line.strip(), 'copy') for line in draft.copies.splitlines() if line.strip()])


def _chosen(draft, recipients):
    lines = recipient_lines(draft)
    if not lines:
        raise Conflict(_('This document names no addressees or copies, so there is no one '
                         'to dispatch it to.'))
    if recipients is None:
        return lines
    if not recipients:
        raise DomainError(_('Choose at least one addressee or copy.'), field='recipients')
    if not isinstance(recipients, (list, tuple)) or not all(
            isinstance(r, str) for r in recipients):
        raise DomainError(_('Choose addressees from the document.'), field='recipients')
    wanted = {r.strip() for r in recipients}
    unknown = wanted - {line for line, _role in lines}
    if unknown:
        raise DomainError(_('"${line}" is not an addressee or copy of this document.',
                            mapping={'line': sorted(unknown)[0][:100]}), field='recipients')
    return [(line, role) for line, role in lines if line in wanted]


def check_emails(text):
    """The addresses in ``text`` (separated by commas, semicolons, spaces or lines),
    each checked, without repeats.  :raises DomainError: none, too many, or a bad one."""
    if isinstance(text, (list, tuple)):
        text = '\n'.join(t if isinstance(t, str) else '' for t in text)
    if not isinstance(text, str):
        raise DomainError(_('This must be text.'), field='emails')
    found = []
    for address in re.split(r'[\s,;]+', text.strip()):
        if not address:
            continue
        if len(address) > 254 or not _EMAIL.fullmatch(address):
            raise DomainError(_('"${address}" is not an e-mail address.',
                                mapping={'address': address[:100]}), field='emails')
        if address.lower() not in {a.lower() for a in found}:
            found.append(address)
    if not found:
        raise DomainError(_('Give the e-mail addresses to send it to.'), field='emails')
    if len(found) > MAX_ADDRESSES:
        raise DomainError(_('At most ${n} addresses at a time.', mapping={'n': MAX_ADDRESSES}),
                          field='emails')
    return found


def dispatch(casefile, draft, officer, mode, recipients=None, emails='', remarks=''):
    """Enter ``draft`` in its department's dispatch register (and for ``email`` send it).

    :param recipients: the addressee and copy lines this dispatch covers (all if empty).
    :param emails: for ``email``, the addresses (text or a list).
    :returns: the :class:`DispatchEntry`.
    :raises Refused: not issued (409), not a dispatcher (403/409), no mail server (409).
    :raises DomainError: (400) a bad mode, recipient, address or remark.
    """
    check_issued(draft)
    check_dispatcher(casefile, officer)
    if not isinstance(mode, str) or mode not in MODES:
        raise DomainError(_('Choose one of: ${choices}.', mapping={'choices': ', '.join(MODES)}),
                          field='mode')
    chosen = _chosen(draft, recipients)
    remarks = check_text(remarks, 'remarks', 500, minimum=0)
    addresses = ()
    if mode == 'email':
        if officer.mailer is None:
            raise Refused(_('E-mail dispatch is not available: no mail server is configured. '
                            'Dispatch it by hand, by post or by courier, or ask the '
                            'administrator to set up mail.'))
        addresses = check_emails(emails)
    site = officer.site
    dept = site['departments'][casefile.department]
    at = now()
    serial = site.desk.next_number(dept.__name__, SERIES, at.year)
    entry = DispatchEntry(f'{at.year}-{serial:04d}', f'{dept.code}/DS/{at.year}/{serial:04d}',
                          dept.__name__, casefile.id, draft.id, draft.number, draft.subject,
                          draft.kind, chosen, mode, addresses, remarks, at, officer.login,
                          officer.user.name)
    site.dispatch.register(dept.__name__, create=True).add(entry)
    if addresses:
        _send(officer.mailer, entry, draft, dept)
    officer.actor.record('dispatch.sent', f'file:{casefile.id}', draft=draft.id,
                         number=entry.number, document=draft.number, mode=mode,
                         recipients=len(chosen), emails=', '.join(addresses))
    return entry


def _mail_message(**kw):
    """A pyramid_mailer message whose lines end in CRLF on the wire.

    repoze.sendmail hands smtplib the message as bytes, which smtplib sends as they
    are: with bare LFs a strict server (aiosmtpd, Postfix refusing bare newlines) sees
    one endless line and refuses a message as large as a signed PDF.  The message's
    own policy makes the generator write CRLF.
    """
    import email.policy

    from pyramid_mailer.message import Message

    class CRLFMessage(Message):
        def to_message(self):
            found = super().to_message()
            found.policy = email.policy.compat32.clone(linesep='\r\n')
            return found
    return CRLFMessage(**kw)


def _send(mailer, entry, draft, dept):
    from pyramid_mailer.message import Attachment

    from ..signing import read_pdf
    name = re.sub(r'[^A-Za-z0-9]+', '-', draft.number).strip('-') + '.pdf'
    body = (f'{dept.title}\n\n'
            f'Please find attached {PDF_TITLES[draft.kind]} No. {draft.number} dated '
            f'{draft.dated_at:%d %B %Y}: {draft.subject}.\n\n'
            f'To: ' + '; '.join(line for line, _role in entry.recipients) + '\n\n'
            f'Dispatch No. {entry.number}. The attached PDF is digitally signed; it can be '
            f'verified on the workspace\'s verification page.\n')
    message = _mail_message(subject=f'{draft.number}: {draft.subject}',
                            recipients=list(entry.emails), body=body)
    message.attach(Attachment(name, 'application/pdf', read_pdf(draft.pdf),
                              disposition='attachment', transfer_encoding='base64'))
    mailer.send(message)   # (transactional: only after the commit)


def find_entry(site, department, entry_id, officer):
    """The entry ``entry_id`` of ``department``'s register if ``officer`` may see it.
    :raises DomainError: 404 alike when there is none and when it may not be seen."""
    register = site.dispatch.register(department)
    entry = register.get(entry_id) if register is not None and isinstance(entry_id, str) \
        else None
    casefile = site.desk.items.get(entry.file_id) if entry is not None else None
    if casefile is None or not may_see(officer, casefile):
        raise nothing_here()
    return entry, casefile


def acknowledge(entry, casefile, officer, recipient, received_on, remarks=''):
    """Record that ``recipient`` (one of the entry's lines) received the dispatch on
    ``received_on`` (a date, not before the dispatch nor in the future).

    :raises Refused: not a dispatcher (403/409), already acknowledged (409).
    :raises DomainError: (400) an unknown recipient, a bad date or remark.
    """
    check_dispatcher(casefile, officer)
    lines = [line for line, _role in entry.recipients]
    if not isinstance(recipient, str) or recipient.strip() not in lines:
        raise DomainError(_('Choose an addressee of this dispatch.'), field='recipient')
    index = lines.index(recipient.strip())
    received_on = _date(received_on)
    at = now()
    if received_on < entry.at.date() or received_on > at.date():
        raise DomainError(_('The date received must be between the dispatch (${first}) and '
                            'today.', mapping={'first': entry.at.date().isoformat()}),
                          field='received_on')
    remarks = check_text(remarks, 'remarks', 500, minimum=0, single_line=True)
    if index in entry.acknowledgements:
        raise Refused(_('${line} has already acknowledged this dispatch.',
                        mapping={'line': recipient.strip()}))
    entry.acknowledgements[index] = Acknowledgement(received_on, remarks, officer.login,
                                                    officer.user.name, at)
    officer.site.dispatch.register(entry.department).acknowledged(entry)
    officer.actor.record('dispatch.acknowledged', f'file:{casefile.id}', draft=entry.draft_id,
                         number=entry.number, recipient=recipient.strip(),
                         received_on=received_on.isoformat())
    return entry


def _date(value):
    """``value`` (a date, or text YYYY-MM-DD) as a date.  :raises DomainError: (400)"""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    if not isinstance(value, datetime.date):
        raise DomainError(_('Give the date it was received as YYYY-MM-DD.'),
                          field='received_on')
    return value


def note_issued(site, casefile, draft):
    """``draft`` was issued: it awaits dispatch in its department's register."""
    book = getattr(site, 'dispatch', None)
    if book is not None:  # (a database before step 18: the step fills it)
        book.register(casefile.department, create=True).note_issued(
            f'{casefile.id}-{draft.id}', draft.issued_at)


def includeme(config):
    """The register's pages and API (routes are in :data:`kp_workspace.views.ROUTES`)."""
    config.scan('.views')
