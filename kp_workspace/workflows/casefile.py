"""The life of a case file, as data: open <-> closed, moving between posts while open."""
from pyramid.i18n import TranslationStringFactory

from ..content_types.movable import (change_state, check_change, move, now, put_away,
                                      touch)
from ..errors import DomainError
from ..recordroom import check_class, file_closed, file_reopened
from ..security.roles import FORWARD, OPEN_FILE
from . import PostName, Refused, Transition, Workflow, check

_ = TranslationStringFactory('kp_workspace')
# where a closed file is: stored as its English text in the movement register (as post
# titles are), translated where it is shown
RECORD_ROOM = _('Record room')
# where a decided summary goes when the department has taken note of it
DEPARTMENT_RECORDS = _('Department records')
PLACES = {str(RECORD_ROOM): RECORD_ROOM, str(DEPARTMENT_RECORDS): DEPARTMENT_RECORDS}


# guards ------------------------------------------------------------------------------
def holder(item, officer, params):
    """The officer holds ``item`` and it is not closed or decided (the shared guard)."""
    check_change(item, officer)


def needs_post(item, officer, params):
    holder(item, officer, params)
    if params is not None and not params.get('to_post'):
        raise Refused(_('Choose the post to send it to.'), status=400)


def chosen_post(officer, params):
    """The post ``params['to_post']`` names.  :raises DomainError: (400) there is none."""
    post = officer.site['principals'].posts.get(params['to_post'])
    if post is None:
        raise DomainError(_('There is no post "${post}".', mapping={'post': params['to_post']}),
                          field='to_post', status=400)
    return post


def another_post(item, officer, post):
    """Any post but the one that holds it now (a vacant one too: it waits there)."""
    return post.post_id != item.holder


def to_another_post(item, officer, params):
    needs_post(item, officer, params)
    if params is not None:
        post = chosen_post(officer, params)
        if not another_post(item, officer, post):
            raise Refused(_('It is already with ${post}.', mapping={'post': post.title}))


def has_sender(item, officer, params):
    holder(item, officer, params)
    if item.previous_sender() is None:
        raise Refused(_('There is nobody to send it back to: it has not been sent to you.'))


def untouched_since_sent(item, officer, params):
    """The officer sent it (from a post they hold) and nobody has acted on it since."""
    last = item.last_movement()
    if last is None or last.action not in ('forward', 'return', 'submit', 'put_up') \
            or not officer.holds(last.from_post) or item.holder != last.to_post:
        raise Refused(_('You can recall only a file you sent, while it is still where you sent it.'))
    if officer.holds(item.holder):
        raise Refused(_('It is with you already.'))
    if item.activity != last.activity:
        raise Refused(_('It cannot be recalled: ${post} has already acted on it.',
                        mapping={'post': last.to_title}))


# draft states that wait for an approver, a signer, or (signed) to be issued
AWAITING = ('pending', 'approved', 'signed')


def closable(item, officer, params):
    """The holder closes a file only when none of its drafts awaits approval, signature or
    issue (a signed document must go out, or be sent back, first).

    (Checked when closing, not when listing what may be done: the button stays, and
    pressing it says which drafts are in the way.)
    """
    holder(item, officer, params)
    if params is None:
        return
    params['record_class'] = check_class(params.get('record_class'))
    waiting = [d for d in item.drafts.values() if d.state in AWAITING]
    named = '; '.join(f'{d.id} "{d.subject[:80]}"' for d in waiting)
    if waiting:
        raise Refused(_('${number} cannot be closed: these drafts still await approval, '
                        'signature or issue: ${drafts}. Approve, sign and issue them, or send '
                        'them back for changes, first.',
                        mapping={'number': item.number, 'drafts': named}))


def may_reopen(item, officer, params):
    if not officer.posts_with(OPEN_FILE, item.department):
        raise Refused(_('You hold no post that may open files in this department.'), status=403)


# effects -----------------------------------------------------------------------------
def forward(item, officer, params):
    move(item, officer, 'forward', params['to_post'], params.get('remarks', ''))


def send_back(item, officer, params):
    move(item, officer, 'return', item.previous_sender(), params.get('remarks', ''),
         alert='returned')


def recall(item, officer, params):
    last = item.last_movement()
    move(item, officer, 'recall', last.from_post, params.get('remarks', ''), alert=None)


def close(item, officer, params):
    item.closed_at = put_away(item, officer, 'close', str(RECORD_ROOM), params.get('remarks', ''))
    item.freeze_notes()
    file_closed(officer.site, item, params['record_class'])
    officer.actor.record('file.close', f'file:{item.id}', post=item.holder,
                         record_class=item.record_class)


def reopen(item, officer, params):
    site = officer.site
    post = officer.posts_with(OPEN_FILE, item.department)[0]
    file_reopened(site, item)
    at = now()
    item.holder = post.post_id
    item.received_at = at.timestamp()
    if post.post_id not in item.chain:
        item.chain = item.chain + (post.post_id,)
    site.desk.place(item, post.post_id, item.received_at)
    # what was written before it was closed stays as it was, even by its authors
    item.freeze_notes()
    touch(item)
    item.add_movement(at, 'reopen', '', str(RECORD_ROOM), post.post_id, post.title,
                      params.get('remarks', ''), officer)
    officer.actor.record('file.reopen', f'file:{item.id}', post=post.post_id)


def item_words(item, site, params):
    """What the messages about a file or summary say of it."""
    return {'number': item.number, 'subject': item.subject,
            'holder': PostName.of(site, item.holder)}


# messages shared with the summary's workflow
SENT = _('${number} sent to ${holder}.')
SENT_BACK = _('${number} sent back to ${holder}.')
RECALLED = _('${number} recalled: it is with ${holder} again.')

CASEFILE = check(Workflow(
    name='casefile',
    states={'open': _('open'), 'closed': _('closed (in the record room)')},
    initial='open',
    on_state=change_state,
    words=item_words,
    transitions=(
        Transition('forward', _('forward'), ('open',), None, FORWARD, to_another_post, forward,
                   needs=('to_post', 'remarks'), rank=20, done=SENT, accepts=another_post),
        Transition('return', _('send back'), ('open',), None, FORWARD, has_sender, send_back,
                   needs=('remarks',), rank=10, done=SENT_BACK),
        Transition('recall', _('recall'), ('open',), None, FORWARD, untouched_since_sent, recall,
                   needs=('remarks',), rank=0, done=RECALLED),
        Transition('close', _('close'), ('open',), 'closed', FORWARD, closable, close,
                   needs=('remarks', 'record_class'), rank=-10,
                   done=_('${number} closed and sent to the record room.'),
                   confirm=_('Close ${number} “${subject}” and send it to the record room? '
                             'Its noting sheet is frozen for good: nobody can add to it or '
                             'move the file until it is reopened.'),
                   confirm_button=_('Yes, close the file')),
        Transition('reopen', _('reopen'), ('closed',), 'open', OPEN_FILE, may_reopen, reopen,
                   needs=('remarks',), rank=5,
                   done=_('${number} reopened: it is with ${holder}.')),
    ),
))
