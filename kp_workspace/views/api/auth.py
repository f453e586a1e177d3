"""``/api/v1/auth/token``: issue (POST) and revoke (DELETE) bearer tokens."""
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.view import view_config

from ...audit import actor_from_request
from ...security.client import client_address
from ...security.roles import VIEW
from ...security.signin import SignInRefused, sign_in
from ...site import get_site
from ..auth import MUST_CHANGE_API
from ..errors import error_response
from . import api_config, json_body


@view_config(**api_config(route_name='api_token', request_method='POST'))
def issue_token(request):
    body = json_body(request)
    login, password = body.get('login'), body.get('password')
    if not isinstance(login, str) or not isinstance(password, str):
        raise HTTPBadRequest('Send {"login": "...", "password": "..."} as strings.')
    try:
        user = sign_in(request, login, password, 'api')
    except SignInRefused as refused:
        response = error_response(request, refused.status, refused.message)
        if refused.retry_after:
            response.headers['Retry-After'] = str(refused.retry_after)
        return response
    if user.must_change_password:
        return error_response(request, 403, MUST_CHANGE_API)
    site = get_site(request)
    settings = request.registry.kpw_settings
    token, record = site.tokens.issue(request.registry.kpw_token_key, user,
                                      settings.token_lifetime, client_address(request))
    actor_from_request(request, login=user.login).record(
        'token.issued', user.principal, expires=record.expires.isoformat())
    request.response.status = 201
    request.response.headers['Cache-Control'] = 'no-store'
    return {'token': token, 'expires_at': record.expires.isoformat()}


@view_config(**api_config(route_name='api_token', request_method='DELETE', permission=VIEW))
def revoke_token(request):
    identity = request.identity
    get_site(request).tokens.revoke(request.registry.kpw_token_key, identity.token)
    actor_from_request(request).record('token.revoked', identity.user.principal)
    return Response(status=204)
