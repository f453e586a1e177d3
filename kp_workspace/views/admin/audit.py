"""Paging through the audit log, newest first, or from a date back."""
import datetime

from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from ...audit import audit_log
from ...security.roles import VIEW_AUDIT
from . import crumbs

_ = TranslationStringFactory('kp_workspace')
PAGE = 100


def _parse_date(text):
    try:
        day = datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(),
                                     tzinfo=datetime.timezone.utc)


@view_config(route_name='admin_audit', permission=VIEW_AUDIT,
             renderer='kp_workspace:templates/admin/audit.pt')
def audit(request):
    log = audit_log(request)
    error = None
    after = request.params.get('after')
    day = request.params.get('until', '').strip()
    before_time = None
    if after is not None:
        try:
            after = int(after)
        except ValueError:
            after, error = None, _('That page link is not valid; showing the newest entries.')
    elif day:
        before_time = _parse_date(day)
        if before_time is None:
            error = _('Give the date as YYYY-MM-DD.')
            request.response.status = 400
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
