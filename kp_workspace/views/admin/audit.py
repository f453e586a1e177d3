"""Paging through the audit log, newest first, or from a date back."""
import datetime

from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from ...audit import audit_log
from ...security.roles import VIEW_AUDIT
from ...errors import DomainError
from .. import params
from ..params import INT64, whole_number
from . import crumbs

_ = TranslationStringFactory('kp_workspace')
PAGE = 100


def _end_of(day):
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(),
                                     tzinfo=datetime.timezone.utc)


@view_config(route_name='admin_audit', permission=VIEW_AUDIT,
             renderer='kp_workspace:templates/admin/audit.pt')
def audit(request):
    log = audit_log(request)
    error = None
    day = request.params.get('until', '').strip()
    after = before_time = None
    try:
        after = whole_number(request, 'after', None, -INT64, INT64)
    except DomainError:
        error = _('That page link is not valid; showing the newest entries.')
        request.response.status = 400
    if after is None and error is None:
        try:
            until = params.day(request, 'until')
        except DomainError as err:
            error = err.message
            request.response.status = 400
        else:
            before_time = _end_of(until) if until is not None else None
    entries, cursor = log.page(after=after, before_time=before_time, limit=PAGE)
    return {
        'crumbs': crumbs(request),
        'total': len(log),
        'until': day,
        'error': request.localizer.translate(error) if error else None,
        'entries': [{'at': e.at.strftime('%Y-%m-%d %H:%M:%S UTC'), 'actor': e.actor or '—',
                     'action': e.action, 'target': e.target, 'client': e.client,
                     'details': e.details_text()} for e in entries],
        'next_url': request.route_url('admin_audit', _query={'after': cursor}) if cursor else None,
    }
