"""The role x permission table, as administrators see it, and who holds global roles."""
from pyramid.view import view_config

from ...security.roles import MANAGE_ROLES, PERMISSION_TITLES, ROLES, table
from . import crumbs


@view_config(route_name='admin_roles', permission=MANAGE_ROLES,
             renderer='kp_workspace:templates/admin/roles.pt')
def roles(request):
    translate = request.localizer.translate
    return {
        'crumbs': crumbs(request),
        'roles': [(r.name, translate(r.title), translate(r.description)) for r in ROLES],
        'rows': [(translate(PERMISSION_TITLES[perm]), [cells[r.name] for r in ROLES])
                 for perm, _title, cells in table()],
    }
