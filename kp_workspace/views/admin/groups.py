"""Administration of groups: a list and a form to create one."""
import colander
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from ...audit import actor_from_request
from ...security.roles import MANAGE_USERS
from ...site import get_site
from ..forms import CSRFSchema, run_form
from . import crumbs

_ = TranslationStringFactory('kp_workspace')


class GroupSchema(CSRFSchema):
    group_id = colander.SchemaNode(colander.String(), title=_('Identifier'),
                                   description=_('Lower-case, e.g. budget-committee'))
    title = colander.SchemaNode(colander.String(), title=_('Name'),
                                validator=colander.Length(min=2, max=120))


@view_config(route_name='admin_groups', permission=MANAGE_USERS,
             renderer='kp_workspace:templates/admin/groups.pt')
def groups(request):
    principals = get_site(request)['principals']

    def save(data):
        group = principals.add_group(actor_from_request(request), data['group_id'], data['title'])
        return _('Group ${title} created.', mapping={'title': group.title})

    result = run_form(request, GroupSchema(), save, buttons=(_('Create group'),))
    if isinstance(result, dict):
        result.update(crumbs=crumbs(request),
                      rows=[(g.group_id, g.title) for g in principals.groups.values()])
    return result
