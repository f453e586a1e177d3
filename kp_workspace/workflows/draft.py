"""The life of an outgoing document: draft -> put up -> approved -> signed -> issued.

Signing numbers and dates the document, renders it as an official PDF and signs
that PDF with the signer's certificate (the PIN unlocks the key); from then on
nothing in it can change.  Issuing sends it out; an issued notification is
published on the public notifications page.
"""
from pyramid.i18n import TranslationStringFactory

from .. import official_pdf, signing
from ..content_types.movable import acting_post, check_change, now, touch
from ..content_types.outgoing import KIND_TITLES, number_draft, pdf_fields
from ..dispatch import note_issued
from ..security.roles import APPROVE, DRAFT, SIGN
from . import Transition, Workflow, check

_ = TranslationStringFactory('kp_workspace')


def file_holder(draft, officer, params):
    """The officer holds the draft's file, and the file is not closed (the engine has
    checked the transition's permission on the draft, that is on its file)."""
    check_change(draft.casefile, officer)


def _record(name):
    def effect(draft, officer, params):
        casefile = draft.casefile
        touch(casefile)
        if name == 'approved':
            draft.approved_by = officer.login
            draft.approved_at = now()
        officer.actor.record(f'draft.{name}', f'file:{casefile.id}', draft=draft.id)
    return effect


def sign_draft(draft, officer, params):
    casefile = draft.casefile
    post_id = acting_post(casefile, officer)
    context = params.get('signing')
    # the PIN first: a wrong one changes nothing but its own count
    signer = signing.unlock(officer, post_id, context, params.get('pin'))
    site, at = officer.site, now()
    number_draft(draft, site, at)
    data = official_pdf.render_outgoing(
        pdf_fields(draft, site, signer.name, signer.post, final=True))
    signed = signing.sign(data, signer, f'Approved: {draft.number}', context)
    draft.pdf = signing.store_pdf(signed)
    draft.signatures = (*draft.signatures, (officer.login, signer.name, signer.post, at))
    touch(casefile)
    officer.actor.record('draft.signed', f'file:{casefile.id}', draft=draft.id,
                         number=draft.number)


def issue_draft(draft, officer, params):
    casefile = draft.casefile
    draft.issued_at = now()
    if draft.kind == 'notification':
        officer.site.notices.add(f'{casefile.id}-{draft.id}', draft.issued_at)
    note_issued(officer.site, casefile, draft)   # it now awaits dispatch
    touch(casefile)
    officer.actor.record('draft.issued', f'file:{casefile.id}', draft=draft.id,
                         number=draft.number)


def draft_words(draft, site, params):
    """What the messages about a draft say of it."""
    if draft.kind == 'notification':
        going = _('It will go out as No. ${number} and be published on the public '
                  'notifications page.', mapping={'number': draft.number})
    else:
        going = _('It will go out as No. ${number}.', mapping={'number': draft.number})
    return {'kind': KIND_TITLES[draft.kind], 'subject': draft.subject,
            'file': draft.casefile.number, 'number': draft.number or '',
            'dated': draft.dated_at.strftime('%d %b %Y') if draft.dated_at else '',
            'going': going}


# (ranks above a file's own actions: a draft put up is what its approver came for)
DRAFT_WORKFLOW = check(Workflow(
    name='outgoing',
    states={'draft': _('being drafted'), 'pending': _('awaiting approval'),
            'approved': _('approved'), 'signed': _('signed'), 'issued': _('issued')},
    initial='draft',
    words=draft_words,
    transitions=(
        Transition('submit', _('put up for approval'), ('draft',), 'pending', DRAFT, file_holder,
                   _record('submitted'), rank=15,
                   done=_('${kind} “${subject}” put up for approval.')),
        Transition('approve', _('approve'), ('pending',), 'approved', APPROVE, file_holder,
                   _record('approved'), rank=30, done=_('${kind} “${subject}” approved.')),
        Transition('revise', _('send back for changes'), ('pending', 'approved'), 'draft', DRAFT,
                   file_holder, _record('revised'), rank=0,
                   done=_('${kind} “${subject}” sent back for changes.')),
        Transition('sign', _('sign'), ('approved',), 'signed', SIGN, file_holder, sign_draft,
                   needs=('pin',), rank=30,
                   done=_('${kind} “${subject}” signed: No. ${number}, dated ${dated}.')),
        Transition('issue', _('issue'), ('signed',), 'issued', SIGN, file_holder, issue_draft,
                   rank=30, done=_('${kind} “${subject}” issued as No. ${number}, dated ${dated}.'),
                   confirm=_('Issue ${kind} “${subject}” on ${file}? ${going} '
                             'This cannot be undone.'),
                   confirm_button=_('Yes, issue')),
    ),
))
