"""Summary (e-summary): a submission from a department to the Chief Minister.

Drafted in a department, put up to its Secretary, sent on to the Chief
Secretary (and to other departments for comments), put up to the Chief
Minister, who records a decision that goes back to the department.
"""
import colander
import deform
from pyramid.i18n import TranslationStringFactory

from ..security.roles import DRAFT
from ..workflows import Refused
from .casefile import classification_node, priority_node
from ..text_rules import check_text
from .movable import Movable, create

_ = TranslationStringFactory('kp_workspace')

# 'for_cabinet': approved for placing before the Cabinet (it reaches the Cabinet Wing
# as a proposed agenda item; see kp_workspace.cabinet)
DECISIONS = ('approved', 'approved_with_changes', 'returned', 'seen', 'for_cabinet')
FOR_CABINET = 'for_cabinet'
DECISION_TITLES = {'approved': _('Approved'), 'approved_with_changes': _('Approved with changes'),
                   'returned': _('Returned'), 'seen': _('Seen'),
                   'for_cabinet': _('Approved for placing before the Cabinet')}
DECISION_TEXT = {'approved': 'Approved', 'approved_with_changes': 'Approved with changes',
                 'returned': 'Returned', 'seen': 'Seen',
                 'for_cabinet': 'Approved for placing before the Cabinet'}
SECTIONS = ('background', 'proposal', 'financial_implications', 'decision_sought')
SECTION_HEADINGS = ('Background', 'Proposal', 'Financial implications', 'Decision sought')


class Summary(Movable):
    type_name = 'Summary'
    kind = 'summary'
    final_states = ('decided', 'filed')  # a decided summary has no way back
    filed_at = None         # when the department filed it, decided
    implementing_file = None  # id of the file opened to carry out the decision
    pdf = None              # Blob: the signed PDF, once someone signed it
    signatures = ()         # ((login, name, post title, at), ...)

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.state = 'draft'
        self.background = self.proposal = self.financial_implications = ''
        self.decision_sought = ''
        self.decision = None
        self.decision_remarks = ''
        self.decided_at = None
        self.decided_by = None


def _user_name(site, login):
    user = site['principals'].users.get(login) if login else None
    return user.name if user is not None else (login or '')


def pdf_fields(summary, site):
    """What :func:`kp_workspace.official_pdf.render_summary` draws for ``summary``."""
    dept = site['departments'].get(summary.department)
    return {'department_title': dept.title if dept is not None else summary.department,
            'number': summary.number, 'subject': summary.subject,
            'initiated_at': summary.created_at,
            'sections': [(h, getattr(summary, s)) for h, s in zip(SECTION_HEADINGS, SECTIONS)],
            'decision_title': DECISION_TEXT.get(summary.decision) if summary.decision else '',
            'decision_remarks': summary.decision_remarks,
            'decided_by': _user_name(site, summary.decided_by),
            'decided_at': summary.decided_at}


class SummarySchema(colander.Schema):
    subject = colander.SchemaNode(colander.String(), title=_('Subject'),
                                  validator=colander.Length(min=3, max=300))
    background = colander.SchemaNode(colander.String(), title=_('Background'),
                                     widget=deform.widget.TextAreaWidget(rows=5))
    proposal = colander.SchemaNode(colander.String(), title=_('Proposal'),
                                   widget=deform.widget.TextAreaWidget(rows=5))
    financial_implications = colander.SchemaNode(
        colander.String(), title=_('Financial implications'), missing='',
        widget=deform.widget.TextAreaWidget(rows=3))
    decision_sought = colander.SchemaNode(colander.String(), title=_('Decision sought'),
                                          widget=deform.widget.TextAreaWidget(rows=3))
    classification = classification_node()
    priority = priority_node()


def initiate_summary(department, officer, subject, background, proposal, decision_sought,
                     financial_implications='', classification='routine', priority='routine'):
    """Draft a summary in ``department``, held by the officer's post there."""
    posts = officer.posts_with(DRAFT, department.__name__)
    if not posts:
        raise Refused(_('You hold no post that may draft in this department.'), status=403)
    values = {
        'background': check_text(background, 'background', 20000),
        'proposal': check_text(proposal, 'proposal', 20000),
        'financial_implications': check_text(financial_implications, 'financial_implications',
                                             20000, minimum=0),
        'decision_sought': check_text(decision_sought, 'decision_sought', 5000),
    }
    return create(Summary, department, officer, posts[0], '{code}/S/{year}/{serial:04d}',
                  'summary', subject, classification, priority, **values)
