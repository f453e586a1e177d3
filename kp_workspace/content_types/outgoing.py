"""OutgoingDocument: a letter, memorandum, office order or notification drafted on a file.

Drafted by the holder, put up for approval, approved by an approver holding the
file, then signed (numbered, dated, rendered as a PDF and signed with the
signer's certificate: from then on it cannot change) and issued.  An issued
notification is published on the public notifications page.
"""
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.i18n import TranslationStringFactory

from ..workflows import Refused
from ..security.roles import DRAFT
from ..text_rules import check_name, check_text
from .movable import check_change, check_choice, nothing_here, now, touch

_ = TranslationStringFactory('kp_workspace')

KINDS = ('letter', 'memorandum', 'office_order', 'notification')
KIND_TITLES = {'letter': _('Letter'), 'memorandum': _('Memorandum'),
               'office_order': _('Office order'), 'notification': _('Notification')}
KIND_CODES = {'letter': 'L', 'memorandum': 'M', 'office_order': 'OO', 'notification': 'N'}
PDF_TITLES = {'letter': 'Letter', 'memorandum': 'Memorandum', 'office_order': 'Office Order',
              'notification': 'Notification'}


class OutgoingDocument(Persistent):
    type_name = 'OutgoingDocument'
    # (class defaults: documents drafted before signing existed have none of these)
    addressees = ''
    copies = ''
    number = None
    dated_at = None
    pdf = None              # Blob: the signed PDF
    signatures = ()         # ((login, name, post title, at), ...)
    issued_at = None

    def __init__(self, draft_id, kind, subject, body, author, post_id, at):
        super().__init__()
        self.id = draft_id
        self.kind = kind
        self.subject = subject
        self.body = body
        self.author = author
        self.post_id = post_id
        self.created_at = at
        self.updated_at = at
        self.state = 'draft'
        self.approved_by = None
        self.approved_at = None

    @property
    def department(self):
        return self.__parent__.__parent__.department

    @property
    def holder(self):
        return self.__parent__.__parent__.holder

    @property
    def casefile(self):
        return self.__parent__.__parent__


def _lines(value, name):
    return check_text(value, name, 5000, minimum=0)


def add_draft(casefile, officer, kind, subject, body, addressees='', copies=''):
    """Draft on ``casefile`` as its holder (DRAFT; not on a closed file).  :raises Refused:"""
    post_id = check_change(casefile, officer, DRAFT)
    kind = check_choice(kind, KINDS, 'kind')
    subject = check_name(subject, 'subject', 300)
    body = check_text(body, 'body', 50000)
    addressees, copies = _lines(addressees, 'addressees'), _lines(copies, 'copies')
    draft_id = f'd{len(casefile.drafts) + 1}'
    while draft_id in casefile.drafts:
        draft_id += 'x'
    draft = OutgoingDocument(draft_id, kind, subject, body, officer.login, post_id, now())
    draft.addressees, draft.copies = addressees, copies
    casefile.drafts.add(draft_id, draft)
    touch(casefile)
    officer.actor.record('draft.created', f'file:{casefile.id}', draft=draft_id, kind=kind)
    return draft


def edit_draft(draft, officer, subject, body, addressees=None, copies=None):
    casefile = draft.casefile
    check_change(casefile, officer, DRAFT)
    if draft.state != 'draft':
        raise Refused(_('Only a draft being written can be changed; this one is ${state}.',
                        mapping={'state': draft.state}))
    # every field checked before any is changed
    subject, body = check_name(subject, 'subject', 300), check_text(body, 'body', 50000)
    addressees = _lines(addressees, 'addressees') if addressees is not None else draft.addressees
    copies = _lines(copies, 'copies') if copies is not None else draft.copies
    draft.subject, draft.body, draft.addressees, draft.copies = subject, body, addressees, copies
    draft.updated_at = now()
    touch(casefile)
    officer.actor.record('draft.edited', f'file:{casefile.id}', draft=draft.id)


def find_draft(site, draft_id, officer=None):
    """Drafts are addressed as ``<file id>-<draft id>`` across the site.

    :param officer: when given, the draft is found only if the officer may see its file.
    :raises DomainError: 404, the same answer whether the draft does not exist or
        its file may not be seen.
    """
    file_id, _sep, local = (draft_id or '').partition('-')
    casefile = site.desk.items.get(file_id)
    if casefile is None or casefile.kind != 'file' or local not in casefile.drafts \
            or (officer is not None and not officer.can_view(casefile)):
        raise nothing_here()
    return casefile, casefile.drafts[local]


def pdf_fields(draft, site, signer_name=None, signer_post=None, final=False):
    """What :func:`kp_workspace.official_pdf.render_outgoing` draws for ``draft``."""
    dept = site['departments'].get(draft.department)
    if signer_name is None and draft.signatures:
        _login, signer_name, signer_post, _at = draft.signatures[0]
    return {'kind_title': PDF_TITLES[draft.kind],
            'department_title': dept.title if dept is not None else draft.department,
            'department_title_ur': getattr(dept, 'title_ur', '') if dept is not None else '',
            'number': draft.number, 'date': draft.dated_at, 'subject': draft.subject,
            'body': draft.body, 'addressees': draft.addressees, 'copies': draft.copies,
            'signer_name': signer_name or '', 'signer_post': signer_post or '', 'final': final}


def number_draft(draft, site, at):
    """Give ``draft`` its number and date (when it is signed)."""
    casefile = draft.casefile
    dept = site['departments'][casefile.department]
    serial = site.desk.next_number(dept.__name__, f'out-{draft.kind}', at.year)
    draft.number = f'{dept.code}/{KIND_CODES[draft.kind]}/{at.year}/{serial:04d}'
    draft.dated_at = at


class PublishedNotices(Persistent):
    """Issued notifications, newest first, for the public page (a range read per page)."""

    def __init__(self):
        super().__init__()
        self._by_time = OOBTree()     # (-timestamp, draft address) -> draft address
        self._count = Length()

    def add(self, address, at):
        self._by_time[(-at.timestamp(), address)] = address
        self._count.change(1)

    def __len__(self):
        return self._count()

    def page(self, after=None, size=20):
        """Up to ``size`` addresses after the key ``after``; :returns: (addresses, next key)."""
        keys = self._by_time.keys(min=after, excludemin=after is not None)
        found, last = [], None
        for key in keys:
            if len(found) == size:
                return found, last
            found.append(self._by_time[key])
            last = key
        return found, None
