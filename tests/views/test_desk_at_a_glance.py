"""Home shows counts per list and what waits longest; Sent shows where each item is now;
classification and priority are labelled in words."""
import time

from kp_workspace.lists import DAY
from kp_workspace.views.home import waited
from tests.views.test_overdue_and_mail import age_item

SO_POST = 'so-budget-finance'


def api(app, tokens, login, method, path, status=200, **kw):
    return app.api(method, path, tokens(login), status=status, **kw)


def new_file(app, tokens, subject, login='so.finance', dept='finance', **extra):
    return api(app, tokens, login, 'post_json', f'/api/v1/departments/{dept}/files', 201,
               params={'subject': subject, **extra}).json['id']


def forward(app, tokens, fid, to_post, login='so.finance'):
    api(app, tokens, login, 'post_json', f'/api/v1/files/{fid}/actions/forward',
        params={'to_post': to_post})


def counts(page):
    return {li['class'][0].split('-', 1)[1]: (li.select_one('.count').text,
                                             li.a['href'].rsplit('/', 1)[1])
            for li in page.html.select('.desk-counts li')}


def longest(page):
    return [(li.a.text, ' '.join(li.get_text(' ').split()), 'overdue' in (li.get('class') or []))
            for li in page.html.select('.waiting-longest li')]


def test_home_counts_and_longest_waiting_follow_the_moves(app, other, tokens, open_site):
    app.login('so.finance')
    page = app.get('/')
    assert counts(page) == {'inbox': ('0', 'inbox'), 'pending': ('0', 'pending'),
                            'overdue': ('0', 'overdue'), 'sent': ('1', 'sent'),
                            'parked': ('0', 'parked'), 'due': ('0', 'alerts'),
                            # (the demo's two letters marked to her, each with its alert)
                            'receipts': ('2', 'receipts'), 'alerts': ('2', 'alerts')}
    assert 'Nothing waits with your posts.' in page.text
    old = new_file(app, tokens, 'Pension arrears of retired teachers', priority='urgent',
                   classification='confidential')
    mid = new_file(app, tokens, 'Purchase of office furniture')
    new = new_file(app, tokens, 'Repair of the record room')
    gone = new_file(app, tokens, 'Hiring of a consultant')
    forward(app, tokens, gone, 'secretary-finance')
    age_item(open_site, old, 9)     # urgent: overdue after 3 days
    age_item(open_site, mid, 2)     # routine: not overdue until 7
    page = app.get('/')
    c = counts(page)
    assert c['inbox'][0] == c['pending'][0] == '3'
    assert c['overdue'][0] == '1' and c['sent'][0] == '2'
    rows = longest(page)
    assert [r[0].split('/')[-1] for r in rows] and len(rows) == 3
    numbers = {fid: api(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json['number']
               for fid in (old, mid, new)}
    assert [r[0] for r in rows] == [numbers[old], numbers[mid], numbers[new]]
    text, is_late = rows[0][1], rows[0][2]
    assert is_late and 'Overdue' in text and 'Pension arrears of retired teachers' in text
    assert 'Priority: Urgent' in text and 'Confidential' in text
    assert 'With Section Officer (Budget), Finance for 9 days' in text
    assert 'for 2 days' in rows[1][1] and not rows[1][2] and 'Priority:' not in rows[1][1]
    assert 'for less than an hour' in rows[2][1]
    # another user's desk is theirs alone
    other.login('secretary.finance')
    c = counts(other.get('/'))
    assert c['inbox'][0] == '2' and c['sent'][0] == '0'  # the demo file and "gone"
    assert c['alerts'][0] == '2'


def test_home_for_a_user_with_no_posts(app):
    app.login('admin')
    page = app.get('/')
    assert not page.html.select('.desk-counts') and 'You hold no post' in page.text


def test_counts_stop_at_a_cap(app, tokens, open_site):
    from kp_workspace.lists import at_a_glance

    def run(site, conn):
        return at_a_glance(site.desk, [SO_POST], ((('routine', 7),)), time.time(), cap=1)
    for subject in ('First of two', 'Second of two'):
        forward(app, tokens, new_file(app, tokens, subject), 'secretary-finance')
    glance = open_site(run)
    assert glance['sent'] == (1, True) and glance['held'] == 0


def test_waited_in_words():
    assert [str(waited(s).interpolate()) for s in (60, 3600, 7200, DAY, 9 * DAY + 5)] == [
        'less than an hour', '1 hour', '2 hours', '1 day', '9 days']


def test_sent_shows_where_each_item_is_now(app, tokens):
    from tests.views.test_summary_ending import decided_summary
    moving = new_file(app, tokens, 'Purchase of office furniture')
    forward(app, tokens, moving, 'secretary-finance')
    closing = new_file(app, tokens, 'Repair of the record room', priority='immediate',
                       classification='secret')
    forward(app, tokens, closing, 'secretary-finance')
    api(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{closing}/actions/close',
        params={})
    sid = decided_summary(app, tokens)
    filed = decided_summary(app, tokens, subject='Grant for flood-hit schools')
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/summaries/{filed}/actions/file_decided',
        params={})
    app.login('so.finance')
    page = app.get('/sent')
    assert 'Where it is now' in page.text
    rows = {tr.a['href'].rsplit('/', 1)[1]: ' '.join(tr.get_text(' ').split())
            for tr in page.html.select('table.desk tbody tr')}
    where = {k: ' '.join(page.html.select_one(f'a[href$="/{k}"]').find_parent('tr')
                         .select_one('.where-now').get_text(' ').split()) for k in rows}
    assert where[moving].startswith('Secretary Finance since ')
    assert where[closing].startswith('Closed (record room) since ')
    assert where[sid].startswith('Decided by the Chief Minister since ') and where[filed].startswith('Filed since ')
    assert 'Priority: Immediate' in rows[closing] and 'Secret' in rows[closing]
    # the API gives the same facts
    items = {i['id']: i for i in api(app, tokens, 'so.finance', 'get', '/api/v1/inbox',
                                     params={'view': 'sent'}).json['items']}
    assert items[closing]['state'] == 'closed' and items[closing]['now_since']
    assert items[closing]['classification'] == 'secret'


def test_desk_lists_label_classification_and_priority(app, tokens):
    new_file(app, tokens, 'Pension arrears', priority='urgent', classification='confidential')
    app.login('so.finance')
    for path in ('/inbox', '/pending'):
        row = ' '.join(app.get(path).html.select_one('table.desk tbody tr').get_text(' ').split())
        assert 'Priority: Urgent' in row and 'Confidential' in row
    app.get('/inbox').mustcontain(no=['Priority: Routine'])


def test_labels_are_translated(app, tokens):
    new_file(app, tokens, 'Pension arrears', priority='urgent', classification='confidential')
    app.login('so.finance')
    app.get('/language/ur', status='*')
    page = app.get('/inbox')
    assert 'Priority: Urgent' not in page.text and 'ترجیح' in page.text
    home = app.get('/')
    assert 'Waiting longest' not in home.text and 'Your desk' not in home.text
