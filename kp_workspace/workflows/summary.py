"""The life of a summary, as data: draft -> submitted -> with the CM -> decided."""
from pyramid.i18n import TranslationStringFactory

from .. import official_pdf, signing
from ..content_types.casefile import open_file
from ..content_types.movable import (acting_post, change_state, check_choice, move, now,
                                      put_away, touch, write_note)
from ..content_types.summary import (DECISION_TEXT, DECISION_TITLES, DECISIONS, FOR_CABINET,
                                     pdf_fields)
from ..security.roles import (APPROVE, DECIDE_SUMMARY, FORWARD, OPEN_FILE, SIGN, WRITE_NOTE,
                              permissions_of)
from . import Refused, Transition, Workflow, check
from .casefile import (DEPARTMENT_RECORDS, RECALLED, SENT, SENT_BACK, another_post,
                       chosen_post, has_sender, holder, item_words, needs_post, send_back,
                       to_another_post, untouched_since_sent)

_ = TranslationStringFactory('kp_workspace')


def _post_may(officer, post_id, permission, department=None):
    post = officer.site['principals'].posts.get(post_id)
    if post is None or (department is not None and post.department != department):
        return False
    return permission in permissions_of(officer.post_roles(post_id))


def a_secretary(item, officer, post):
    """An approver's post in the summary's own department (not the one holding it)."""
    # (the department first: the picker asks about every post, and it needs no look-up)
    return another_post(item, officer, post) and post.department == item.department and \
        _post_may(officer, post.post_id, APPROVE, item.department)


def the_chief_minister(item, officer, post):
    """A post that decides summaries."""
    return another_post(item, officer, post) and _post_may(officer, post.post_id, DECIDE_SUMMARY)


def to_secretary(item, officer, params):
    needs_post(item, officer, params)
    if params is not None and not a_secretary(item, officer, chosen_post(officer, params)):
        raise Refused(_('A summary is first put up to the Secretary (an approver) of its '
                        'department.'))


def to_chief_minister(item, officer, params):
    needs_post(item, officer, params)
    if not any(_post_may(officer, p, APPROVE, item.department) for p in item.chain):
        raise Refused(_('The Secretary of the department has not seen this summary yet.'))
    if params is not None and not the_chief_minister(item, officer, chosen_post(officer, params)):
        raise Refused(_('Only the Chief Minister decides summaries: choose that post.'))


def _summary_pdf(item, officer):
    """The summary's PDF so far: the signed one, or a fresh rendering."""
    if item.pdf is not None:
        return signing.read_pdf(item.pdf)
    return official_pdf.render_summary(pdf_fields(item, officer.site))


def _sign_summary(item, officer, signer, reason, context):
    at = now()
    signed = signing.sign(_summary_pdf(item, officer), signer, reason, context)
    item.pdf = signing.store_pdf(signed)
    item.signatures = (*item.signatures, (officer.login, signer.name, signer.post, at))


def sign_summary(item, officer, params):
    """The holder (a Secretary, the Chief Secretary) signs the summary as it stands."""
    context = params.get('signing')
    signer = signing.unlock(officer, item.holder, context, params.get('pin'))
    _sign_summary(item, officer, signer, 'Seen and put up', context)
    touch(item)
    officer.actor.record('summary.signed', f'summary:{item.id}')


def decide(item, officer, params):
    """The Chief Minister's decision, signed: printed on the summary if nobody signed
    it before, else carried by the signature (a signed PDF cannot change)."""
    decision = check_choice(params.get('decision'), DECISIONS, 'decision')
    context = params.get('signing')
    # the PIN first: a wrong one changes nothing but its own count
    signer = signing.unlock(officer, item.holder, context, params.get('pin'))
    item.decision = decision
    item.decision_remarks = (params.get('remarks') or '').strip()[:5000]
    item.decided_at = now()
    item.decided_by = officer.login
    reason = f'Decision: {DECISION_TEXT[decision]}'
    if item.decision_remarks:
        reason += f'. {item.decision_remarks}'
    _sign_summary(item, officer, signer, reason[:500], context)
    touch(item)
    officer.actor.record('summary.decided', f'summary:{item.id}', decision=decision)
    if decision == FOR_CABINET:   # (a proposed agenda item for the Cabinet Wing)
        from ..cabinet import propose_item
        propose_item(officer, item)
    move(item, officer, 'decision', item.chain[0], item.decision_remarks, alert='decided')


def decide_guard(item, officer, params):
    holder(item, officer, params)
    if params is not None:
        check_choice(params.get('decision'), DECISIONS, 'decision')


def _move(action, alert='arrived'):
    def effect(item, officer, params):
        move(item, officer, action, params['to_post'], params.get('remarks', ''), alert=alert)
    return effect


def recall(item, officer, params):
    last = item.last_movement()
    move(item, officer, 'recall', last.from_post, params.get('remarks', ''), alert=None)
    # taking it back undoes the step it went up
    earlier = {'submit': 'draft', 'put_up': 'submitted'}.get(last.action)
    if earlier:
        change_state(item, officer, earlier)


def summary_words(item, site, params):
    """What the messages about a summary say of it (and of the decision about to be made)."""
    words = item_words(item, site, params)
    decision = item.decision or params.get('decision')
    words['decision'] = DECISION_TITLES.get(decision, '')
    return words


# the end of the journey: the decided summary back with the department ----------------
def decided_holder(item, officer, params):
    """The officer holds the decided summary (it came back to their post)."""
    acting_post(item, officer)


def may_implement(item, officer, params):
    """The holder's post may open files, and write their first note, in the department."""
    decided_holder(item, officer, params)
    if not _post_may(officer, item.holder, OPEN_FILE, item.department) \
            or not _post_may(officer, item.holder, WRITE_NOTE, item.department):
        raise Refused(_('Your post may not open files in this department.'), status=403)


def _file_away(item, officer, params, action, file_id=None):
    """Take the decided summary off its holder's desk into the department's records."""
    item.filed_at = put_away(item, officer, action, str(DEPARTMENT_RECORDS),
                             params.get('remarks', ''))
    details = {'post': item.holder}
    if file_id is not None:
        details['file'] = file_id
    officer.actor.record(f'summary.{action}', f'summary:{item.id}', **details)


def file_decided(item, officer, params):
    _file_away(item, officer, params, 'filed')


IMPLEMENTATION_SUBJECT = 'Implementation: {subject}'


def implementing_file(item, officer, params):
    """Open the file that carries out the decision, its first note citing it, and file
    the summary."""
    department = officer.site['departments'][item.department]
    subject = IMPLEMENTATION_SUBJECT.format(subject=item.subject)[:300]
    casefile = open_file(department, officer, subject, item.classification, item.priority,
                         post_id=item.holder)
    casefile.implements = item.id
    decided = item.decided_at.strftime('%d %b %Y') if item.decided_at else ''
    text = (f'Opened to implement summary {item.number} ("{item.subject}"), decided by the '
            f'Chief Minister on {decided}: {DECISION_TEXT.get(item.decision, item.decision)}.')
    if item.decision_remarks:
        text += f' Remarks: {item.decision_remarks}'
    write_note(casefile, officer, text[:20000])
    item.implementing_file = casefile.id
    _file_away(item, officer, params, 'implementing_file', file_id=casefile.id)


SUMMARY = check(Workflow(
    name='summary',
    states={'draft': _('being drafted'), 'submitted': _('under submission'),
            'with_cm': _('with the Chief Minister'), 'decided': _('decided'),
            'filed': _('decided and filed')},
    initial='draft',
    on_state=change_state,
    words=summary_words,
    transitions=(
        Transition('submit', _('put up to the Secretary'), ('draft',), 'submitted', FORWARD,
                   to_secretary, _move('submit'), needs=('to_post', 'remarks'), rank=20,
                   done=_('Summary ${number} put up to ${holder}.'), accepts=a_secretary),
        Transition('forward', _('forward'), ('submitted',), None, FORWARD, to_another_post,
                   _move('forward'), needs=('to_post', 'remarks'), rank=15, done=SENT,
                   accepts=another_post),
        Transition('put_up', _('put up to the Chief Minister'), ('submitted',), 'with_cm', APPROVE,
                   to_chief_minister, _move('put_up'), needs=('to_post', 'remarks'), rank=25,
                   done=_('Summary ${number} put up to the Chief Minister.'),
                   accepts=the_chief_minister),
        Transition('return', _('send back'), ('submitted', 'with_cm'), 'submitted', FORWARD,
                   has_sender, send_back, needs=('remarks',), rank=10, done=SENT_BACK),
        Transition('recall', _('recall'), ('submitted', 'with_cm'), None, FORWARD,
                   untouched_since_sent, recall, needs=('remarks',), rank=0, done=RECALLED),
        Transition('sign', _('sign'), ('submitted', 'with_cm'), None, SIGN, holder,
                   sign_summary, needs=('pin',), rank=5,
                   done=_('Summary ${number} signed.')),
        Transition('decide', _('decide and sign'), ('with_cm',), 'decided', DECIDE_SUMMARY,
                   decide_guard, decide, needs=('decision', 'remarks', 'pin'), rank=40,
                   done=_('Decision on ${number} recorded and signed: ${decision}. It is back '
                          'with ${holder}.'),
                   confirm=_('Record the decision “${decision}” on summary ${number} '
                             '“${subject}” and sign it? It goes back to the department at '
                             'once. This cannot be undone.'),
                   confirm_button=_('Yes, record and sign')),
        Transition('file_decided', _('Record the decision as received and file it'),
                   ('decided',), 'filed', FORWARD, decided_holder, file_decided,
                   needs=('remarks',), rank=30,
                   done=_('Summary ${number}: the decision is recorded as received and the '
                          'summary filed.')),
        Transition('open_implementing_file', _('Open the implementing file'), ('decided',),
                   'filed', OPEN_FILE, may_implement, implementing_file, needs=('remarks',),
                   rank=35, done=_('Summary ${number} filed; the file that implements it is '
                                   'opened.')),
    ),
))
