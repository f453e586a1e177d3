"""Follow-ups through the API: put a file up with another (and take it off), park it
awaiting a reply, take it back.  The same domain calls as the browser's
(:mod:`kp_workspace.followups`); each answers with the file as ``GET`` gives it."""
from pyramid.response import Response
from pyramid.view import view_config

from ... import followups
from ...security.roles import VIEW
from ..work import item_for, item_json, officer_for
from . import api_config, json_body


def _text(body, name):
    """``body[name]`` as given (the domain checks it: text, length, characters); absent: ''."""
    return body.get(name, '')


@view_config(**api_config(route_name='api_file_links', request_method='POST', permission=VIEW))
def link(request):
    item = item_for(request, 'file')
    body = json_body(request)
    followups.link(item, officer_for(request), _text(body, 'number'), _text(body, 'remark'))
    request.response.status = 201
    return item_json(request, item)


@view_config(**api_config(route_name='api_file_link', request_method='DELETE', permission=VIEW))
def unlink(request):
    followups.unlink(item_for(request, 'file'), officer_for(request),
                     request.matchdict['other'])
    return Response(status=204)


@view_config(**api_config(route_name='api_file_park', request_method='POST', permission=VIEW))
def park(request):
    item = item_for(request, 'file')
    body = json_body(request)
    followups.park(item, officer_for(request), _text(body, 'until'), _text(body, 'reason'))
    return item_json(request, item)


@view_config(**api_config(route_name='api_file_resume', request_method='POST', permission=VIEW))
def resume(request):
    item = item_for(request, 'file')
    followups.resume(item, officer_for(request))
    return item_json(request, item)
