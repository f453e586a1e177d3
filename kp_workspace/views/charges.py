"""Acting charges in the browser (``/charges``) and the API (``/api/v1/charges``).

The rules are in :mod:`kp_workspace.security.charges`; these views read forms and
show the charges the user may see.
"""
from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from ..errors import DomainError
from ..i18n import display_title, format_when
from ..security.charges import (approve_charge, charges_of, give_charge, may_approve,
                                may_manage, may_revoke, revoke_charge, visible_to)
from ..security.roles import VIEW
from .api import api_config, json_body
from .auditing import refused
from .confirm import ask, confirmed
from .layout import flash
from .work import officer_for

_ = TranslationStringFactory('kp_workspace')

STATUS_TITLES = {'requested': _('waiting for approval'), 'due': _('approved, not begun'),
                 'in_force': _('in force'), 'ended': _('ended'), 'revoked': _('revoked')}
ACTIONS = {'approve': approve_charge, 'revoke': revoke_charge}


def _visible(officer):
    """The charges the user may see, newest first."""
    charges = charges_of(officer.site)
    if may_manage(officer):
        return charges.newest()
    found = {c.id: c for c in charges.of_user(officer.login)}
    for post_id in officer.user.post_ids:
        found.update((c.id, c) for c in charges.of_post(post_id))
    # an approver's department's charges (the newest thousand of the province's)
    found.update((c.id, c) for c in charges.newest(1000) if may_approve(officer, c))
    return sorted(found.values(), key=lambda c: c.given_at, reverse=True)


def _charge_and_action(request, officer):
    """The charge the address names (404 when it may not be seen, as when there is none)
    and the step on it it names (approve, revoke; 404 for any other)."""
    charge = charges_of(officer.site).get(request.matchdict['id'])
    action = ACTIONS.get(request.matchdict['action'])
    if charge is None or not visible_to(officer, charge) or action is None:
        raise HTTPNotFound()
    return charge, action


def charge_json(site, charge):
    post = site['principals'].posts.get(charge.post_id)
    user = site['principals'].users.get(charge.login)
    return {'id': charge.id, 'post': charge.post_id,
            'post_title': post.title if post is not None else charge.post_id,
            'login': charge.login, 'name': user.name if user is not None else charge.login,
            'start': charge.start.isoformat(), 'end': charge.end.isoformat(),
            'reason': charge.reason, 'state': charge.state, 'status': charge.status(),
            'given_by': charge.given_by, 'approved_by': charge.approved_by,
            'revoked_by': charge.revoked_by}


def _row(request, officer, charge):
    translate = request.localizer.translate
    site = officer.site
    post = site['principals'].posts.get(charge.post_id)
    data = charge_json(site, charge)
    data.update(
        post_title=display_title(post, request) if post is not None else charge.post_id,
        status_title=translate(STATUS_TITLES[charge.status()]),
        days=f'{format_when(request, charge.start)} – {format_when(request, charge.end)}',
        may_approve=charge.state == 'requested' and may_approve(officer, charge),
        may_revoke=charge.status() in ('requested', 'due', 'in_force')
        and may_revoke(officer, charge),
        approve_url=request.route_url('charge_action', id=charge.id, action='approve'),
        revoke_url=request.route_url('charge_action', id=charge.id, action='revoke'))
    return data


def _page(request, error=None, values=None):
    officer = officer_for(request)
    site = officer.site
    posts = site['principals'].posts
    if may_manage(officer):
        choices = [(p.post_id, display_title(p, request)) for p in posts.values()]
    else:
        choices = [(p, display_title(posts[p], request)) for p in officer.user.post_ids
                   if p in posts]
    return {
        'title': request.localizer.translate(_('Acting charge')),
        'error': error, 'values': values or {},
        'acting': [_row(request, officer, c) for c in charges_of(site).of_user(officer.login)
                   if c.in_force()],
        'charges': [_row(request, officer, c) for c in _visible(officer)],
        'post_choices': choices, 'admin': may_manage(officer),
    }


@view_config(route_name='charges', permission=VIEW, renderer='kp_workspace:templates/charges.pt')
def charges_page(request):
    if request.method != 'POST':
        return _page(request)
    values = {k: v for k, v in request.POST.items() if isinstance(v, str)}
    officer = officer_for(request)
    try:
        charge = give_charge(officer, values.get('post', ''), values.get('login', '').strip(),
                             values.get('start', ''), values.get('end', ''),
                             values.get('reason', ''))
    except DomainError as err:
        request.response.status = err.status
        return _page(request, refused(request, err), values)
    flash(request, _('Charge given: in force from ${start}.', mapping={
        'start': charge.start.isoformat()}) if charge.state == 'approved'
        else _('Charge asked for: it is in force once an approver of the department approves '
               'it.'))
    return HTTPSeeOther(request.route_url('charges'))


@view_config(route_name='charge_action', permission=VIEW, request_method='POST')
def charge_action(request):
    officer = officer_for(request)
    charge, action = _charge_and_action(request, officer)
    if action is revoke_charge and not confirmed(request):
        user = officer.site['principals'].users.get(charge.login)
        post = officer.site['principals'].posts.get(charge.post_id)
        return ask(request, request.localizer.translate(_(
            'End the charge of ${post} held by ${name} now? They will no longer act for the '
            'post; this cannot be undone (a new charge can be given).',
            mapping={'post': display_title(post, request) if post else charge.post_id,
                     'name': user.name if user else charge.login})),
            _('Yes, end the charge'), request.route_url('charges'))
    try:
        action(officer, charge)
    except DomainError as err:
        request.response.status = err.status
        return _render(request, refused(request, err))
    flash(request, _('Charge approved.') if action is approve_charge else _('Charge ended.'))
    return HTTPSeeOther(request.route_url('charges'))


def _render(request, error):
    return render_to_response('kp_workspace:templates/charges.pt', _page(request, error),
                              request=request, response=request.response)


# the API --------------------------------------------------------------------------------
@view_config(**api_config(route_name='api_charges', request_method='GET', permission=VIEW))
def api_charges(request):
    officer = officer_for(request)
    return {'items': [charge_json(officer.site, c) for c in _visible(officer)],
            'acting': list(officer.acting_post_ids)}


@view_config(**api_config(route_name='api_charges', request_method='POST', permission=VIEW))
def api_give(request):
    body = json_body(request)
    for name in ('post', 'login', 'start', 'end', 'reason'):
        if not isinstance(body.get(name, ''), str):
            raise HTTPBadRequest(f'"{name}" must be a string.')
    officer = officer_for(request)
    charge = give_charge(officer, body.get('post', ''), body.get('login', ''),
                         body.get('start', ''), body.get('end', ''), body.get('reason', ''))
    request.response.status = 201
    return charge_json(officer.site, charge)


@view_config(**api_config(route_name='api_charge_action', request_method='POST',
                          permission=VIEW))
def api_charge_action(request):
    officer = officer_for(request)
    charge, action = _charge_and_action(request, officer)
    action(officer, charge)
    return charge_json(officer.site, charge)
