"""``GET /api/v1/me``: who the token belongs to, their roles and posts."""
from pyramid.view import view_config

from ...security.roles import ACCOUNT
from ...security.principals import effective_roles
from ...site import get_site
from . import api_config


def post_json(post, departments):
    dept = departments.get(post.department)
    return {'id': post.post_id, 'title': post.title, 'department': post.department,
            'department_title': dept.title if dept else ''}


@view_config(**api_config(route_name='api_me', request_method='GET', permission=ACCOUNT))
def me(request):
    user = request.identity.user
    site = get_site(request)
    posts, departments = site['principals'].posts, site['departments']
    return {
        'login': user.login,
        'name': user.name,
        'roles': effective_roles(user, departments),
        'posts': [post_json(posts[p], departments) for p in user.post_ids if p in posts],
    }
