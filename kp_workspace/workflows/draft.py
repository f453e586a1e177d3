"""The life of an outgoing document before signing: draft -> put up -> approved."""
from pyramid.i18n import TranslationStringFactory

from ..content_types.movable import acting_post, now, touch
from ..security.roles import APPROVE, DRAFT
from . import Transition, Workflow, check

_ = TranslationStringFactory('kp_workspace')


def file_holder(draft, officer, params):
    acting_post(draft.casefile, officer)


def _record(name):
    def effect(draft, officer, params):
        casefile = draft.casefile
        touch(casefile)
        if name == 'approved':
            draft.approved_by = officer.login
            draft.approved_at = now()
        officer.actor.record(f'draft.{name}', f'file:{casefile.id}', draft=draft.id)
    return effect


DRAFT_WORKFLOW = check(Workflow(
    name='outgoing',
    states={'draft': _('being drafted'), 'pending': _('put up for approval'),
            'approved': _('approved')},
    initial='draft',
    transitions=(
        Transition('submit', _('put up for approval'), ('draft',), 'pending', DRAFT, file_holder,
                   _record('submitted')),
        Transition('approve', _('approve'), ('pending',), 'approved', APPROVE, file_holder,
                   _record('approved')),
        Transition('revise', _('send back for changes'), ('pending',), 'draft', DRAFT, file_holder,
                   _record('revised')),
    ),
))
