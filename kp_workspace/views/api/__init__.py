"""The JSON API under ``/api/v1``: bearer tokens only, JSON errors, no CSRF
(a cross-site page cannot set an Authorization header; see security/policy.py)."""
from pyramid.httpexceptions import HTTPBadRequest


def json_body(request):
    """The request's JSON object.  :raises HTTPBadRequest: when it is not a JSON object."""
    try:
        body = request.json_body
    except ValueError:
        raise HTTPBadRequest('The body must be a JSON object.')
    if not isinstance(body, dict):
        raise HTTPBadRequest('The body must be a JSON object.')
    return body


def api_config(**kw):
    """Arguments shared by every API view."""
    kw.setdefault('renderer', 'json')
    kw.setdefault('require_csrf', False)
    return kw
