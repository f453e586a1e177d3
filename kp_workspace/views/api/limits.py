"""The API's manners toward many clients: per-token rate limits and CORS.

**Rate limits.**  ``kp_workspace.api_rate_per_minute`` requests a minute per bearer
token (0, the default in development: no limit; ``production.ini`` sets 600).  Over it,
``429`` with ``Retry-After`` (seconds to the next minute) and the usual JSON error, before
the request touches the database.  Counted in this process's memory by a digest of the
token (never the token), in fixed one-minute windows: each process of a deployment counts
its own share, which is a bound, not an exact figure.

**CORS.**  ``kp_workspace.cors_origins`` lists the web origins (``https://app.example``)
whose pages may call the API from a browser (none by default).  For those, responses
carry ``Access-Control-Allow-Origin`` and the ``ETag`` and ``Retry-After`` headers are
exposed; a preflight ``OPTIONS`` is answered 204.  Cookies are never allowed: the API
takes bearer tokens only.
"""
import hashlib
import math
import threading
import time

from pyramid.i18n import TranslationStringFactory
from pyramid.response import Response

_ = TranslationStringFactory('kp_workspace')
API = '/api/'
WINDOW = 60
TOO_MANY = _('Too many requests with this token: wait ${seconds} seconds and try again.')


class RateCounter:
    """Requests per key in fixed windows of :data:`WINDOW` seconds (thread-safe)."""

    def __init__(self, limit, clock=time.monotonic):
        self.limit, self.clock = limit, clock
        self._counts = {}
        self._window = None
        self._lock = threading.Lock()

    def take(self, key):
        """Count one request for ``key``.  :returns: 0 if it may go on, else the seconds
        until it may."""
        now = self.clock()
        window = math.floor(now / WINDOW)
        with self._lock:
            if window != self._window:   # (a new minute: the old counts are forgotten)
                self._window, self._counts = window, {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count <= self.limit:
            return 0
        return max(1, math.ceil((window + 1) * WINDOW - now))


def _path(request):
    """The path as the server gave it (``request.path`` decodes it as UTF-8, and these
    tweens run before the check that answers 400 to a path that is not)."""
    return request.environ.get('PATH_INFO', '')


def _bearer(request):
    header = request.headers.get('Authorization', '')
    scheme, _sep, token = header.partition(' ')
    return token.strip() if scheme.lower() == 'bearer' and token.strip() else None


def rate_limit_tween_factory(handler, registry):
    limit = registry.kpw_settings.api_rate_per_minute
    if not limit:
        return handler
    counter = RateCounter(limit)

    def rate_limit_tween(request):
        token = _bearer(request) if _path(request).startswith(API) else None
        if token is not None:
            wait = counter.take(hashlib.sha256(token.encode('utf-8', 'replace')).digest())
            if wait:
                from ..errors import error_response
                response = error_response(request, 429,
                                          _(TOO_MANY, mapping={'seconds': wait}))
                response.headers['Retry-After'] = str(wait)
                return response
        return handler(request)
    return rate_limit_tween


ALLOWED_HEADERS = 'Authorization, Content-Type, If-None-Match'
EXPOSED_HEADERS = 'ETag, Retry-After'


def cors_tween_factory(handler, registry):
    origins = frozenset(registry.kpw_settings.cors_origins)
    if not origins:
        return handler

    def cors_tween(request):
        origin = request.headers.get('Origin')
        if origin not in origins or not _path(request).startswith(API):
            return handler(request)
        if request.method == 'OPTIONS' and 'Access-Control-Request-Method' in request.headers:
            response = Response(status=204)
            response.headers.update({
                'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE',
                'Access-Control-Allow-Headers': ALLOWED_HEADERS,
                'Access-Control-Max-Age': '600'})
        else:
            response = handler(request)
            response.headers['Access-Control-Expose-Headers'] = EXPOSED_HEADERS
        response.headers['Access-Control-Allow-Origin'] = origin
        response.vary = tuple(dict.fromkeys((*(response.vary or ()), 'Origin')))
        return response
    return cors_tween


def includeme(config):
    # under the security headers (their answers get those headers too), over everything
    # that opens the database
    # (CORS outside the rate limit: a 429 to a listed origin's page carries CORS headers)
    headers = 'kp_workspace.security.headers.security_headers_tween_factory'
    cors = 'kp_workspace.views.api.limits.cors_tween_factory'
    config.add_tween(cors, under=headers)
    config.add_tween('kp_workspace.views.api.limits.rate_limit_tween_factory', under=cors)
