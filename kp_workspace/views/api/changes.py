"""``GET /api/v1/alerts/changes``: what is new in your alerts since you last asked, so an
app stays current without polling hard.

``since`` is the ``cursor`` an earlier answer gave (none: the newest 50 alerts and a
cursor to start from).  ``wait`` (seconds, up to :data:`MAX_WAIT`) makes it a long poll:
when nothing is new, the answer waits until an alert arrives or the time is up, reading
the database afresh every second.  A waiting request holds one of the server's threads,
so at most :data:`MAX_WAITERS` wait at once in a process; past them the answer comes at
once (as with ``wait=0``), and the app simply asks again.  With its ETag, an unchanged
answer to a repeated question is a 304.
"""
import re
import threading
import time

from pyramid.view import view_config

from ...alerts import EMPTY
from ...errors import DomainError
from ...security.policy import identity_afresh
from ...security.roles import VIEW
from ..errors import error_response
from ..work import officer_for
from . import api_config

MAX_WAIT = 25
MAX_WAITERS = 2
POLL = 1.0
_waiters = threading.BoundedSemaphore(MAX_WAITERS)
SIGNED_OUT = 'Signed out while waiting: sign in again.'
BAD_CURSOR = ('"since" must be a cursor from an earlier answer (an app that kept one from '
              'an older release, or from before a restore, starts again without it).')


def _cursor(request):
    raw = request.params.get('since', '')
    if raw == '':
        return None
    if not re.fullmatch(r'[0-9]{1,18}', raw):
        raise DomainError(BAD_CURSOR, field='since')
    return int(raw)


def _wait(request):
    raw = request.params.get('wait', '0')
    if not re.fullmatch(r'[0-9]{1,2}', raw) or int(raw) > MAX_WAIT:
        raise DomainError(f'"wait" must be a whole number of seconds from 0 to {MAX_WAIT}.',
                          field='wait')
    return int(raw)


def _changes(request, cursor):
    officer = officer_for(request)
    box = officer.site.alerts.box(officer.login)
    if cursor is not None and cursor > (box.last_number if box is not None else EMPTY):
        # not one this box gave (a database restored from a backup is behind the app)
        raise DomainError(BAD_CURSOR, field='since')
    if box is None:
        return [], EMPTY if cursor is None else cursor, False
    return box.since(cursor)


@view_config(**api_config(route_name='api_alert_changes', request_method='GET',
                          permission=VIEW))
def alert_changes(request):
    cursor, wait = _cursor(request), _wait(request)
    found, newest, more = _changes(request, cursor)
    if not found and cursor is not None and wait and _waiters.acquire(blocking=False):
        try:
            until = time.monotonic() + wait
            while not found and time.monotonic() < until:
                time.sleep(POLL)
                request.tm.abort()   # (a new transaction sees what others committed)
                request.tm.begin()
                if identity_afresh(request) is None:   # (signed out while waiting)
                    return error_response(request, 401, SIGNED_OUT)
                found, newest, more = _changes(request, cursor)
        finally:
            _waiters.release()
    return {'items': [{'at': a.at.isoformat(), 'kind': a.kind, 'text': a.text,
                       'item_id': a.item_id, 'unread': unread} for a, unread in found],
            'cursor': str(newest), 'more': more}
