"""Views: thin class views over the domain, for the browser and the JSON API.

Routes are declared here, in one list, so the URL surface can be read in one
place; the views themselves are found by ``config.scan``.
"""

ROUTES = (
    ('home', '/'),
    ('login', '/login'),
    ('logout', '/logout'),
    ('account_password', '/account/password'),
    ('set_language', '/language/{code}'),
    ('healthz', '/healthz'),
    ('admin', '/admin'),
    ('admin_users', '/admin/users'),
    ('admin_user_add', '/admin/users/+add'),
    ('admin_user', '/admin/users/{login}'),
    ('admin_user_password', '/admin/users/{login}/password'),
    ('admin_groups', '/admin/groups'),
    ('admin_posts', '/admin/posts'),
    ('admin_post_add', '/admin/posts/+add'),
    ('admin_post', '/admin/posts/{post_id}'),
    ('admin_departments', '/admin/departments'),
    ('admin_department_add', '/admin/departments/+add'),
    ('admin_department', '/admin/departments/{name}'),
    ('admin_roles', '/admin/roles'),
    ('admin_audit', '/admin/audit'),
    ('api_token', '/api/v1/auth/token'),
    ('api_me', '/api/v1/me'),
    ('api_openapi', '/api/v1/openapi.json'),
)


def includeme(config):
    config.add_static_view('static', 'kp_workspace:static', cache_max_age=3600)
    for name, pattern in ROUTES:
        config.add_route(name, pattern)
    config.include('.layout')
    config.scan('.')
