"""The life of a receipt (a letter in the dak), as data: with the diary -> marked to an
officer -> put into a file (a new one or one they hold); or sent back to the diary."""
from pyramid.i18n import TranslationStringFactory

from ..content_types.casefile import open_file
from ..content_types.movable import change_state, move
from ..content_types.receipt import put_in_file
from ..errors import DomainError
from ..security.roles import ATTACH, FORWARD, OPEN_FILE, REGISTER_RECEIPT, permissions_of
from . import PostName, Refused, Transition, Workflow, check
from .casefile import SENT, another_post, holder, needs_post, chosen_post

_ = TranslationStringFactory('kp_workspace')


def in_its_department(item, officer, post):
    """A post of the receipt's own department, other than the one holding it (a letter
    for another department goes back to the diary, which sends it on outside)."""
    return post.department == item.department and another_post(item, officer, post)


def to_a_post_here(item, officer, params):
    needs_post(item, officer, params)
    if params is not None:
        post = chosen_post(officer, params)
        if post.post_id == item.holder:
            raise Refused(_('It is already with ${post}.', mapping={'post': post.title}))
        if not in_its_department(item, officer, post):
            raise Refused(_('A receipt is marked to a post of its own department. If it '
                            'belongs elsewhere, send it back to the diary saying so.'))


def with_reasons(item, officer, params):
    holder(item, officer, params)
    if params is not None and not (params.get('remarks') or '').strip():
        raise Refused(_('Say why it goes back to the diary (for example, which department '
                        'it belongs to).'), status=400)


def the_file(officer, params):
    """The file ``params['file']`` names (an id), if the officer may see it.
    :raises DomainError: none named (400), or none they may see (404)."""
    item_id = params.get('file')
    if not item_id:
        raise DomainError(_('Choose the file to put it in.'), field='file', status=400)
    item = officer.site.desk.items.get(item_id)
    if item is None or item.kind != 'file' or not officer.can_view(item):
        raise DomainError(_('There is no such file, or you may not see it.'), field='file',
                          status=404)
    return item


def into_a_held_file(item, officer, params):
    holder(item, officer, params)
    if params is not None:
        casefile = the_file(officer, params)
        if casefile.is_final() or not officer.holds(casefile.holder):
            raise Refused(_('Put it into an open file that is with you: ${file} is not.',
                            mapping={'file': casefile.number}))
        if not officer.may(ATTACH, casefile):
            raise Refused(_('Your role does not let you attach correspondence.'), status=403)


def may_open_file_here(item, officer, params):
    holder(item, officer, params)
    if OPEN_FILE not in permissions_of(officer.post_roles(item.holder)) or \
            officer.site['principals'].posts[item.holder].department != item.department:
        raise Refused(_('Your post may not open files in this department.'), status=403)


# effects -----------------------------------------------------------------------------
def mark(item, officer, params):
    move(item, officer, 'mark', params['to_post'], params.get('remarks', ''), alert='receipt')


def forward(item, officer, params):
    move(item, officer, 'forward', params['to_post'], params.get('remarks', ''),
         alert='receipt')


def back_to_diary(item, officer, params):
    move(item, officer, 'return', item.diary_post, params['remarks'], alert='returned')


def into_file(item, officer, params):
    put_in_file(item, officer, the_file(officer, params))


def new_file(item, officer, params):
    department = officer.site['departments'][item.department]
    subject = (params.get('subject') or '').strip() or item.subject
    casefile = open_file(department, officer, subject, item.classification, item.priority,
                         post_id=item.holder)
    put_in_file(item, officer, casefile)


def receipt_words(item, site, params):
    words = {'number': item.number, 'subject': item.subject,
             'holder': PostName.of(site, item.holder), 'file': ''}
    file_id = item.file_id or (params or {}).get('file')
    found = site.desk.items.get(file_id) if file_id else None
    if found is not None:
        words['file'] = found.number
    return words


RECEIPT = check(Workflow(
    name='receipt',
    states={'diary': _('with the diary'), 'marked': _('marked to an officer'),
            'in_file': _('put in a file')},
    initial='diary',
    on_state=change_state,
    words=receipt_words,
    transitions=(
        Transition('mark', _('mark to an officer'), ('diary',), 'marked', REGISTER_RECEIPT,
                   to_a_post_here, mark, needs=('to_post', 'remarks'), rank=20,
                   done=_('${number} marked to ${holder}.'), accepts=in_its_department),
        Transition('open_file', _('open a new file on it'), ('marked',), 'in_file', OPEN_FILE,
                   may_open_file_here, new_file, needs=('subject',), rank=25,
                   done=_('File ${file} opened on receipt ${number}.')),
        Transition('file', _('put in a file'), ('marked',), 'in_file', ATTACH,
                   into_a_held_file, into_file, needs=('file',), rank=15,
                   done=_('${number} put into file ${file}.'),
                   confirm=_('Put receipt ${number} “${subject}” into file ${file}? It becomes '
                             'correspondence of that file, and leaves your Receipts for good.'),
                   confirm_button=_('Yes, put it in the file')),
        Transition('forward', _('mark on'), ('marked',), None, FORWARD, to_a_post_here,
                   forward, needs=('to_post', 'remarks'), rank=5, done=SENT,
                   accepts=in_its_department),
        Transition('return', _('send back to the diary'), ('marked',), 'diary', FORWARD,
                   with_reasons, back_to_diary, needs=('remarks',), rank=0,
                   done=_('${number} sent back to the diary.')),
    ),
))
