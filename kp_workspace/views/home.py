"""The home page: who I am, my posts, where I can go."""
from pyramid.view import view_config

from ..security.roles import ROLES_BY_NAME, VIEW
from ..site import get_site
from .layout import admin_sections


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
        rows.append(PostRow(post.title, dept.title if dept else post.department,
                            role_titles(request, dept.roles_of(post.principal) if dept else ())))
    translate = request.localizer.translate
    return {
        'name': identity.user.name,
        'posts': rows,
        'global_roles': role_titles(request, identity.user.roles),
        'admin_sections': [(translate(title), request.route_url(route))
                           for route, title in admin_sections(request)],
    }
