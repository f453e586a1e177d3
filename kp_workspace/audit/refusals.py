"""Entries that must be kept when the request's own transaction is not.

A refused request changes nothing: its transaction is aborted (an exception
view answered), or it commits nothing of its own.  Its refusal must still be
on record, and only once: a request that collides with another is run again
(pyramid_retry) with a new request object, and only the last run's answer
reaches the user.

So :func:`record_after` only notes the entry on the request object, and the
tween below, which wraps pyramid_tm, writes what the request noted in a
transaction of its own once the request's transaction has ended, and only
when this run's answer is the one sent (it is not about to be retried).  A run
that is retried drops its notes with its request object.  A conflict of the
small transaction itself is retried here, and a failed commit wrote nothing,
so nothing is written twice.
"""
import logging

import transaction
from pyramid_retry import is_error_retryable
from ZODB.POSException import ConflictError

from ..security.client import client_address
from . import ROOT_KEY, make_entry

log = logging.getLogger(__name__)
ATTEMPTS = 5
_NOTES = '_kpw_audit_after'


def record_after(request, action, target='', **details):
    """Put an entry on record after the request's transaction, whatever its fate.

    Who and from where are taken from ``request``; the time is now.
    """
    identity = request.identity
    entry = make_entry(identity.login if identity is not None else '',
                       client_address(request), action, target, details)
    request.__dict__.setdefault(_NOTES, []).append(entry)
    return entry


def write(registry, entries):
    """Append ``entries`` to the log in one transaction of their own.

    :returns: whether they were written (a log message says why not).
    """
    db = registry._zodb_databases['']
    for attempt in range(ATTEMPTS):
        tm = transaction.TransactionManager(explicit=True)
        conn = db.open(transaction_manager=tm)
        try:
            tm.begin().note('audit: refused requests')
            audit_log = conn.get_connection('audit').root()[ROOT_KEY]
            for entry in entries:
                audit_log.append(entry.copy())  # (a fresh copy on each attempt)
            tm.commit()
            return True
        except ConflictError:
            tm.abort()
            if attempt == ATTEMPTS - 1:
                log.error('could not record %d audit entries (%s ...): every attempt '
                          'conflicted', len(entries), entries[0].action)
        except Exception:  # (the answer is already made: it must not turn into a 500)
            tm.abort()
            log.exception('could not record %d audit entries (%s ...)', len(entries),
                          entries[0].action)
            return False
        finally:
            conn.close()
    return False


def tween_factory(handler, registry):
    def record_after_tween(request):
        try:
            response = handler(request)
        except Exception as exc:
            _flush(request, exc)
            raise
        _flush(request, getattr(request, 'exception', None))
        return response
    return record_after_tween


def _flush(request, exc):
    entries = request.__dict__.pop(_NOTES, None)
    if not entries:
        return
    if exc is not None and is_error_retryable(request, exc):
        return  # (this run is discarded and the request runs again)
    write(request.registry, entries)


def includeme(config):
    # Over pyramid_tm: the request's transaction has ended when the notes are written.
    config.add_tween('kp_workspace.audit.refusals.tween_factory',
                     over='pyramid_tm.tm_tween_factory')
