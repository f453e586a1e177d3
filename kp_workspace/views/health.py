"""``GET /healthz``: 200 when the database opens, 503 when it does not."""
import logging

from pyramid.view import view_config
from pyramid_zodbconn import get_connection

from ..site import ROOT_KEY

log = logging.getLogger(__name__)


@view_config(route_name='healthz', request_method='GET', renderer='json')
def healthz(request):
    try:
        ready = ROOT_KEY in get_connection(request).root()
        get_connection(request, 'audit').root()
    except Exception:  # the point of this view is to say so instead of failing
        log.exception('health check: database unavailable')
        ready = False
    if not ready:
        request.response.status = 503
        return {'status': 'unavailable'}
    return {'status': 'ok'}
