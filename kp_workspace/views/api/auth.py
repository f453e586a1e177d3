"""``/api/v1/auth/...``: bearer tokens (issue, revoke), a device's refresh, and devices
(the owner's, and any user's for administrators)."""
from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from ...audit import actor_from_request
from ...security.client import client_address
from ...security.roles import ACCOUNT, MANAGE_USERS
from ...security.signin import SignInRefused, sign_in
from ...security.tokens import RefreshReused
from ...site import get_site
from ...text_rules import check_name
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
    name = body.get('device')
    if name is not None:
        name = check_name(name, 'device', 100)   # (checked before anything is issued)
    site = get_site(request)
    settings = request.registry.kpw_settings
    key = request.registry.kpw_token_key
    device = refresh = None
    if name is not None:
        device, refresh = site.tokens.add_device(key, user, name, client_address(request),
                                                 settings.refresh_lifetime)
    token, record = site.tokens.issue(key, user, settings.token_lifetime,
                                      client_address(request), device=device)
    actor_from_request(request, login=user.login).record(
        'token.issued', user.principal, expires=record.expires.isoformat(),
        **({'device': device.id, 'device_name': device.name} if device else {}))
    request.response.status = 201
    request.response.headers['Cache-Control'] = 'no-store'
    return _token_json(token, record, device, refresh)


def _token_json(token, record, device=None, refresh=None):
    found = {'token': token, 'expires_at': record.expires.isoformat()}
    if device is not None:
        found.update(device_id=device.id, refresh_token=refresh,
                     refresh_expires_at=device.refresh_expires.isoformat())
    return found


REFRESH_REFUSED = 'This refresh token is not valid (unknown, expired, used or revoked): sign in again.'


@view_config(**api_config(route_name='api_token_refresh', request_method='POST'))
def refresh_token(request):
    """A device's refresh token for a new access token and a new refresh token; the one
    sent is spent.  Sent again, it revokes the device (401 both times)."""
    body = json_body(request)
    site = get_site(request)
    settings = request.registry.kpw_settings
    key = request.registry.kpw_token_key
    try:
        device, refresh = site.tokens.refresh(key, body.get('refresh_token'),
                                              settings.refresh_lifetime)
    except RefreshReused as reused:
        actor_from_request(request, login=reused.device.login).record(
            'device.revoked', f'user:{reused.device.login}', device=reused.device.id,
            reason='a spent refresh token was used again')
        return error_response(request, 401, REFRESH_REFUSED)   # (committed: the revocation)
    user = site['principals'].users.get(device.login) if device is not None else None
    if user is None or not user.active or user.epoch != device.epoch:
        request.tm.doom()
        return error_response(request, 401, REFRESH_REFUSED)
    token, record = site.tokens.issue(key, user, settings.token_lifetime,
                                      client_address(request), device=device)
    actor_from_request(request, login=user.login).record(
        'token.refreshed', user.principal, device=device.id)
    request.response.status = 201
    request.response.headers['Cache-Control'] = 'no-store'
    return _token_json(token, record, device, refresh)


def device_json(device, current=None):
    return {'id': device.id, 'name': device.name, 'created': device.created.isoformat(),
            'last_used': device.last_used.isoformat(), 'client': device.client,
            'current': device.id == current}


def _current_device(request):
    identity = request.identity
    record = get_site(request).tokens.lookup(request.registry.kpw_token_key, identity.token) \
        if identity is not None and identity.token else None
    return record.device if record is not None else None


@view_config(**api_config(route_name='api_devices', request_method='GET', permission=ACCOUNT))
def my_devices(request):
    tokens = get_site(request).tokens
    current = _current_device(request)
    return {'items': [device_json(d, current)
                      for d in tokens.devices_of(request.identity.user)]}


@view_config(**api_config(route_name='api_device', request_method='DELETE', permission=ACCOUNT))
def revoke_my_device(request):
    return _revoke(request, request.identity.login)


@view_config(**api_config(route_name='api_user_devices', request_method='GET',
                          permission=MANAGE_USERS))
def user_devices(request):
    user = get_site(request)['principals'].users.get(request.matchdict['login'])
    if user is None:
        raise HTTPNotFound()
    return {'items': [device_json(d) for d in get_site(request).tokens.devices_of(user)]}


@view_config(**api_config(route_name='api_user_device', request_method='DELETE',
                          permission=MANAGE_USERS))
def revoke_user_device(request):
    return _revoke(request, request.matchdict['login'])


def _revoke(request, login):
    get_site(request).tokens.sign_out_device(actor_from_request(request), login,
                                             request.matchdict['id'])
    return Response(status=204)


@view_config(**api_config(route_name='api_token', request_method='DELETE', permission=ACCOUNT))
def revoke_token(request):
    identity = request.identity
    tokens = get_site(request).tokens
    key = request.registry.kpw_token_key
    record = tokens.lookup(key, identity.token)
    device = tokens.device(record.device) if record is not None else None
    if device is not None:   # (signing out on a device ends its refresh too)
        tokens.revoke_device(device, identity.login)
    else:
        tokens.revoke(key, identity.token)
    actor_from_request(request).record('token.revoked', identity.user.principal,
                                       **({'device': device.id} if device else {}))
    return Response(status=204)
