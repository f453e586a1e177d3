"""The department dashboard's charts, the files behind each bar, and an item's timeline.

The numbers come from :mod:`kp_workspace.charts`; here they become bars (SVG
shapes whose geometry is worked out in Python, so the page needs no script and
no inline style under the CSP) with labels and links in the page's language.
"""
import datetime

from babel.dates import format_date
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from .. import charts
from ..desk import page
from ..errors import DomainError
from ..i18n import display_title, format_when
from ..lists import row
from ..security.roles import APPROVE, VIEW
from ..site import get_site
from .params import whole_number
from .work import department_for, desk_row, now_ts, officer_for

_ = TranslationStringFactory('kp_workspace')
PAGE = 50


def _rtl(request):
    return request.locale_name == 'ur'


def _files_url(request, dept, **query):
    return request.route_url('department_files', name=dept.__name__, _query=query)


def _number(request, n):
    translate = request.localizer.translate
    return translate(_('1 file') if n == 1 else _('${n} files', mapping={'n': n}))


def dashboard_charts(request, dept, posts, overdue_days, now):
    """The four charts of a department's dashboard, ready for ``chart_macros.pt``.

    :param posts: the dashboard's rows of the department's posts (``id``, ``title`` in
        the page's language, ``held``, ``average_seconds``, ``stays``), so the counts
        the table shows are the ones drawn.
    """
    translate = request.localizer.translate
    desk = get_site(request).desk
    post_ids = [p['id'] for p in posts]
    rtl = _rtl(request)

    def bar_rows(entries, values):
        return [dict(e, x=x, w=w) for e, (x, w) in zip(entries, charts.bars(values, rtl))]

    ages = charts.by_age(desk, post_ids, now)
    age_rows = bar_rows([{'label': translate(charts.BAND_TITLES[name]), 'value': n,
                          'text': _number(request, n),
                          'url': _files_url(request, dept, age=name) if n else None}
                         for name, n in ages], [n for _b, n in ages])

    desk_rows = bar_rows([{'label': p['title'], 'value': p['held'],
                           'text': _number(request, p['held']),
                           'url': _files_url(request, dept, desk=p['id']) if p['held'] else None}
                          for p in posts], [p['held'] for p in posts])

    trend = charts.overdue_trend(desk, post_ids, overdue_days, now)
    week_rows = []
    for (day, n), (y, h) in zip(trend, charts.columns([n for _d, n in trend])):
        week_rows.append({
            'label': format_date(day, 'd MMM', locale=request.locale_name),
            'date': format_when(request, day, time=False), 'value': n, 'y': y, 'h': h,
            'text': _number(request, n),
            'url': _files_url(request, dept, overdue_on=day.isoformat()) if n else None})

    time_rows = bar_rows([{'label': p['title'], 'value': p['average_seconds'],
                           'text': (translate(charts.duration_words(p['average_seconds']))
                                    if p['average_seconds'] is not None
                                    else translate(_('no moves yet'))),
                           'stays': p['stays'],
                           'url': _files_url(request, dept, desk=p['id']) if p['held'] else None}
                          for p in posts], [p['average_seconds'] for p in posts])
    return {'ages': age_rows, 'desks': desk_rows, 'weeks': week_rows, 'times': time_rows,
            'any_held': any(n for _b, n in ages)}


def _day(request, name):
    raw = request.params.get(name, '').strip()
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise DomainError(_('"${name}" must be a date like 2026-11-23.',
                            mapping={'name': name}), field=name) from None


@view_config(route_name='department_files', permission=VIEW,
             renderer='kp_workspace:templates/department_files.pt')
def department_files(request):
    """The files behind a bar of the dashboard: by age band, by desk, or overdue on a
    day.  Only what the user may open is listed; the rest is counted, not named."""
    dept = department_for(request, APPROVE)
    translate = request.localizer.translate
    site = get_site(request)
    desk = site.desk
    officer = officer_for(request)
    overdue_days = request.registry.kpw_settings.overdue_days
    now = now_ts()
    posts = charts.department_posts(site, dept.__name__)
    post_ids = [p.post_id for p in posts]
    given = [k for k in ('age', 'desk', 'overdue_on') if k in request.params]
    if len(given) != 1:
        raise DomainError(_('Say which files to list: one of "age", "desk" or "overdue_on".'),
                          field='age')
    which = given[0]
    if which == 'age':
        band = request.params['age']
        keys = charts.held_in_band(desk, post_ids, band, now)
        heading = translate(_('Waiting ${band}', mapping={
            'band': translate(charts.BAND_TITLES[band]).lower()}))
        query = {'age': band}
    elif which == 'desk':
        post = site['principals'].posts.get(request.params['desk'])
        if post is None or post.department != dept.__name__:
            raise DomainError(_('"desk" must be a post of this department.'), field='desk')
        keys = desk.held([post.post_id], oldest_first=True)
        heading = translate(_('Waiting with ${post}', mapping={
            'post': display_title(post, request)}))
        query = {'desk': post.post_id}
    else:
        day = _day(request, 'overdue_on')
        at = charts.moment(day, now)
        keys = ((since, item_id) for since, item_id, _p in
                charts.overdue_at(desk, post_ids, overdue_days, at, now))
        heading = translate(_('Overdue on ${date}', mapping={
            'date': format_when(request, day, time=False)}))
        query = {'overdue_on': day.isoformat()}
    offset = whole_number(request, 'offset', 0)
    chunk, more = page(keys, offset, PAGE)
    limits = dict(overdue_days)
    rows, hidden = [], 0
    for since, item_id in chunk:
        item = desk.items.get(item_id)
        if item is None:
            continue
        if not officer.can_view(item):
            hidden += 1
            continue
        r = desk_row(request, row(item, since, now, limits))
        r['received'] = format_when(request, since)
        holder = site['principals'].posts.get(item.holder)
        r['where'] = display_title(holder, request) if holder is not None else ''
        rows.append(r)
    return {
        'title': heading, 'department': display_title(dept, request),
        'dashboard_url': request.route_url('department', name=dept.__name__),
        'rows': rows, 'hidden': hidden,
        'hidden_text': translate(
            _('1 file is not listed: it has not passed through your posts.') if hidden == 1
            else _('${n} files are not listed: they have not passed through your posts.',
                   mapping={'n': hidden})) if hidden else None,
        'label_since': translate(_('Since')), 'label_days': translate(_('Days')),
        'label_where': translate(_('Where it is now')),
        'next_url': _files_url(request, dept, offset=offset + PAGE, **query) if more else None,
        'prev_url': _files_url(request, dept, offset=max(0, offset - PAGE), **query)
        if offset else None,
    }


def timeline(request, item, post_name):
    """An item's time at each desk: a stacked bar and the list it draws."""
    found = charts.stays(item, now_ts())
    if not found:
        return None
    translate = request.localizer.translate
    geometry = charts.segments([s['seconds'] for s in found], _rtl(request))
    rows = []
    for i, (s, (x, w)) in enumerate(zip(found, geometry)):
        rows.append({
            'post': post_name(s['post'], s['title']), 'x': x, 'w': w, 'tone': i % 6,
            'since': format_when(request, s['since']),
            'until': None if s['now'] else format_when(request, s['until']),
            'length': translate(charts.duration_words(s['seconds'])), 'now': s['now']})
    return rows
