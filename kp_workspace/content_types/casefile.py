"""CaseFile: the noting sheet, correspondence, drafts and movement register of one matter."""
import colander
import deform
from pyramid.i18n import TranslationStringFactory

from ..container import Folder
from ..security.roles import OPEN_FILE
from ..workflows import Refused
from .movable import CLASSIFICATIONS, PRIORITIES, Movable, create, nothing_here

_ = TranslationStringFactory('kp_workspace')

CLASSIFICATION_TITLES = {'routine': _('Routine'), 'confidential': _('Confidential'),
                         'secret': _('Secret')}
PRIORITY_TITLES = {'routine': _('Routine'), 'urgent': _('Urgent'), 'immediate': _('Immediate')}


class CaseFile(Movable):
    type_name = 'CaseFile'
    kind = 'file'
    final_states = ('closed',)   # until it is reopened
    implements = None            # id of the decided summary this file carries out
    record_class = None          # A, B or C once closed (kp_workspace.recordroom)
    held_since = None            # under a legal hold since (the hold is the record room's)
    closed_at = None

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.state = 'open'
        for name in ('attachments', 'drafts'):
            folder = Folder()
            folder.__parent__, folder.__name__ = self, name
            setattr(self, name, folder)


def classification_node():
    """A new classification field (nodes are created in place so forms keep their order)."""
    return colander.SchemaNode(
        colander.String(), title=_('Classification'), default='routine',
        widget=deform.widget.SelectWidget(values=list(CLASSIFICATION_TITLES.items())),
        validator=colander.OneOf(CLASSIFICATIONS))


def priority_node():
    return colander.SchemaNode(
        colander.String(), title=_('Priority'), default='routine',
        widget=deform.widget.SelectWidget(values=list(PRIORITY_TITLES.items())),
        validator=colander.OneOf(PRIORITIES))


class CaseFileSchema(colander.Schema):
    subject = colander.SchemaNode(colander.String(), title=_('Subject'),
                                  validator=colander.Length(min=3, max=300))
    classification = classification_node()
    priority = priority_node()


def opening_post(officer, department, post_id=None):
    """The post ``officer`` opens files through in ``department``.  :raises Refused:"""
    posts = officer.posts_with(OPEN_FILE, department)
    if post_id:
        posts = [p for p in posts if p.post_id == post_id]
    if not posts:
        raise Refused(_('You hold no post that may open files in this department.'), status=403)
    return posts[0]


def open_file(department, officer, subject, classification='routine', priority='routine',
              post_id=None, at=None):
    """Open a new case file in ``department`` held by the officer's post there.

    The number is ``CODE/YEAR/NNNN``, unique: numbers come from a counter per
    department and year whose concurrent use conflicts and is retried.
    """
    post = opening_post(officer, department.__name__, post_id)
    return create(CaseFile, department, officer, post, '{code}/{year}/{serial:04d}', 'file',
                  subject, classification, priority, at=at)


def find_item(site, officer, item_id, kind=None):
    """The file or summary ``item_id`` if ``officer`` may see it.

    :raises DomainError: 404 both when it does not exist and when it may not be
        seen, so its existence is not revealed; 410 to the department's record room
        when it was destroyed under a weeding list (its tombstone says when).
    """
    item = site.desk.items.get(item_id or '')
    if item is None and kind in (None, 'file'):
        from ..recordroom import gone
        gone(site, officer, item_id)
    if item is None or (kind and item.kind != kind) or not officer.can_view(item):
        raise nothing_here()
    return item
