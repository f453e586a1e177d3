"""``GET /healthz``: 200 when the databases open, 503 when they do not.

Also says how fresh the search index is: ``search.pending`` changes wait for the
indexer, the oldest for ``search.lag_seconds``; ``search.indexer`` is
``this process`` when this process indexes, else ``elsewhere`` (another process
holds the indexer's lock, or none runs: a lag that keeps growing says which);
``search.failed`` items could not be indexed (``kpw reindex --check`` says why).
``ocr.waiting``: scans waiting to be read, or being read (their text is then indexed).
"""
import logging

from pyramid.view import view_config
from pyramid_zodbconn import get_connection

from ..site import ROOT_KEY

log = logging.getLogger(__name__)


@view_config(route_name='healthz', request_method='GET', renderer='json')
def healthz(request):
    try:
        site = get_connection(request).root().get(ROOT_KEY)
        get_connection(request, 'audit').root()
        queue = getattr(site, 'index_queue', None)  # (None before evolve step 6)
        scans = getattr(site, 'ocr_queue', None)    # (None before evolve step 22)
        ocr = {'waiting': len(scans) if scans is not None else 0}
        search = None if queue is None else {
            'pending': len(queue), 'lag_seconds': round(queue.lag(), 3),
            'failed': queue.failure_count(),
            'indexer': 'this process' if request.registry.kpw_indexer.active else 'elsewhere'}
    except Exception:  # the point of this view is to say so instead of failing
        log.exception('health check: database unavailable')
        site = None
    if site is None:
        request.response.status = 503
        return {'status': 'unavailable'}
    return {'status': 'ok', 'search': search, 'ocr': ocr}
