"""The public pages, the notifications' Atom feed and the JSON under ``/api/v1/public``.

No sign-in, no session: everyone gets the same answer (pages in their language), so
what is signed out is cacheable (``Cache-Control: public``, a short ``max-age`` and an
ETag).  Asked for with a session cookie it is not (a page shows its user's name and
sign-out form).

- ``/public``: what is published, with links;
- ``/public/notifications.atom`` and ``GET /api/v1/public/notifications``: the issued
  notifications, newest first, a page at a time, read from the register of published
  notifications (:class:`~kp_workspace.content_types.outgoing.PublishedNotices`);
- ``/public/departments`` (``GET /api/v1/public/departments``) and
  ``/public/departments/{name}`` (``GET /api/v1/public/departments/{department_id}``):
  each department's case files as counts (:mod:`kp_workspace.transparency`).
"""
import datetime
import time
import uuid
import xml.etree.ElementTree as ET

from babel.dates import format_date
from pyramid.events import NewResponse
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from .. import charts
from ..content_types.movable import nothing_here
from ..content_types.outgoing import find_draft
from ..errors import DomainError
from ..i18n import COOKIE, display_title, format_when
from ..site import get_site
from ..views.api import api_config
from ..views.params import encode_cursor, offset_limit_or_cursor
from . import AGE_BANDS, BAND_TITLES, UTC, department_figures, pendency

_ = TranslationStringFactory('kp_workspace')
PUBLIC = NO_PERMISSION_REQUIRED
CACHE_SECONDS = 60
PAGE = 20
FEED_PAGE = 50
CURSOR_LIST = 'notices'
ATOM = 'http://www.w3.org/2005/Atom'
PUBLISHER = 'Government of Khyber Pakhtunkhwa'
# where the cabinet decisions marked public are published (their own pages)
CABINET_DECISIONS = '/public/cabinet/decisions'

# the public answers, and whether each is a page (in the reader's language, with the
# frame that shows a signed-in user's name) or data (the same bytes for everyone)
CACHEABLE = {
    'public': 'page', 'public_notifications': 'page', 'public_departments': 'page',
    'public_department': 'page', 'public_notifications_atom': 'data',
    'public_notification_pdf': 'data', 'api_public_notifications': 'data',
    'api_public_departments': 'data', 'api_public_department': 'data',
    'public_cabinet_decisions': 'page', 'api_public_cabinet_decisions': 'data',
}


def public_caching(event):
    """A public answer (200 to GET or HEAD) may be kept by browsers and proxies for
    :data:`CACHE_SECONDS`, with an ETag to revalidate; data may be read from any web
    page (CORS: no credentials are ever used).  Asked for with a cookie other than the
    language's (a session: a page then shows its user's name, a sign-out token and
    messages), an answer is that user's own, and stays ``no-store`` like every other
    page they open."""
    request, response = event.request, event.response
    route = request.matched_route.name if request.matched_route is not None else None
    kind = CACHEABLE.get(route)
    if kind is None or request.method not in ('GET', 'HEAD') or response.status_code != 200 \
            or 'Set-Cookie' in response.headers:
        return
    if kind == 'page':
        response.vary = ('Cookie', 'Accept-Language')
    else:
        response.headers['Access-Control-Allow-Origin'] = '*'
    if set(request.cookies) - {COOKIE}:
        return
    response.cache_control = f'public, max-age={CACHE_SECONDS}'
    if not request.path.startswith('/api/') and isinstance(response.app_iter, (list, tuple)):
        response.md5_etag()   # (the API's ETags come from its own tween)
        response.conditional_response = True


def includeme(config):
    config.add_subscriber(public_caching, NewResponse)


def _now_ts():
    """Now, to the minute: the figures of one minute are the same bytes (one ETag)."""
    return float(int(time.time()) // 60 * 60)


def _iso(ts):
    return datetime.datetime.fromtimestamp(ts, UTC).isoformat()


def _page(request, template, values):
    return render_to_response(f'kp_workspace:transparency/templates/{template}', values,
                              request=request)


# the index ---------------------------------------------------------------------------
@view_config(route_name='public', request_method='GET', permission=PUBLIC)
def public_index(request):
    site = get_site(request)
    return _page(request, 'index.pt', {
        'notifications_url': request.route_url('public_notifications'),
        'atom_url': request.route_url('public_notifications_atom'),
        'notifications_json_url': request.route_url('api_public_notifications'),
        'departments_url': request.route_url('public_departments'),
        'departments_json_url': request.route_url('api_public_departments'),
        'cabinet_url': request.application_url + CABINET_DECISIONS,
        'verify_url': request.route_url('verify'),
        'openapi_url': request.route_url('api_openapi'),
        'notices': len(site.notices)})


# notifications -----------------------------------------------------------------------
def published(site, address):
    """``(casefile, draft)`` of the issued notification at ``address``, or None."""
    try:
        casefile, draft = find_draft(site, address)
    except DomainError:
        return None
    if draft.kind != 'notification' or draft.state != 'issued' or draft.pdf is None:
        return None
    return casefile, draft


def notices_page(request, default, most):
    """The published notifications of this page, newest first, from the register's
    range after the ``cursor`` given: ``([(address, casefile, draft)], next key)``.
    :raises DomainError: (400) a bad ``limit`` or ``cursor``, or an ``offset``."""
    offset, limit, after = offset_limit_or_cursor(request, CURSOR_LIST, default, most)
    if offset:
        raise DomainError(_('Page through the notifications with "cursor", not "offset".'),
                          field='offset')
    site = get_site(request)
    addresses, next_key = site.notices.page(after, size=limit)
    rows = []
    for address in addresses:
        found = published(site, address)
        if found is not None:   # (listed, but no longer public: left out)
            rows.append((address, *found))
    return rows, next_key


def _department(site, name):
    return site['departments'].get(name)


def notice_json(request, address, casefile, draft):
    dept = _department(get_site(request), casefile.department)
    return {'id': address, 'number': draft.number, 'subject': draft.subject,
            'department': casefile.department,
            'department_title': dept.title if dept is not None else casefile.department,
            'department_title_ur': (getattr(dept, 'title_ur', '') or '') if dept is not None
            else '',
            'dated': draft.dated_at.date().isoformat() if draft.dated_at else None,
            'issued_at': draft.issued_at.isoformat(),
            'pdf_url': request.route_url('public_notification_pdf', id=address)}


@view_config(**api_config(route_name='api_public_notifications', request_method='GET',
                          permission=PUBLIC))
def api_public_notifications(request):
    rows, next_key = notices_page(request, PAGE, 100)
    return {'items': [notice_json(request, *row) for row in rows],
            'total': len(get_site(request).notices),
            'next_cursor': encode_cursor(CURSOR_LIST, next_key)}


def _feed_id(site, request):
    found = getattr(site.notices, 'feed_id', None)
    return uuid.UUID(found) if found else uuid.uuid5(uuid.NAMESPACE_URL, request.application_url)


def _atom_time(value):
    return value.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def _sub(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _newest_time(site):
    """When the feed last changed: the newest notification's issue, else when it began."""
    addresses, _next = site.notices.page(None, size=1)
    found = published(site, addresses[0]) if addresses else None
    if found is not None:
        return found[1].issued_at
    started = getattr(site.notices, 'feed_started', None)
    return started or datetime.datetime(2026, 1, 1, tzinfo=UTC)


@view_config(route_name='public_notifications_atom', request_method='GET',
             permission=PUBLIC)
def public_notifications_atom(request):
    """The Atom feed (RFC 4287) of the issued notifications, newest first; an older page
    follows ``rel="next"`` (RFC 5005)."""
    site = get_site(request)
    rows, next_key = notices_page(request, FEED_PAGE, FEED_PAGE)
    feed_id = _feed_id(site, request)
    # (names unqualified, the Atom namespace declared as the default on the root)
    feed = ET.Element('feed', {'xmlns': ATOM, 'xml:lang': 'en'})
    _sub(feed, 'id', f'urn:uuid:{feed_id}')
    _sub(feed, 'title', f'Notifications, {PUBLISHER}')
    _sub(feed, 'subtitle', 'Notifications issued by the departments, newest first. Each is '
                           'a digitally signed PDF; verify it at '
                           + request.route_url('verify'))
    _sub(feed, 'updated', _atom_time(_newest_time(site)))
    _sub(_sub(feed, 'author'), 'name', PUBLISHER)
    _sub(feed, 'link', rel='self', type='application/atom+xml', href=request.url)
    _sub(feed, 'link', rel='first', type='application/atom+xml',
         href=request.route_url('public_notifications_atom'))
    _sub(feed, 'link', rel='alternate', type='text/html',
         href=request.route_url('public_notifications'))
    if next_key is not None:
        _sub(feed, 'link', rel='next', type='application/atom+xml',
             href=request.route_url('public_notifications_atom', _query={
                 'cursor': encode_cursor(CURSOR_LIST, next_key)}))
    _sub(feed, 'generator', 'KP Digital Workspace')
    for address, casefile, draft in rows:
        dept = _department(site, casefile.department)
        dept_title = dept.title if dept is not None else casefile.department
        entry = _sub(feed, 'entry')
        _sub(entry, 'id', f'urn:uuid:{uuid.uuid5(feed_id, address)}')
        _sub(entry, 'title', f'{draft.number}: {draft.subject}')
        _sub(entry, 'updated', _atom_time(draft.issued_at))
        _sub(entry, 'published', _atom_time(draft.issued_at))
        _sub(_sub(entry, 'author'), 'name', dept_title)
        _sub(entry, 'link', rel='alternate', type='application/pdf',
             href=request.route_url('public_notification_pdf', id=address))
        _sub(entry, 'category', term=casefile.department, label=dept_title)
        dated = draft.dated_at.strftime('%d %b %Y') if draft.dated_at else ''
        _sub(entry, 'summary', f'Notification No. {draft.number} of {dept_title}, dated '
                               f'{dated}: {draft.subject}', type='text')
    body = ET.tostring(feed, encoding='utf-8', xml_declaration=True)
    return Response(body=body, content_type='application/atom+xml', charset='utf-8')


# department figures ------------------------------------------------------------------
def _departments(site):
    return sorted(site['departments'].values(), key=lambda d: d.title.lower())


def _public_department(request, name):
    """The department ``name``.  :raises DomainError: (404) there is none."""
    dept = _department(get_site(request), name)
    if dept is None:
        raise nothing_here()
    return dept


def figures_json(request, dept, now_ts):
    found = department_figures(get_site(request), dept, now_ts)
    bounds = {name: (low, high - 1 if high is not None else None)
              for name, low, high in AGE_BANDS}
    return {'id': dept.__name__, 'title': dept.title,
            'title_ur': getattr(dept, 'title_ur', '') or '', 'as_of': _iso(now_ts),
            'pending': found['pending'],
            'age_bands': [{'band': name, 'from_days': bounds[name][0],
                           'to_days': bounds[name][1], 'count': n}
                          for name, n in found['age_bands']],
            'months': [{'month': month, 'received': received, 'disposed': disposed,
                        'pending_at_end': pending}
                       for month, received, disposed, pending in found['months']]}


def _summary_rows(request, now_ts):
    """Each department's pending files now, and this month's received and disposed."""
    site = get_site(request)
    figures = pendency(site)
    month = datetime.datetime.fromtimestamp(now_ts, UTC).strftime('%Y-%m')
    rows = []
    for dept in _departments(site):
        name = dept.__name__
        rows.append((dept, figures.pending(name) if figures else 0,
                     figures.count(name, month, 'received') if figures else 0,
                     figures.count(name, month, 'disposed') if figures else 0))
    return rows, month


@view_config(**api_config(route_name='api_public_departments', request_method='GET',
                          permission=PUBLIC))
def api_public_departments(request):
    now_ts = _now_ts()
    rows, month = _summary_rows(request, now_ts)
    return {'as_of': _iso(now_ts), 'month': month, 'items': [
        {'id': dept.__name__, 'title': dept.title,
         'title_ur': getattr(dept, 'title_ur', '') or '', 'pending': pending,
         'received_this_month': received, 'disposed_this_month': disposed,
         'url': request.route_url('api_public_department', department_id=dept.__name__)}
        for dept, pending, received, disposed in rows]}


@view_config(**api_config(route_name='api_public_department', request_method='GET',
                          permission=PUBLIC))
def api_public_department(request):
    dept = _public_department(request, request.matchdict['department_id'])
    return figures_json(request, dept, _now_ts())


@view_config(route_name='public_departments', request_method='GET', permission=PUBLIC)
def public_departments(request):
    now_ts = _now_ts()
    rows, month = _summary_rows(request, now_ts)
    return _page(request, 'departments.pt', {
        'rows': [{'title': display_title(dept, request), 'pending': pending,
                  'received': received, 'disposed': disposed,
                  'url': request.route_url('public_department', name=dept.__name__)}
                 for dept, pending, received, disposed in rows],
        'month': _month_title(request, month), 'as_of': format_when(request, now_ts),
        'json_url': request.route_url('api_public_departments'),
        'index_url': request.route_url('public')})


def _month_title(request, month, pattern='MMMM yyyy'):
    year, number = (int(part) for part in month.split('-'))
    return format_date(datetime.date(year, number, 1), pattern, locale=request.locale_name)


@view_config(route_name='public_department', request_method='GET', permission=PUBLIC)
def public_department(request):
    dept = _public_department(request, request.matchdict['name'])
    now_ts = _now_ts()
    found = figures_json(request, dept, now_ts)
    translate = request.localizer.translate
    rtl = request.locale_name == 'ur'
    bands = [{'label': translate(BAND_TITLES[b['band']]), 'value': b['count'],
              'text': str(b['count']), 'url': None} for b in found['age_bands']]
    bands = [dict(b, x=x, w=w) for b, (x, w) in
             zip(bands, charts.bars([b['value'] for b in bands], rtl))]

    def columns(event):
        values = [m[event] for m in found['months']]
        return [{'label': _month_title(request, m['month'], 'MMM'),
                 'date': _month_title(request, m['month']), 'value': m[event],
                 'text': str(m[event]), 'y': y, 'h': h, 'url': None}
                for m, (y, h) in zip(found['months'], charts.columns(values))]
    months = [dict(m, title=_month_title(request, m['month'])) for m in found['months']]
    return _page(request, 'department.pt', {
        'title': display_title(dept, request), 'pending': found['pending'], 'bands': bands,
        'received': columns('received'), 'disposed': columns('disposed'),
        'months': months[::-1], 'as_of': format_when(request, now_ts),
        'json_url': request.route_url('api_public_department', department_id=dept.__name__),
        'departments_url': request.route_url('public_departments'),
        'any_pending': bool(found['pending'])})

