"""The home page: who I am, my posts, where I can go."""
from pyramid.view import view_config

from pyramid.i18n import TranslationStringFactory

from ..i18n import display_title
from ..security.roles import APPROVE, DRAFT, OPEN_FILE, ROLES_BY_NAME, VIEW
from ..site import get_site
from .layout import admin_sections
from .work import officer_for

_ = TranslationStringFactory('kp_workspace')


class PostRow:
    def __init__(self, title, department, roles):
        self.title, self.department, self.roles = title, department, roles


def role_titles(request, names):
    translate = request.localizer.translate
    return ', '.join(translate(ROLES_BY_NAME[n].title) for n in names if n in ROLES_BY_NAME)


@view_config(route_name='home', permission=VIEW, renderer='kp_workspace:templates/home.pt')
def home(request):
    identity = request.identity
    site = get_site(request)
    principals, departments = site['principals'], site['departments']
    rows = []
    for post_id in identity.user.post_ids:
        post = principals.posts.get(post_id)
        if post is None:
            continue
        dept = departments.get(post.department)
        rows.append(PostRow(display_title(post, request), display_title(dept, request) if dept else post.department,
                            role_titles(request, dept.roles_of(post.principal) if dept else ())))
    translate = request.localizer.translate
    officer = officer_for(request)
    work = []
    for name, dept in departments.items():
        links = []
        if officer.posts_with(OPEN_FILE, name):
            links.append((translate(_('Open a new file')),
                          request.route_url('department_new_file', name=name)))
        if officer.posts_with(DRAFT, name):
            links.append((translate(_('Draft a summary')),
                          request.route_url('department_new_summary', name=name)))
        if officer.may_in_department(APPROVE, name):
            links.append((translate(_('Dashboard')), request.route_url('department', name=name)))
        if links:
            work.append((display_title(dept, request), links))
    return {
        'work': work,
        'name': identity.user.name,
        'posts': rows,
        'global_roles': role_titles(request, identity.user.roles),
        'admin_sections': [(translate(title), request.route_url(route))
                           for route, title in admin_sections(request)],
    }
