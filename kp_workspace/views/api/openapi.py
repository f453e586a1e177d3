"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of the API."""
from pyramid.view import view_config

from . import api_config

ERROR = {'$ref': '#/components/schemas/Error'}


def _errors(*codes):
    text = {400: 'Malformed request', 401: 'No valid bearer token, or wrong login',
            403: 'Not permitted', 404: 'Not found', 409: 'Conflicts with the current state',
            429: 'Too many failed attempts (sign-in or signing PIN): locked for a while'}
    return {str(c): {'description': text[c],
                     'content': {'application/json': {'schema': ERROR}}} for c in codes}


def _op(summary, ok='200', body=None, errors=(401, 403, 404, 409), params=()):
    op = {'summary': summary,
          'responses': {ok: {'description': 'OK', 'content': {'application/json': {}}},
                        **_errors(*errors)}}
    if body is not None:
        op['requestBody'] = {'required': True, 'content': {'application/json': {'schema': {
            'type': 'object', 'properties': {k: {'type': 'string'} for k in body}}}}}
    if params:
        op['parameters'] = [{'name': p, 'in': 'path', 'required': True,
                             'schema': {'type': 'string'}} for p in params]
    return op


def _pdf_op(summary):
    return {'summary': summary,
            'parameters': [{'name': 'id', 'in': 'path', 'required': True,
                            'schema': {'type': 'string'}}],
            'responses': {'200': {'description': 'A PDF',
                                  'content': {'application/pdf': {}}}, **_errors(401, 404)}}


FILE_WORK_PATHS = {
    '/api/v1/posts': {'get': _op('All posts: [{"id", "title", "department"}]')},
    '/api/v1/departments/{department_id}/files': {'post': _op(
        'Open a case file (201 {"id", "number", "state", "holder"})', '201',
        ('subject', 'classification', 'priority'), (400, 401, 403, 404), ('department_id',))},
    '/api/v1/departments/{department_id}/summaries': {'post': _op(
        'Draft a summary', '201', ('subject', 'background', 'proposal', 'decision_sought',
                                   'financial_implications', 'classification', 'priority'),
        (400, 401, 403, 404), ('department_id',))},
    '/api/v1/files/{id}': {'get': _op('A case file with notes, attachments, movements, drafts',
                                      params=('id',))},
    '/api/v1/files/{id}/notes': {'post': _op('Write a note as the holder (201 {"n"})', '201',
                                             ('text',), params=('id',))},
    '/api/v1/files/{id}/notes/{n}': {'patch': _op('Change your note until the file moves',
                                                  body=('text',), params=('id', 'n'))},
    '/api/v1/files/{id}/attachments': {'post': {
        'summary': 'Attach a file (multipart field "file", optional "title", "receipt")',
        'parameters': [{'name': 'id', 'in': 'path', 'required': True,
                        'schema': {'type': 'string'}}],
        'requestBody': {'required': True, 'content': {'multipart/form-data': {'schema': {
            'type': 'object', 'properties': {'file': {'type': 'string', 'format': 'binary'},
                                             'title': {'type': 'string'},
                                             'receipt': {'type': 'string'}}}}}},
        'responses': {'201': {'description': 'Attached'}, **_errors(400, 401, 404, 409)}}},
    '/api/v1/files/{id}/attachments/{att_id}': {'get': {
        'summary': 'The bytes of an attachment',
        'parameters': [{'name': n, 'in': 'path', 'required': True, 'schema': {'type': 'string'}}
                       for n in ('id', 'att_id')],
        'responses': {'200': {'description': 'The file'}, **_errors(401, 404)}}},
    '/api/v1/files/{id}/actions/{action}': {'post': _op(
        'forward {"to_post", "remarks"}, return, recall, close, reopen',
        body=('to_post', 'remarks'), params=('id', 'action'))},
    '/api/v1/files/{id}/drafts': {'post': _op('Draft a letter, memorandum, office order or '
                                              'notification', '201',
                                              ('kind', 'subject', 'body', 'addressees', 'copies'),
                                              params=('id',))},
    '/api/v1/drafts/{id}/actions/{action}': {'post': _op(
        'submit, approve, revise, sign {"pin"} (numbers, dates and signs the PDF; 403 for a '
        'wrong PIN, counted; 429 when locked), issue (a notification is published)',
        body=('pin',), params=('id', 'action'), errors=(400, 401, 403, 404, 409, 429))},
    '/api/v1/drafts/{id}/pdf': {'get': _pdf_op('The signed PDF, or a preview marked DRAFT')},
    '/api/v1/files/{id}/pdf': {'get': _pdf_op('The whole file as one PDF: noting sheet, '
                                              'movement register, correspondence, bookmarks')},
    '/api/v1/summaries/{id}/pdf': {'get': _pdf_op('The summary PDF (signed once signed)')},
    '/api/v1/verify': {'post': {
        'summary': 'Verify the signatures of a PDF (no sign-in): {"valid", "signatures": '
                   '[{"field", "signer", "signer_login", "signed_at", "timestamped", "intact", '
                   '"trusted", "revoked", "revoked_at", "changed_after", "changes", "valid"}]}',
        'security': [],
        'requestBody': {'required': True, 'content': {'multipart/form-data': {'schema': {
            'type': 'object', 'properties': {'file': {'type': 'string', 'format': 'binary'}}}}}},
        'responses': {'200': {'description': 'OK', 'content': {'application/json': {}}},
                      **_errors(400)}}},
    '/api/v1/summaries/{id}': {'get': _op('A summary', params=('id',))},
    '/api/v1/summaries/{id}/notes': {'post': _op('Comment on a summary as its holder', '201',
                                                 ('text',), params=('id',))},
    '/api/v1/summaries/{id}/actions/{action}': {'post': _op(
        'submit, forward, put_up, return, recall, sign {"pin"}, '
        'decide {"decision", "remarks", "pin"} (signed by the Chief Minister)',
        body=('to_post', 'remarks', 'decision', 'pin'), params=('id', 'action'),
        errors=(400, 401, 403, 404, 409, 429))},
    '/api/v1/inbox': {'get': {
        'summary': 'What your posts hold: {"items": [{"id", "kind", "number", "subject", '
                   '"priority", "received_at", "age_days", "overdue"}], "total", "more"}',
        'parameters': [{'name': n, 'in': 'query', 'required': False,
                        'schema': {'type': 'string'}} for n in ('view', 'offset', 'limit')],
        'responses': {'200': {'description': 'OK'}, **_errors(400, 401)}}},
    '/api/v1/alerts': {'get': _op('Your alerts: {"items": [...], "unread"}', errors=(401,))},
    '/api/v1/alerts/read': {'post': _op('Mark every alert as read', errors=(401,))},
    '/api/v1/search': {'get': {
        'summary': 'Search what you may open: {"items": [{"id", "kind", "title", "number", '
                   '"snippet", "url"}], "total", "page", "pages", "facets", '
                   '"index_lag_seconds"}. With a filter '
                   'the words may be left out: everything matching, newest first. '
                   '"from" and "to" (YYYY-MM-DD, UTC, inclusive) bound the last action. '
                   '"index_lag_seconds": how far the index is behind (0 when it has caught '
                   'up; changes normally appear within a second or two).',
        'parameters': [{'name': n, 'in': 'query', 'required': False,
                        'schema': {'type': 'string', **({'format': 'date'}
                                                        if n in ('from', 'to') else {})}}
                       for n in ('q', 'type', 'department', 'state', 'classification', 'from',
                                 'to', 'page', 'sort')],
        'responses': {'200': {'description': 'OK'}, **_errors(400, 401)}}},
}


def openapi_document(server_url):
    return {
        'openapi': '3.1.0',
        'info': {'title': 'KP Digital Workspace API', 'version': '1',
                 'description': 'JSON API for mobile and other clients. Authenticate with a '
                                'bearer token from POST /api/v1/auth/token.'},
        'servers': [{'url': server_url}],
        'components': {
            'securitySchemes': {'bearer': {'type': 'http', 'scheme': 'bearer'}},
            'schemas': {
                'Error': {'type': 'object', 'required': ['error'],
                          'properties': {'error': {'type': 'string'}}},
                'Post': {'type': 'object', 'required': ['id', 'title', 'department'],
                         'properties': {'id': {'type': 'string'}, 'title': {'type': 'string'},
                                        'department': {'type': 'string'},
                                        'department_title': {'type': 'string'}}},
            },
        },
        'security': [{'bearer': []}],
        'paths': {
            '/api/v1/auth/token': {
                'post': {
                    'summary': 'Issue a bearer token', 'security': [],
                    'requestBody': {'required': True, 'content': {'application/json': {'schema': {
                        'type': 'object', 'required': ['login', 'password'],
                        'properties': {'login': {'type': 'string'},
                                       'password': {'type': 'string'}}}}}},
                    'responses': {'201': {'description': 'A new token', 'content': {
                        'application/json': {'schema': {
                            'type': 'object', 'required': ['token', 'expires_at'],
                            'properties': {'token': {'type': 'string'},
                                           'expires_at': {'type': 'string',
                                                          'format': 'date-time'}}}}}},
                                  **_errors(400, 401, 429)},
                },
                'delete': {
                    'summary': 'Revoke the token sent with this request',
                    'responses': {'204': {'description': 'Revoked'}, **_errors(401)},
                },
            },
            '/api/v1/me': {
                'get': {
                    'summary': 'The signed-in user, their roles and posts',
                    'responses': {'200': {'description': 'The user', 'content': {
                        'application/json': {'schema': {
                            'type': 'object', 'required': ['login', 'name', 'roles', 'posts'],
                            'properties': {
                                'login': {'type': 'string'}, 'name': {'type': 'string'},
                                'roles': {'type': 'array', 'items': {'type': 'string'}},
                                'posts': {'type': 'array',
                                          'items': {'$ref': '#/components/schemas/Post'}}}}}}},
                        **_errors(401)},
                },
            },
            **FILE_WORK_PATHS,
            '/healthz': {
                'get': {'summary': 'Health check: {"status": "ok", "search": {"pending", '
                                   '"lag_seconds", "failed", "indexer"}} (changes waiting '
                                   'for the search indexer, the oldest for how long, items '
                                   'that could not be indexed, and whether this process '
                                   'indexes)', 'security': [],
                        'responses': {'200': {'description': 'The database opens'},
                                      '503': {'description': 'The database is unavailable'}}},
            },
        },
    }


@view_config(**api_config(route_name='api_openapi', request_method='GET'))
def openapi(request):
    return openapi_document(request.application_url)
