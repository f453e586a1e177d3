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
    ('favicon', '/favicon.ico'),  # (browsers ask for it by themselves)
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
    ('api_posts', '/api/v1/posts'),
    ('api_department_files', '/api/v1/departments/{department_id}/files'),
    ('api_department_summaries', '/api/v1/departments/{department_id}/summaries'),
    ('api_file', '/api/v1/files/{id}'),
    ('api_file_notes', '/api/v1/files/{id}/notes'),
    ('api_file_note', '/api/v1/files/{id}/notes/{n}'),
    ('api_file_attachments', '/api/v1/files/{id}/attachments'),
    ('api_file_attachment', '/api/v1/files/{id}/attachments/{att_id}'),
    ('api_file_action', '/api/v1/files/{id}/actions/{action}'),
    ('api_file_drafts', '/api/v1/files/{id}/drafts'),
    ('api_file_links', '/api/v1/files/{id}/links'),
    ('api_file_link', '/api/v1/files/{id}/links/{other}'),
    ('api_file_park', '/api/v1/files/{id}/park'),
    ('api_file_resume', '/api/v1/files/{id}/resume'),
    ('api_draft_action', '/api/v1/drafts/{id}/actions/{action}'),
    ('api_summary', '/api/v1/summaries/{id}'),
    ('api_summary_notes', '/api/v1/summaries/{id}/notes'),
    ('api_summary_action', '/api/v1/summaries/{id}/actions/{action}'),
    ('api_inbox', '/api/v1/inbox'),
    ('api_alerts', '/api/v1/alerts'),
    ('api_alerts_read', '/api/v1/alerts/read'),
    ('api_search', '/api/v1/search'),
    ('api_draft_pdf', '/api/v1/drafts/{id}/pdf'),
    ('api_summary_pdf', '/api/v1/summaries/{id}/pdf'),
    ('api_file_pdf', '/api/v1/files/{id}/pdf'),
    ('api_verify', '/api/v1/verify'),
    # public: no sign-in
    ('verify', '/verify'),
    ('ca_pem', '/ca.pem'),
    ('public_notifications', '/public/notifications'),
    ('public_notification_pdf', '/public/notifications/{id}.pdf'),
    ('account_signing', '/account/signing'),
    ('admin_signing', '/admin/signing'),
    ('search', '/search'),
    # browser: file work
    ('inbox', '/inbox'),
    ('sent', '/sent'),
    ('pending', '/pending'),
    ('overdue', '/overdue'),
    ('parked', '/parked'),
    ('alerts', '/alerts'),
    ('department', '/departments/{name}'),
    ('department_new_file', '/departments/{name}/files/new'),
    ('department_files', '/departments/{name}/files'),
    ('department_new_summary', '/departments/{name}/summaries/new'),
    ('file', '/files/{id}'),
    ('file_notes', '/files/{id}/notes'),
    ('file_note_edit', '/files/{id}/notes/{n}/edit'),
    ('file_attachments', '/files/{id}/attachments'),
    ('file_attachment', '/files/{id}/attachments/{att_id}'),
    ('file_attachment_inline', '/files/{id}/attachments/{att_id}/inline'),
    ('file_action', '/files/{id}/actions/{action}'),
    ('file_drafts', '/files/{id}/drafts'),
    ('file_draft_action', '/files/{id}/drafts/{draft}/actions/{action}'),
    ('file_draft_pdf', '/files/{id}/drafts/{draft}/pdf'),
    ('file_links', '/files/{id}/links'),
    ('file_link_remove', '/files/{id}/links/{other}/remove'),
    ('file_park', '/files/{id}/park'),
    ('file_resume', '/files/{id}/resume'),
    ('file_pdf', '/files/{id}/pdf'),
    ('summary', '/summaries/{id}'),
    ('summary_notes', '/summaries/{id}/notes'),
    ('summary_action', '/summaries/{id}/actions/{action}'),
    ('summary_pdf', '/summaries/{id}/pdf'),
)


def includeme(config):
    # the package's fonts (OFL; also used by the PDFs) as web fonts, under /static/fonts/
    # (added first: the /static/ view would otherwise take the address)
    config.add_static_view('static/fonts', 'kp_workspace:fonts', cache_max_age=86400)
    config.add_static_view('static', 'kp_workspace:static', cache_max_age=3600)
    for name, pattern in ROUTES:
        config.add_route(name, pattern)
    config.include('.forms')  # deform renders in the request's language
    config.include('.layout')
    config.include('.rendering')  # pages and JSON that stored text cannot break
    config.scan('.')
