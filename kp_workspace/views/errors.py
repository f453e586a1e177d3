"""Error responses: a clear message and the right status, never a traceback.

Requests under ``/api/`` get JSON ``{"error": "..."}``; browser requests get a
page.  A signed-out browser asking for a protected page is sent to the login
page instead of a 403.
"""
import logging
import random
from time import sleep

from pyramid.csrf import BadCSRFToken
from pyramid.events import subscriber
from pyramid.httpexceptions import HTTPError, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import IBeforeRetry, is_last_attempt
from ZODB.POSException import ConflictError

from .. import audit
from ..errors import DomainError
from ..security.policy import is_api
from .auditing import record_refusal

_ = TranslationStringFactory('kp_workspace')
log = logging.getLogger(__name__)

TITLES = {
    400: _('The request could not be understood'),
    401: _('Please sign in'),
    403: _('Not allowed'),
    404: _('Not found'),
    405: _('Not allowed here'),
    409: _('That cannot be done now'),
    410: _('No longer here'),
    413: _('Too large'),
    429: _('Too many attempts'),
    503: _('Busy'),
}


NOT_FOUND_PAGE = _('We could not find that page. It may have moved, or the address may be '
                   'mistyped; files you may not open look the same as missing ones.')


def way_on(request):
    """``[(label, url)]``: where a lost browser user can go from an error page."""
    if request.identity is None:
        return [(_('Sign in'), request.route_url('login'))]
    links = [(_('Home'), request.route_url('home'))]
    if request.identity.user.post_ids:  # (as in the main navigation: an inbox is a post's)
        links.append((_('Inbox'), request.route_url('inbox')))
    return links + [(_('Search'), request.route_url('search'))]


def error_response(request, status, message):
    """A JSON error for the API, or an error page for the browser.

    Every 404 page says the same plain words, whatever was missing or hidden
    (a file one may not open answers as a missing one), with the ways on.
    """
    translate = request.localizer.translate
    message = translate(message)
    if is_api(request):
        response = request.response
        response.status = status
        response.content_type = 'application/json'
        response.json_body = {'error': message}
        return response
    values = {'title': translate(TITLES.get(status, _('Something went wrong'))),
              'message': message, 'links': None}
    if status == 404:
        values.update(title=translate(_('Page not found')), message=translate(NOT_FOUND_PAGE),
                      links=[(translate(label), url) for label, url in way_on(request)])
    response = render_to_response('kp_workspace:templates/error.pt', values, request=request)
    response.status = status
    return response


@forbidden_view_config()
def forbidden(exc, request):
    if request.identity is None:
        if is_api(request):
            response = error_response(request, 401, _('Sign in first: send a valid bearer token.'))
            response.headers['WWW-Authenticate'] = 'Bearer'
            return response
        return HTTPSeeOther(request.route_url('login', _query={'came_from': request.path_qs}))
    record_refusal(request, 403, exc)
    return error_response(request, 403, _('You do not have permission to do that.'))


@notfound_view_config()
def notfound(exc, request):
    record_refusal(request, 404, exc)
    return error_response(request, 404, _('There is nothing at this address, or you may not see it.'))


@exception_view_config(BadCSRFToken)
def bad_csrf(exc, request):
    record_refusal(request, 400, exc, reason='csrf')
    return error_response(request, 400, _('This form has expired or did not come from this site. '
                                          'Go back, reload the page and try again.'))


@exception_view_config(DomainError)
def domain_error(exc, request):
    record_refusal(request, exc.status, exc)
    return error_response(request, exc.status, exc.message)


@exception_view_config(HTTPError)
def http_error(exc, request):
    if isinstance(exc, (HTTPForbidden, HTTPNotFound)):  # pragma: no cover - handled above
        raise exc
    return error_response(request, exc.code, exc.detail or exc.explanation or exc.title)


RETRY_PAUSE = 0.01  # seconds: the most a first retry waits; each later one up to twice as long


@subscriber(IBeforeRetry)
def before_retry(event):
    """Say which object collided (so that a hot spot can be found), then wait a
    random moment: requests that collided and were retried at once would
    collide again, in step."""
    request = event.request
    log.info('retrying %s %s after a conflict: %s', request.method, request.path,
             event.exception)
    audit.conflicted(event.exception)
    sleep(random.uniform(0, RETRY_PAUSE * 2 ** request.environ.get('retry.attempt', 0)))


@exception_view_config(ConflictError)
def conflict(exc, request):
    # The answer of the last attempt only (earlier ones are retried): nothing was saved.
    if is_last_attempt(request):
        log.warning('%s %s refused: every attempt conflicted (%s)', request.method,
                    request.path, exc)
    return error_response(request, 503, _('The workspace is busy and nothing was saved. '
                                          'Please try again.'))


@exception_view_config(Exception)
def server_error(exc, request):
    log.exception('unhandled error on %s %s', request.method, request.path_qs)
    if is_api(request):
        return error_response(request, 500, _('An internal error occurred; it has been logged.'))
    response = render_to_response('kp_workspace:templates/error500.pt', {}, request=request)
    response.status = 500
    return response
