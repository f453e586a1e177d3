"""The implementation pages and API: thin views over :mod:`kp_workspace.implementation`.

Browser: ``/implementation`` (the cabinet decisions the user's departments are to
implement, overdue marked; a dashboard viewer may ask for any department's),
``/implementation/dashboard`` (the Chief Secretary's and the Chief Minister's),
an item's page with its reports and the report form, and a report's attachments.
API: ``GET /api/v1/implementation`` and ``POST /api/v1/implementation/{id}/reports``.
Reading any of the lists runs :func:`~kp_workspace.implementation.alert_overdue`.
"""
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.view import view_config
from pyramid_retry import is_last_attempt

from .. import charts
from ..errors import DomainError
from ..i18n import display_title, format_when
from ..security.roles import VIEW
from ..site import get_site
from ..views.api import api_config, json_body
from ..views.auditing import refused
from ..views.layout import flash
from ..views.params import offset_and_limit
from ..views.work import document_response, iso, officer_for
from . import (AGE_BANDS, OPEN, REPORTED, STATUS_TITLES, STATUSES, alert_overdue,
               dashboard_counts, departments_reporting, find_item, implementation_book,
               may_report, may_see_dashboard, report, today)

_ = TranslationStringFactory('kp_workspace')
SHOWN = 50          # items of each group on the list page
OVERDUE_SHOWN = 100  # overdue items named on the dashboard
AGE_TITLES = {(0, 30): _('Up to a month'), (31, 90): _('1 to 3 months'),
              (91, 180): _('3 to 6 months'), (181, None): _('Over 6 months')}


def check_overdue(request):
    """Raise the overdue alerts due now (a write only when an item became overdue since
    the last check; on the last retry of a conflict the page is drawn without)."""
    if is_last_attempt(request):
        return
    officer = officer_for(request)
    alert_overdue(officer.site, officer.actor, mailer=officer.mailer)


def _book(request, officer):
    """The registers, the overdue alerts due now raised (404 before evolve step 24)."""
    book = implementation_book(officer.site)
    if book is None:
        raise HTTPNotFound()
    check_overdue(request)
    return book


def glance(request):
    """What the home page shows of the implementation (None: nothing for this user):
    the open items of the user's departments, due soonest first, and the links."""
    officer = officer_for(request)
    book = implementation_book(officer.site)
    if book is None:
        return None
    viewer = may_see_dashboard(officer)
    departments = [d for d in departments_reporting(officer) if book.listed_count(d)]
    if not departments and not viewer:
        return None
    check_overdue(request)
    on = today()
    items = []
    for dept in departments:
        items.extend(book.listed(dept, OPEN, limit=5))
    items.sort(key=lambda i: (i.due, i.id))
    return {'rows': [_row(request, officer, i, on) for i in items[:5]],
            'open': sum(book.listed_count(d, OPEN) for d in departments),
            'overdue': sum(book.overdue_count(d, on) for d in departments),
            'url': request.route_url('implementation'),
            'dashboard_url': request.route_url('implementation_dashboard') if viewer else None}


def _dept_title(request, name):
    dept = get_site(request)['departments'].get(name)
    return display_title(dept, request) if dept is not None else name


def _row(request, officer, item, on):
    translate = request.localizer.translate
    return {'id': item.id, 'number': item.number, 'subject': item.subject,
            'url': request.route_url('implementation_item', id=item.id),
            'department': _dept_title(request, item.department),
            'due': format_when(request, item.due, time=False),
            'status': translate(STATUS_TITLES[item.status]), 'status_name': item.status,
            'overdue': item.is_overdue(on)}


# --- JSON -------------------------------------------------------------------------------------

def report_json(item, r):
    return {'n': r.n, 'status': r.status, 'note': r.note, 'reasons': r.reasons,
            'by': r.by, 'by_name': r.by_name, 'post': r.post_id, 'at': iso(r.at),
            'acting': r.acting,
            'attachments': [{'id': a.id, 'title': a.title, 'content_type': a.content_type,
                             'size': a.size}
                            for a in (item.attachments[i] for i in r.attachments)]}


def item_json(officer, item, on=None):
    on = on or today()
    return {'id': item.id, 'source_id': item.source_id, 'department': item.department,
            'meeting_title': item.meeting_title, 'meeting_date': item.meeting_date.isoformat(),
            'item_number': item.item_number, 'subject': item.subject,
            'decision_text': item.decision_text, 'due': item.due.isoformat(),
            'status': item.status, 'overdue': item.is_overdue(on),
            'assigned_at': iso(item.assigned_at),
            'may_report': not item.is_final() and may_report(officer, item.department),
            'reports': [report_json(item, r) for r in item.report_list()]}


# --- the list -----------------------------------------------------------------------------------

def _visible_departments(request, officer, book):
    """The departments whose lists the user may read: those they report for; every
    department with items for a dashboard viewer."""
    found = set(departments_reporting(officer))
    if may_see_dashboard(officer):
        found |= set(book.departments())
    return sorted(found)


def _status_param(request):
    status = request.params.get('status')
    if status is None:
        return STATUSES
    if status not in STATUSES:
        raise DomainError(_('"status" is one of: ${statuses}.',
                            mapping={'statuses': ', '.join(STATUSES)}), field='status')
    return (status,)


@view_config(route_name='implementation', permission=VIEW,
             renderer='kp_workspace:implementation/templates/list.pt')
def list_page(request):
    officer = officer_for(request)
    book = _book(request, officer)
    on = today()
    visible = _visible_departments(request, officer, book)
    asked = request.params.get('department')
    if asked is not None:
        if asked not in visible:
            raise HTTPNotFound()
        shown = [asked]
    else:
        shown = [d for d in departments_reporting(officer) if book.listed_count(d)]
    translate = request.localizer.translate
    groups = (('open', _('To implement'), OPEN), ('not_possible', _('Reported not possible'),
                                                  ('not_possible',)),
              ('implemented', _('Implemented'), ('implemented',)))
    departments = []
    for dept in shown:
        sections = []
        for key, title, statuses in groups:
            items = book.listed(dept, statuses, limit=SHOWN)
            sections.append({'key': key, 'title': translate(title),
                             'rows': [_row(request, officer, i, on) for i in items],
                             'more': max(book.listed_count(dept, statuses) - len(items), 0)})
        departments.append({'name': dept, 'title': _dept_title(request, dept),
                            'overdue': book.overdue_count(dept, on), 'sections': sections})
    return {'departments': departments,
            'dashboard_url': request.route_url('implementation_dashboard')
            if may_see_dashboard(officer) else None}


@view_config(**api_config(route_name='api_implementation', request_method='GET',
                          permission=VIEW))
def api_list(request):
    officer = officer_for(request)
    book = _book(request, officer)
    offset, limit = offset_and_limit(request)
    statuses = _status_param(request)
    visible = _visible_departments(request, officer, book)
    asked = request.params.get('department')
    if asked is not None:
        visible = [asked] if asked in visible else []
    on = today()
    found, skipped, more = [], 0, False
    for dept in visible:
        total = book.listed_count(dept, statuses)
        if skipped + total <= offset:
            skipped += total
            continue
        for item in book.listed(dept, statuses, limit=offset - skipped + limit + 1):
            if skipped < offset:
                skipped += 1
                continue
            if len(found) == limit:
                more = True
                break
            found.append(item)
        if more:
            break
    return {'items': [item_json(officer, i, on) for i in found], 'more': more}


# --- an item ------------------------------------------------------------------------------------

def _item(request):
    officer = officer_for(request)
    return find_item(officer.site, officer, request.matchdict['id'])


def _item_data(request, item, error=None, values=None):
    officer = officer_for(request)
    translate = request.localizer.translate
    on = today()
    values = values or {}
    reports = []
    for r in reversed(item.report_list()):
        reports.append({
            'n': r.n, 'status': translate(STATUS_TITLES[r.status]), 'status_name': r.status,
            'note': r.note, 'reasons': r.reasons, 'by': r.by_name,
            'at': format_when(request, r.at),
            'post': display_title(officer.site['principals'].posts[r.post_id], request)
            if r.post_id in officer.site['principals'].posts else (r.post_id or ''),
            'acting': r.acting,
            'attachments': [{'title': a.title, 'size': a.size,
                             'url': request.route_url('implementation_attachment', id=item.id,
                                                      att_id=a.id)}
                            for a in (item.attachments[i] for i in r.attachments)]})
    return {
        'title': translate(_('Cabinet decision: ${number}', mapping={'number': item.number})),
        'item': item, 'error': error, 'reports': reports,
        'department': _dept_title(request, item.department),
        'meeting_date': format_when(request, item.meeting_date, time=False),
        'due': format_when(request, item.due, time=False),
        'assigned': format_when(request, item.assigned_at),
        'status': translate(STATUS_TITLES[item.status]),
        'overdue': item.is_overdue(on),
        'may_report': not item.is_final() and may_report(officer, item.department),
        'statuses': [(s, translate(STATUS_TITLES[s])) for s in REPORTED],
        'values': {'status': values.get('status', ''), 'note': values.get('note', ''),
                   'reasons': values.get('reasons', '')},
        'limit_mb': request.registry.kpw_settings.upload_limit >> 20,
        'list_url': request.route_url('implementation', _query={'department': item.department}),
        'report_url': request.route_url('implementation_reports', id=item.id),
    }


@view_config(route_name='implementation_item', permission=VIEW,
             renderer='kp_workspace:implementation/templates/item.pt')
def item_page(request):
    item = _item(request)
    if not is_last_attempt(request):
        from ..alerts import read_alerts_about
        officer = officer_for(request)
        read_alerts_about(officer.site, officer.login, item.id)
    return _item_data(request, item)


def _uploads(request):
    """``[(stream, filename)]`` of the files sent in the field ``file`` (none chosen: [])."""
    return [(u.file, u.filename) for u in request.POST.getall('file')
            if hasattr(u, 'file') and u.filename]


def _report(request, item, fields, uploads):
    return report(item, officer_for(request), fields.get('status'), fields.get('note'),
                  fields.get('reasons', ''), uploads,
                  limit=request.registry.kpw_settings.upload_limit)


@view_config(route_name='implementation_reports', permission=VIEW, request_method='POST')
def report_from_page(request):
    item = _item(request)
    try:
        entry = _report(request, item, request.POST, _uploads(request))
    except DomainError as err:
        message = refused(request, err)
        status = request.response.status
        response = render_to_response(
            'kp_workspace:implementation/templates/item.pt',
            _item_data(request, item, message, request.POST), request=request,
            response=request.response)
        response.status = status
        return response
    flash(request, _('Report ${n} recorded: ${status}.', mapping={
        'n': entry.n, 'status': request.localizer.translate(STATUS_TITLES[entry.status])}))
    return HTTPSeeOther(request.route_url('implementation_item', id=item.id))


@view_config(**api_config(route_name='api_implementation_reports', request_method='POST',
                          permission=VIEW))
def api_report(request):
    item = _item(request)
    if (request.content_type or '').startswith('multipart/form-data'):
        fields, uploads = request.POST, _uploads(request)
    else:
        fields, uploads = json_body(request), []
    for name in ('status', 'note', 'reasons'):
        if fields.get(name) is not None and not isinstance(fields.get(name), str):
            raise HTTPBadRequest(f'"{name}" must be text.')
    _report(request, item, fields, uploads)
    request.response.status = 201
    return item_json(officer_for(request), item)


@view_config(route_name='implementation_attachment', permission=VIEW, request_method='GET')
def attachment(request):
    item = _item(request)
    att = item.attachments.get(request.matchdict['att_id'])
    if att is None:
        raise HTTPNotFound()
    officer_for(request).actor.record('attachment.read', f'implementation:{item.id}',
                                      attachment=att.id)
    return document_response(att, f'{att.id}-{att.filename}', False)


# --- the dashboard ------------------------------------------------------------------------------

def _bars(request, entries):
    rows = [dict(e) for e in entries]
    for row, (x, w) in zip(rows, charts.bars([e['value'] for e in entries],
                                             request.locale_name == 'ur')):
        row['x'], row['w'] = x, w
    return rows


def _count_text(request, n):
    return request.localizer.translate(
        _('1 decision') if n == 1 else _('${n} decisions', mapping={'n': n}))


@view_config(route_name='implementation_dashboard', permission=VIEW,
             renderer='kp_workspace:implementation/templates/dashboard.pt')
def dashboard(request):
    officer = officer_for(request)
    if not may_see_dashboard(officer):
        raise HTTPForbidden()
    book = _book(request, officer)
    translate = request.localizer.translate
    on = today()
    counts = dashboard_counts(officer.site, on)
    url = request.route_url
    rows = []
    for dept in counts['departments']:
        by_status = {s: counts['by_status'][(dept, s)] for s in STATUSES}
        rows.append({'name': dept, 'title': _dept_title(request, dept), 'counts': by_status,
                     'total': sum(by_status.values()),
                     'overdue': counts['overdue'].get(dept, 0),
                     'url': url('implementation', _query={'department': dept})})
    status_totals = {s: sum(r['counts'][s] for r in rows) for s in STATUSES}
    ages = {}
    for dept_ages in counts['ages'].values():
        for band, n in dept_ages.items():
            ages[band] = ages.get(band, 0) + n
    overdue = []
    for _due, _dept, item_id in book.overdue_keys(on):
        if len(overdue) == OVERDUE_SHOWN:
            break
        overdue.append(_row(request, officer, book.get(item_id), on))
    return {
        'statuses': [(s, translate(STATUS_TITLES[s])) for s in STATUSES],
        'rows': rows, 'status_totals': status_totals,
        'overdue_total': sum(counts['overdue'].values()), 'overdue': overdue,
        'by_department': _bars(request, [
            {'label': r['title'], 'value': r['total'] - r['counts']['implemented'],
             'text': _count_text(request, r['total'] - r['counts']['implemented']),
             'url': r['url']} for r in rows]),
        'by_status': _bars(request, [
            {'label': title, 'value': status_totals[s], 'text': _count_text(request,
                                                                            status_totals[s]),
             'url': None} for s, title in ((s, translate(STATUS_TITLES[s])) for s in STATUSES)]),
        'by_age': _bars(request, [
            {'label': translate(AGE_TITLES[band]), 'value': ages.get(band, 0),
             'text': _count_text(request, ages.get(band, 0)), 'url': None}
            for band in AGE_BANDS]),
        'any': bool(rows),
    }
