"""Devices signed in as a user through the API (the Super-App on a phone), in the browser.

``/account/devices`` lists one's own; the administrator's user page lists any user's
(``admin/users.py``, with the helpers here).  Signing a device out cannot be undone, so
the POST asks first (:mod:`.confirm`); then it goes through the same domain call as the
API's ``DELETE`` (:meth:`~kp_workspace.security.tokens.TokenStore.sign_out_device`).
Pages show what the user named and when, never a token or its digest.
"""
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from ..audit import actor_from_request
from ..i18n import format_when, isolated
from ..security.roles import ACCOUNT
from ..site import get_site
from .confirm import ask, confirmed
from .layout import flash

_ = TranslationStringFactory('kp_workspace')

OWN_QUESTION = _('Sign out the device "${device}"? The Super-App on it stops working at once; '
                 'to use it there again, you sign in on it with your password. This cannot be '
                 'undone.')
USER_QUESTION = _('Sign out the device "${device}" of ${name} (${login})? The Super-App on it '
                  'stops working at once; to use it there again, they sign in on it with their '
                  'password. This cannot be undone.')


def device_rows(request, devices, sign_out_url):
    """What a page shows of ``devices``: ``[{'name', 'client', 'created', 'last_used',
    'sign_out_url'}]``, ``sign_out_url`` being a function of a device."""
    return [{'name': d.name, 'client': d.client,
             'created': format_when(request, d.created),
             'last_used': format_when(request, d.last_used),
             'sign_out_url': sign_out_url(d)} for d in devices]


def sign_out(request, user, back_url):
    """The POST that signs out ``user``'s device ``{id}``: the confirmation page first,
    then the device is signed out, the next page says so, and the browser goes back to
    ``back_url``.

    :raises NotFound: ``user`` has no such device signed in (another user's, or one
        signed out already), before anything is asked.
    """
    tokens = get_site(request).tokens
    device = tokens.device_of(user.login, request.matchdict['id'])
    # (right to left, the names are isolated: they are often in English)
    keep = isolated if request.locale_name == 'ur' else str
    if not confirmed(request):
        own = user.login == request.identity.login
        question = _(OWN_QUESTION if own else USER_QUESTION, mapping={
            'device': keep(device.name), 'name': keep(user.name), 'login': keep(user.login)})
        return ask(request, request.localizer.translate(question), _('Yes, sign it out'),
                   back_url)
    tokens.sign_out_device(actor_from_request(request), user.login, device.id)
    flash(request, _('The device "${device}" has been signed out.',
                     mapping={'device': keep(device.name)}))
    return HTTPSeeOther(back_url)


@view_config(route_name='account_devices', permission=ACCOUNT, request_method='GET',
             renderer='kp_workspace:templates/account_devices.pt')
def account_devices(request):
    user = request.identity.user
    return {'devices': device_rows(
        request, get_site(request).tokens.devices_of(user),
        lambda d: request.route_url('account_device_sign_out', id=d.id))}


@view_config(route_name='account_device_sign_out', permission=ACCOUNT, request_method='POST')
def account_device_sign_out(request):
    return sign_out(request, request.identity.user, request.route_url('account_devices'))
