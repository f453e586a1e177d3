"""The department dashboard's charts, the files behind each bar, and a file's timeline."""
import datetime
import re

from kp_workspace.site import ROOT_KEY  # noqa: F401  (the site the fixtures open)

DAY = 86400


def new_file(app, token, subject, priority='routine'):
    return app.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                   params={'subject': subject, 'priority': priority}).json['id']


def forward(app, token, fid, to_post):
    app.api('post_json', f'/api/v1/files/{fid}/actions/forward', token,
            params={'to_post': to_post})


def shift(open_site, fid, days):
    """Pretend ``fid`` reached its holder ``days`` ago (and was opened as long ago)."""
    def run(site, conn):
        item = site.desk.items[fid]
        site.desk.unplace(item, item.holder, item.received_at)
        item.received_at -= days * DAY
        item.created_at -= datetime.timedelta(days=days)
        site.desk.place(item, item.holder, item.received_at)
    open_site(run, commit=True)


def bar(page, label):
    """The value a chart row shows beside ``label``, and its link (or None)."""
    m = re.search(r'<li class="chart-row">\s*<span class="chart-label" dir="auto">'
                  r'(?:<a href="([^"]*)">)?' + re.escape(label) + r'.*?'
                  r'<span class="chart-value">([^<]*)</span>', page.text, re.S)
    assert m, f'no bar for {label!r}'
    return m.group(2), (m.group(1).replace('&amp;', '&') if m.group(1) else None)


def numbers(page):
    return [a.text for a in page.html.select('table.desk td.nowrap a')]


def test_charts_count_by_age_and_desk_and_each_bar_lists_its_files(app, other, open_site):
    other.login('secretary.finance')
    before = int(bar(other.get('/departments/finance'), 'Secretary Finance')[0].split()[0])
    token = app.token('so.finance')
    fresh = new_file(app, token, 'Fresh request')
    week_old = new_file(app, token, 'Week-old request')
    forward(app, token, week_old, 'secretary-finance')
    shift(open_site, week_old, 9)     # with the Secretary for 9 days
    sent_up = new_file(app, token, 'Request put up')
    forward(app, token, sent_up, 'secretary-finance')
    app.login('secretary.finance')
    page = app.get('/departments/finance')
    assert page.html.select_one('#ages-h').text == 'Pending by how long it has waited'
    text, url = bar(page, 'Under 2 days')
    assert text.endswith('files') and url is not None
    assert bar(page, '1 to 2 weeks')[0] == '1 file'
    assert bar(page, 'Over a month') == ('0 files', None)  # an empty bar leads nowhere
    listed = app.get(bar(page, '1 to 2 weeks')[1])
    assert listed.html.h1.text == 'Waiting 1 to 2 weeks'
    numbers_there = numbers(listed)
    assert len(numbers_there) == 1
    assert 'Week-old request' in listed.text and 'Fresh request' not in listed.text
    # by desk: the Secretary's desk holds the one put up
    text, url = bar(page, 'Secretary Finance')
    assert text == f'{before + 2} files'
    at_secretary = app.get(url)
    assert len(numbers(at_secretary)) == before + 2
    assert at_secretary.text.index('Week-old request') < at_secretary.text.index('Request put up')
    assert at_secretary.html.h1.text == 'Waiting with Secretary Finance'
    # the Section Officer's desk: what he holds, which the Secretary has not seen
    so_url = bar(page, 'Section Officer (Budget), Finance')[1]
    at_so = app.get(so_url)
    assert 'Request put up' not in at_so.text and 'Fresh request' not in at_so.text
    assert re.search(r'(1 file is|\d+ files are) not listed: (it has|they have) not passed '
                     r'through your posts', at_so.text)
    assert fresh not in at_so.text


def trend(page):
    columns = page.html.select('.chart-columns .chart-column')
    return columns, [int(c.select_one('.chart-value').text) for c in columns]


def test_overdue_trend_counts_what_waited_past_its_limit_at_each_week_end(app, other,
                                                                         open_site):
    other.login('secretary.finance')
    _columns, before = trend(other.get('/departments/finance'))
    token = app.token('so.finance')
    late = new_file(app, token, 'Long-waiting matter')
    forward(app, token, late, 'secretary-finance')
    shift(open_site, late, 20)        # routine, with the Secretary: overdue since 13 days ago
    moved_on = new_file(app, token, 'Matter that moved on', priority='immediate')
    shift(open_site, moved_on, 10)    # immediate: overdue after a day...
    forward(app, token, moved_on, 'secretary-finance')   # ...then left the desk today
    app.login('secretary.finance')
    page = app.get('/departments/finance')
    columns, values = trend(page)
    assert len(columns) == 8
    # now: the routine one only (the immediate one waits with the Secretary since today);
    # a week ago both had waited past their limits; two weeks ago neither
    assert [v - b for v, b in zip(values, before)] == [0, 0, 0, 0, 0, 0, 2, 1]
    last_week = columns[-2].select_one('a')['href']
    listed = app.get(last_week)
    assert 'Long-waiting matter' in listed.text and 'Matter that moved on' in listed.text
    assert listed.html.h1.text.startswith('Overdue on ')
    now_url = columns[-1].select_one('a')['href']
    listed_now = app.get(now_url)
    assert 'Long-waiting matter' in listed_now.text
    assert 'Matter that moved on' not in listed_now.text


def test_average_time_reads_in_hours_below_a_day(app):
    token = app.token('so.finance')
    fid = new_file(app, token, 'Quick matter')
    forward(app, token, fid, 'secretary-finance')
    app.login('secretary.finance')
    page = app.get('/departments/finance')
    text, _url = bar(page, 'Section Officer (Budget), Finance')
    times = page.html.select('section[aria-labelledby="times-h"] .chart-value')
    words = [t.text for t in times]
    assert any(w in ('under a minute', '1 minute') or w.endswith('minutes') for w in words)
    assert '0.0' not in page.html.select_one('table.table').text


def test_the_files_behind_a_bar_refuse_bad_choices_with_a_message(app):
    app.login('secretary.finance')
    for query, message in (('', 'Say which files to list'),
                           ('?age=3-9', '"age" must be one of 0-2, 2-7, 7-14, 14-30, 30-.'),
                           ('?desk=secretary-hed', '"desk" must be a post of this department.'),
                           ('?overdue_on=yesterday', '"overdue_on" must be a date'),
                           ('?age=0-2&desk=secretary-finance', 'Say which files to list'),
                           ('?age=0-2&offset=-1', '"offset" must be a whole number')):
        res = app.get('/departments/finance/files' + query, status=400)
        assert message in res.text, query


def test_only_approvers_of_the_department_see_its_charts(app, other):
    app.login('so.finance')
    app.get('/departments/finance', status=403)
    app.get('/departments/finance/files?age=0-2', status=403)
    other.login('secretary.finance')
    other.get('/departments/finance/files?age=0-2', status=200)
    other.get('/departments/higher-education/files?age=0-2', status=403)
    other.get('/departments/nowhere/files?age=0-2', status=404)


def test_charts_read_in_urdu_with_bars_from_the_right(app, open_site):
    token = app.token('so.finance')
    new_file(app, token, 'Fresh request')
    app.get('/language/ur', status=303)
    app.login('secretary.finance')
    page = app.get('/departments/finance')
    assert 'Pending by how long it has waited' not in page.text
    rects = page.html.select('section[aria-labelledby="ages-h"] rect.chart-fill')
    assert rects
    for r in rects:   # a bar grows from the right edge of its track
        assert abs(float(r['x']) + float(r['width']) - 100) < 0.01


def test_a_file_shows_its_time_at_each_desk(app):
    token = app.token('so.finance')
    fid = new_file(app, token, 'Travelling matter')
    forward(app, token, fid, 'secretary-finance')
    app.login('so.finance')
    page = app.get(f'/files/{fid}')
    items = page.html.select('.timeline-list li')
    assert [li.strong.text for li in items] == ['Section Officer (Budget), Finance',
                                                'Secretary Finance']
    assert 'there now' in items[1].text and 'there now' not in items[0].text
    rects = page.html.select('svg.timeline-bar rect')
    assert len(rects) == 2 and float(rects[0]['x']) == 0.0
    assert abs(sum(float(r['width']) for r in rects) - 100) < 0.05
