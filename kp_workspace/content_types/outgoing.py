"""OutgoingDocument: a letter, memorandum, office order or notification drafted on a file.

Drafted by the holder, put up for approval, approved by an approver holding the
file.  Signing, numbering and issue come with the signing work.
"""
from persistent import Persistent
from pyramid.i18n import TranslationStringFactory

from ..errors import DomainError
from ..workflows import Refused
from .movable import acting_post, check_choice, check_text, now, touch

_ = TranslationStringFactory('kp_workspace')

KINDS = ('letter', 'memorandum', 'office_order', 'notification')
KIND_TITLES = {'letter': _('Letter'), 'memorandum': _('Memorandum'),
               'office_order': _('Office order'), 'notification': _('Notification')}


class OutgoingDocument(Persistent):
    type_name = 'OutgoingDocument'

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


def add_draft(casefile, officer, kind, subject, body):
    post_id = acting_post(casefile, officer)
    kind = check_choice(kind, KINDS, 'kind')
    subject = check_text(subject, 'subject', 300)
    body = check_text(body, 'body', 50000)
    draft_id = f'd{len(casefile.drafts) + 1}'
    while draft_id in casefile.drafts:
        draft_id += 'x'
    draft = OutgoingDocument(draft_id, kind, subject, body, officer.login, post_id, now())
    casefile.drafts.add(draft_id, draft)
    touch(casefile)
    officer.actor.record('draft.created', f'file:{casefile.id}', draft=draft_id, kind=kind)
    return draft


def edit_draft(draft, officer, subject, body):
    casefile = draft.casefile
    acting_post(casefile, officer)
    if draft.state != 'draft':
        raise Refused(_('Only a draft being written can be changed; this one is ${state}.',
                        mapping={'state': draft.state}))
    draft.subject = check_text(subject, 'subject', 300)
    draft.body = check_text(body, 'body', 50000)
    draft.updated_at = now()
    touch(casefile)
    officer.actor.record('draft.edited', f'file:{casefile.id}', draft=draft.id)


def find_draft(site, draft_id):
    """Drafts are addressed as ``<file id>-<draft id>`` across the site."""
    file_id, _sep, local = (draft_id or '').partition('-')
    casefile = site.desk.items.get(file_id)
    if casefile is None or casefile.kind != 'file' or local not in casefile.drafts:
        raise DomainError(_('There is no such draft.'), status=404)
    return casefile, casefile.drafts[local]
