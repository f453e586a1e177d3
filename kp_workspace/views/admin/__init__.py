"""Administration: users, groups, posts, departments, roles and the audit log.

Each page needs the matching ``manage_*`` permission on the site, which only
global roles grant.  None of these permissions opens a file.
"""
from pyramid.httpexceptions import HTTPForbidden
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from ...security.roles import VIEW
from ..layout import admin_sections

_ = TranslationStringFactory('kp_workspace')

PAGE_SIZE = 50


def crumbs(request, *extra):
    """Breadcrumbs from the administration index: ``[(title, url), ...]``."""
    translate = request.localizer.translate
    return [(translate(_('Administration')), request.route_url('admin'))] + [
        (translate(title), url) for title, url in extra]


@view_config(route_name='admin', permission=VIEW, renderer='kp_workspace:templates/admin/index.pt')
def admin_index(request):
    sections = admin_sections(request)
    if not sections:
        raise HTTPForbidden()
    translate = request.localizer.translate
    return {'sections': [(translate(title), request.route_url(route)) for route, title in sections]}
