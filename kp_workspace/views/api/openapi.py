"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of the API."""
from pyramid.view import view_config

from . import api_config

ERROR = {'$ref': '#/components/schemas/Error'}


def _errors(*codes):
    text = {400: 'Malformed request', 401: 'No valid bearer token, or wrong login',
            403: 'Not permitted', 404: 'Not found', 409: 'Conflicts with the current state',
            429: 'Too many failed sign-ins for this login'}
    return {str(c): {'description': text[c],
                     'content': {'application/json': {'schema': ERROR}}} for c in codes}


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
            '/healthz': {
                'get': {'summary': 'Health check', 'security': [],
                        'responses': {'200': {'description': 'The database opens'},
                                      '503': {'description': 'The database is unavailable'}}},
            },
        },
    }


@view_config(**api_config(route_name='api_openapi', request_method='GET'))
def openapi(request):
    return openapi_document(request.application_url)
