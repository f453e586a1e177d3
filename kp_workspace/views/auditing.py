"""What the views put on record beyond the domain's own actions: the reading
of classified files and summaries, and refused attempts on objects that exist.

Refusals are recorded with :func:`kp_workspace.audit.refusals.record_after`,
so they are kept although the refused request's transaction is not, and once
however often the request is retried.  A 404 is recorded only when the object
exists and the user may not see it (the user is told it is not there; the
record says who tried): addresses that lead nowhere, as scanners try them, are
not recorded.
"""
import logging

from ..audit.refusals import record_after
from ..signing import WrongPin
from ..site import get_site
from .work import item_for, officer_for

log = logging.getLogger(__name__)
ROUTINE = 'routine'
REASONS = {403: 'forbidden', 404: 'not_visible', 409: 'conflict'}
MESSAGE_LIMIT = 300


def read_item(request, kind):
    """The file or summary of the request (as :func:`item_for`); reading one
    that is confidential or secret is recorded."""
    item = item_for(request, kind)
    if item.classification != ROUTINE:
        officer_for(request).actor.record(f'{item.kind}.viewed', f'{item.kind}:{item.id}',
                                          classification=item.classification)
    return item


def refused(request, err):
    """A refusal answered with a page (a form shown again), not raised: nothing the
    request wrote before the domain said no is kept -- but a wrong PIN's count, which
    must be -- and the attempt is on record (403 and 409; see :func:`record_refusal`).
    Sets the response's status; :returns: the message, translated."""
    if not isinstance(err, WrongPin):
        request.tm.doom()
    record_refusal(request, err.status, err)
    request.response.status = err.status
    return request.localizer.translate(err.message)


def record_refusal(request, status, exc=None, reason=None):
    """Record that ``request`` was refused with ``status`` (403, 404, 409, or
    ``reason='csrf'``), when it aimed at an object that exists.

    Never raises: a refusal must reach the user even if it cannot be recorded.
    """
    try:
        _record_refusal(request, status, exc, reason)
    except Exception:
        log.exception('could not note the refusal of %s %s', request.method, request.path)


def _record_refusal(request, status, exc, reason):
    if isinstance(exc, WrongPin):
        return  # (recorded as signing.wrong_pin, with the count it commits)
    reason = reason or REASONS.get(status)
    if reason is None or request.matched_route is None:
        return
    identity = request.identity
    item, target = _target(request)
    if reason == 'not_visible':
        # only an object that exists and that this user may not see
        if item is None or identity is None or officer_for(request).can_view(item):
            return
    elif identity is None and item is None:
        return  # (a signed-out form without its token: nobody's action on anything)
    message = str(exc)[:MESSAGE_LIMIT] if exc is not None else ''
    record_after(request, f'refused.{reason}', target, status=status,
                 attempt=request.matchdict.get('action') or request.matched_route.name,
                 method=request.method, path=request.path[:MESSAGE_LIMIT], message=message)


def _target(request):
    """``(item or None, target)``: the file or summary the request's address
    names, or another existing object, or the route."""
    matchdict = request.matchdict or {}
    route = request.matched_route.name
    site = get_site(request)
    if 'id' in matchdict:
        item_id = matchdict['id']
        if route.startswith('api_draft'):  # (drafts are addressed <file id>-<draft id>)
            item_id = item_id.partition('-')[0]
        item = site.desk.items.get(item_id)
        if item is not None:
            return item, f'{item.kind}:{item.id}'
    for key, kind, exists in (
            ('name', 'department', lambda v: v in site['departments']),
            ('department_id', 'department', lambda v: v in site['departments']),
            ('login', 'user', lambda v: site['principals'].users.get(v) is not None),
            ('post_id', 'post', lambda v: site['principals'].posts.get(v) is not None)):
        if key in matchdict and exists(matchdict[key]):
            return None, f'{kind}:{matchdict[key]}'
    return None, f'route:{route}'
