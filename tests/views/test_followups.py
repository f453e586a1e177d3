"""Follow-ups through the API and the browser: files put up with others, files parked
awaiting a reply that come back due, and the reminders in alerts."""
import datetime
import re
import time

import pytest

from kp_workspace.desk import Parking
from tests.views.test_files_browser import form_by_action

TODAY = datetime.datetime.now(datetime.timezone.utc).date()
AHEAD = (TODAY + datetime.timedelta(days=10)).isoformat()
REASON = 'Awaiting reply from the AG office'
NO_SUCH = 'There is no file or summary numbered {} that you may open.'


def call(app, tokens, login, method, path, status=200, **kw):
    return app.api(method, path, tokens(login), status=status, **kw)


def new_file(app, tokens, subject, login='so.finance', department='finance'):
    data = call(app, tokens, login, 'post_json', f'/api/v1/departments/{department}/files',
                201, params={'subject': subject}).json
    return data['id'], data['number']


def get_file(app, tokens, fid, login='so.finance', status=200):
    return call(app, tokens, login, 'get', f'/api/v1/files/{fid}', status)


def link(app, tokens, fid, number, status=201, login='so.finance', remark=''):
    return call(app, tokens, login, 'post_json', f'/api/v1/files/{fid}/links', status,
                params={'number': number, 'remark': remark})


def park(app, tokens, fid, until=AHEAD, reason=REASON, status=200, login='so.finance'):
    return call(app, tokens, login, 'post_json', f'/api/v1/files/{fid}/park', status,
                params={'until': until, 'reason': reason})


def forward(app, tokens, fid, to_post, login='so.finance'):
    call(app, tokens, login, 'post_json', f'/api/v1/files/{fid}/actions/forward',
         params={'to_post': to_post})


def listing(app, tokens, view, login='so.finance'):
    return call(app, tokens, login, 'get', '/api/v1/inbox', params={'view': view}).json


def ids(rows):
    return [r['id'] for r in rows]


def make_due(open_site, fid, days_ago=2):
    """As if the file's date had come ``days_ago`` days ago (the rules refuse a past
    date: the register is written as time would have left it)."""
    def run(site, _conn):
        desk = site.desk
        item, old = desk.items[fid], desk.parking_of(fid)
        desk.park(item, item.received_at, Parking(
            old.post_id, time.time() - days_ago * 86400, old.reason, old.by, old.by_name,
            old.at))
    open_site(run, commit=True)


def actions(audit_entries, n):
    return [e.action for e in audit_entries(n)]


# --- put up with (links) -----------------------------------------------------------

def test_link_and_unlink_through_the_api(app, tokens, audit_entries):
    a, _a_number = new_file(app, tokens, 'Revision of daily allowance rates')
    b, b_number = new_file(app, tokens, 'Daily allowance rates of 2025')
    data = link(app, tokens, a, f' {b_number.lower()} ', remark='Earlier revision').json
    assert [(l['id'], l['number'], l['remark'], l['by']) for l in data['links']] == \
        [(b, b_number, 'Earlier revision', 'so.finance')]
    assert data['referred_in'] == [] and data['parked'] is None
    other = get_file(app, tokens, b).json
    assert other['links'] == [] and [r['id'] for r in other['referred_in']] == [a]
    entry = audit_entries(1)[0]
    assert entry.action == 'file.linked' and entry.target == f'file:{a}'
    assert dict(entry.details)['to'] == f'file:{b}'

    res = link(app, tokens, a, b_number, status=409)
    assert 'is already put up with this file' in res.json['error']
    res = link(app, tokens, a, get_file(app, tokens, a).json['number'], status=400)
    assert res.json['error'] == 'A file cannot be put up with itself.'
    for bad, status in (('', 400), ('FD/1999/9999', 404), ('x\u202e', 400)):
        link(app, tokens, a, bad, status=status)
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{a}/links', 400,
         params={'number': 12})

    call(app, tokens, 'so.finance', 'delete', f'/api/v1/files/{a}/links/{b}', 204)
    assert get_file(app, tokens, a).json['links'] == []
    assert get_file(app, tokens, b).json['referred_in'] == []
    assert actions(audit_entries, 1) == ['file.unlinked']
    call(app, tokens, 'so.finance', 'delete', f'/api/v1/files/{a}/links/{b}', 404)
    call(app, tokens, 'so.finance', 'delete', f'/api/v1/files/{a}/links/nothing', 404)


def test_a_file_one_may_not_open_is_refused_as_one_that_does_not_exist(app, tokens):
    a, _n = new_file(app, tokens, 'Grant to the university')
    _h, hidden_number = new_file(app, tokens, 'Hostel repairs', login='so.hed',
                                 department='higher-education')
    hidden = link(app, tokens, a, hidden_number, status=404).json['error']
    missing_number = hidden_number[:-4] + '9999'
    missing = link(app, tokens, a, missing_number, status=404).json['error']
    assert hidden == NO_SUCH.format(hidden_number)
    assert missing == NO_SUCH.format(missing_number)
    assert get_file(app, tokens, a).json['links'] == []


def test_each_reader_sees_only_the_links_to_what_they_may_open(app, tokens, other):
    """A linked to B (both by the Section Officer), A sent to the Secretary, who may
    open A but not B: the Secretary sees no link at all, not even a count."""
    a, a_number = new_file(app, tokens, 'Pension arrears of retired teachers')
    b, b_number = new_file(app, tokens, 'Note on the audit of arrears', login='so.finance')
    link(app, tokens, a, b_number, remark='Audit view')
    forward(app, tokens, a, 'secretary-finance')
    seen = get_file(app, tokens, a, login='secretary.finance').json
    assert seen['links'] == []
    assert [l['id'] for l in get_file(app, tokens, a).json['links']] == [b]
    other.login('secretary.finance')
    page = other.get(f'/files/{a}')
    assert b_number not in page.text and 'Audit view' not in page.text
    assert 'Put up with' in page.text  # (the holder's empty list, with the form)
    assert 'No other file is put up with this one.' in page.text

    # the other way: the Secretary's own file put up with A; A's Section Officer may
    # not open it, so A shows no "Referred to in" to them, and does to the Secretary
    s, _s_number = new_file(app, tokens, 'Secretary file on arrears', login='secretary.finance')
    link(app, tokens, s, a_number, login='secretary.finance')
    assert [r['id'] for r in get_file(app, tokens, a, login='secretary.finance')
            .json['referred_in']] == [s]
    assert get_file(app, tokens, a).json['referred_in'] == []
    page = other.get(f'/files/{a}')
    assert 'Referred to in' in page.text and 'Secretary file on arrears' in page.text


def test_only_the_holder_links_and_parks_and_only_with_the_role(app, tokens):
    a, _n = new_file(app, tokens, 'Purchase of laptops')
    _b, b_number = new_file(app, tokens, 'Purchase of printers')
    forward(app, tokens, a, 'secretary-finance')
    res = link(app, tokens, a, b_number, status=409)
    assert 'Only the holder' in res.json['error']
    assert 'Only the holder' in park(app, tokens, a, status=409).json['error']
    # the diary clerk holds it (it was marked to the diary), but may neither note nor move
    forward(app, tokens, a, 'diary-finance', login='secretary.finance')
    res = link(app, tokens, a, b_number, status=403, login='diary.finance')
    assert res.json['error'] == 'Your role does not let you write notes.'
    res = park(app, tokens, a, status=403, login='diary.finance')
    assert 'does not let you move files or park them' in res.json['error']
    # somebody who may not open it at all: 404, as for a file that does not exist
    link(app, tokens, a, b_number, status=404, login='so.hed')
    park(app, tokens, a, status=404, login='so.hed')
    call(app, tokens, 'so.hed', 'post', f'/api/v1/files/{a}/resume', 404)


def test_a_closed_file_is_final(app, tokens):
    a, _n = new_file(app, tokens, 'Closing soon')
    _b, b_number = new_file(app, tokens, 'Kept open')
    link(app, tokens, a, b_number)
    park(app, tokens, a)
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{a}/actions/close', params={})
    assert get_file(app, tokens, a).json['parked'] is None  # closing ended the parking
    assert ids(listing(app, tokens, 'parked')['items']) == []
    for res in (link(app, tokens, a, 'FD/2025/0311', status=409),
                park(app, tokens, a, status=409),
                call(app, tokens, 'so.finance', 'post', f'/api/v1/files/{a}/resume', 409),
                call(app, tokens, 'so.finance', 'delete', f'/api/v1/files/{a}/links/{_b}',
                     409)):
        assert 'is closed' in res.json['error']
    # the links stay on record, and show
    assert [l['number'] for l in get_file(app, tokens, a).json['links']] == [b_number]


# --- parking -------------------------------------------------------------------------

@pytest.mark.parametrize('until, reason, message', [
    ('2020-01-01', REASON, 'The date must be after today.'),
    (TODAY.isoformat(), REASON, 'The date must be after today.'),
    ((TODAY + datetime.timedelta(days=366)).isoformat(), REASON, 'a year at most'),
    ('2026-13-45', REASON, 'Give the date as year-month-day'),
    ('next week', REASON, 'Give the date as year-month-day'),
    (20270101, REASON, 'Give the date as year-month-day'),
    (AHEAD, '', 'Say what the file awaits: the reply, and from whom.'),
    (AHEAD, None, 'Say what the file awaits'),
    (AHEAD, ' ab ', 'too short'),
    (AHEAD, 'x' * 501, 'too long'),
    (AHEAD, 'Awaiting \u202ereply', 'changes the direction of the text'),
])
def test_parking_refuses_bad_dates_and_reasons(app, tokens, until, reason, message):
    a, _n = new_file(app, tokens, 'Parked badly')
    res = park(app, tokens, a, until=until, reason=reason, status=400)
    assert message in res.json['error']
    assert get_file(app, tokens, a).json['parked'] is None
    assert a in ids(listing(app, tokens, 'inbox')['items'])


def test_a_parked_file_leaves_the_inbox_and_comes_back_due(app, tokens, open_site,
                                                           audit_entries):
    a, _n = new_file(app, tokens, 'Reply awaited from the AG')
    before = listing(app, tokens, 'inbox')['total']
    data = park(app, tokens, a).json
    assert data['parked'] == {'until': AHEAD, 'reason': REASON, 'by': 'so.finance',
                              'at': data['parked']['at'], 'due': False}
    entry = audit_entries(1)[0]
    assert entry.action == 'file.parked' and dict(entry.details)['until'] == AHEAD
    inbox = listing(app, tokens, 'inbox')
    assert a not in ids(inbox['items']) and inbox['total'] == before - 1
    assert a not in ids(listing(app, tokens, 'pending')['items'])
    parked = listing(app, tokens, 'parked')
    assert parked['total'] == 1
    [row] = parked['items']
    assert (row['id'], row['due'], row['reason'], row['parked_until'][:10]) == \
        (a, False, REASON, AHEAD)
    alerts = call(app, tokens, 'so.finance', 'get', '/api/v1/alerts').json
    assert alerts['due'] == [] and alerts['due_count'] == 0

    make_due(open_site, a)
    inbox = listing(app, tokens, 'inbox')
    assert inbox['total'] == before and a in ids(inbox['items'])
    row = [r for r in inbox['items'] if r['id'] == a][0]
    assert row['due'] is True and row['age_days'] == 2  # counted from the day it came back
    assert a in ids(listing(app, tokens, 'pending')['items'])
    assert listing(app, tokens, 'parked')['items'][0]['due'] is True
    alerts = call(app, tokens, 'so.finance', 'get', '/api/v1/alerts').json
    assert ids(alerts['due']) == [a] and alerts['due_count'] == 1
    assert get_file(app, tokens, a).json['parked']['due'] is True
    # nobody else is reminded
    assert call(app, tokens, 'secretary.finance', 'get', '/api/v1/alerts').json['due'] == []

    data = call(app, tokens, 'so.finance', 'post', f'/api/v1/files/{a}/resume').json
    assert data['parked'] is None
    assert actions(audit_entries, 1) == ['file.resumed']
    row = [r for r in listing(app, tokens, 'inbox')['items'] if r['id'] == a][0]
    assert 'due' not in row
    assert listing(app, tokens, 'parked')['total'] == 0
    assert call(app, tokens, 'so.finance', 'get', '/api/v1/alerts').json['due_count'] == 0
    res = call(app, tokens, 'so.finance', 'post', f'/api/v1/files/{a}/resume', 409)
    assert 'is not parked' in res.json['error']


def test_parking_again_changes_the_date(app, tokens):
    a, _n = new_file(app, tokens, 'Parked twice')
    park(app, tokens, a)
    later = (TODAY + datetime.timedelta(days=30)).isoformat()
    assert park(app, tokens, a, until=later, reason='Reminder sent').json['parked']['until'] \
        == later
    [row] = listing(app, tokens, 'parked')['items']
    assert (row['parked_until'][:10], row['reason']) == (later, 'Reminder sent')


def test_moving_a_parked_file_ends_its_parking_whichever_way(app, tokens, open_site):
    a, _n = new_file(app, tokens, 'Forwarded while parked')
    park(app, tokens, a)
    forward(app, tokens, a, 'secretary-finance')
    assert listing(app, tokens, 'parked')['total'] == 0
    row = [r for r in listing(app, tokens, 'inbox', 'secretary.finance')['items']
           if r['id'] == a][0]
    assert 'due' not in row
    assert get_file(app, tokens, a, 'secretary.finance').json['parked'] is None
    # parked by the Secretary, due, and sent back
    park(app, tokens, a, login='secretary.finance')
    make_due(open_site, a)
    call(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{a}/actions/return',
         params={})
    assert listing(app, tokens, 'parked', 'secretary.finance')['total'] == 0
    assert call(app, tokens, 'secretary.finance', 'get', '/api/v1/alerts').json['due'] == []
    assert a not in ids(listing(app, tokens, 'inbox', 'secretary.finance')['items'])
    assert a in ids(listing(app, tokens, 'inbox')['items'])


def test_a_due_file_counts_as_overdue_from_its_date(app, tokens, open_site):
    a, _n = new_file(app, tokens, 'Long awaited')
    park(app, tokens, a)
    make_due(open_site, a, days_ago=9)  # routine: overdue after 7 days
    assert a in ids(listing(app, tokens, 'overdue')['items'])


# --- in the browser ------------------------------------------------------------------

def file_page(app, tokens, subject):
    fid, number = new_file(app, tokens, subject)
    return fid, number, app.get(f'/files/{fid}')


def test_browser_links_park_and_take_back(app, tokens, open_site):
    app.login('so.finance')
    _b, b_number = new_file(app, tokens, 'Rates of 2025')
    fid, number, page = file_page(app, tokens, 'Rates of 2026')
    form = form_by_action(page, f'/files/{fid}/links')
    form['number'] = b_number
    form['remark'] = '<script>alert(1)</script>'
    page = form.submit(status=303).follow()
    assert f'{b_number} put up with this file.' in page.text
    assert 'Put up with' in page.text and 'Rates of 2025' in page.text
    assert '<script>alert(1)</script>' not in page.text
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in page.text

    form = form_by_action(page, f'/files/{fid}/links')
    form['number'] = 'FD/1999/0001'
    res = form.submit(status=404)
    assert NO_SUCH.format('FD/1999/0001') in res.text
    page = form_by_action(res, f'/files/{fid}/links/{_b}/remove').submit(status=303).follow()
    assert f'{b_number} is no longer put up with this file.' in page.text

    form = form_by_action(page, f'/files/{fid}/park')
    form['until'] = '2001-01-01'
    form['reason'] = REASON
    res = form.submit(status=400)
    assert 'The date must be after today.' in res.text
    form = form_by_action(res, f'/files/{fid}/park')
    form['until'] = AHEAD
    form['reason'] = REASON
    page = form.submit(status=303).follow()
    assert re.search(rf'{re.escape(number)} parked awaiting a reply: it comes back to your '
                     r'inbox on \d\d \w{3} \d{4}\.', page.text)
    assert 'Parked awaiting a reply until' in page.text and REASON in page.text
    parked = app.get('/parked')
    assert number in parked.text and REASON in parked.text
    assert '<a href="http://localhost/parked" aria-current="page">Parked</a>' in parked.text
    assert number not in app.get('/inbox').text

    make_due(open_site, fid)
    inbox = app.get('/inbox')
    assert number in inbox.text and 'due for follow-up' in inbox.text
    alerts = app.get('/alerts')
    assert 'Due for follow-up' in alerts.text and number in alerts.text
    home = app.get('/')
    assert re.search(r'<span class="count">1</span> <span class="count-label">Due for '
                     r'follow-up</span>', home.text)
    page = app.get(f'/files/{fid}')
    assert 'Due for follow-up since' in page.text
    page = form_by_action(page, f'/files/{fid}/resume').submit(status=303).follow()
    assert f'{number} taken back into your inbox.' in page.text
    assert 'Parked awaiting a reply until' not in page.text
    assert number not in app.get('/alerts').text


def test_browser_forms_need_the_csrf_token_and_the_holder(app, tokens, other):
    app.login('so.finance')
    _b, b_number = new_file(app, tokens, 'Target file')
    fid, _number, page = file_page(app, tokens, 'Forged posts')
    for suffix, fields in (('links', {'number': b_number}),
                           ('park', {'until': AHEAD, 'reason': REASON})):
        form = form_by_action(page, f'/files/{fid}/{suffix}')
        for name, value in fields.items():
            form[name] = value
        form['csrf_token'] = 'f' * 40
        form.submit(status=400)
        app.post(f'/files/{fid}/{suffix}', fields, status=400)
    data = get_file(app, tokens, fid).json
    assert data['links'] == [] and data['parked'] is None
    # the Secretary, who may not open the file: 404 like a missing one
    other.login('secretary.finance')
    other.post(f'/files/{fid}/park', {'until': AHEAD, 'reason': REASON,
                                      'csrf_token': other.csrf()}, status=404)
    # the file page of somebody who is not the holder offers no follow-up forms
    forward(app, tokens, fid, 'secretary-finance')
    page = app.get(f'/files/{fid}')
    assert f'/files/{fid}/park' not in page.text and f'/files/{fid}/links' not in page.text
    res = app.post(f'/files/{fid}/park', {'until': AHEAD, 'reason': REASON,
                                          'csrf_token': app.csrf()}, status=409)
    assert 'Only the holder' in res.text


def test_the_parked_tab_and_empty_list(app):
    app.login('so.finance')
    page = app.get('/inbox')
    assert '<a href="http://localhost/parked">Parked</a>' in page.text
    parked = app.get('/parked')
    assert 'Files awaiting a reply, soonest due first.' in parked.text
    assert 'Nothing here. Well done.' in parked.text


def test_follow_ups_in_urdu(app, tokens):
    app.login('so.finance')
    _b, b_number = new_file(app, tokens, 'Urdu target')
    fid, _n = new_file(app, tokens, 'Urdu file')
    link(app, tokens, fid, b_number)
    app.get('/language/ur', status=303)
    page = app.get(f'/files/{fid}')
    assert 'Put up with' not in page.text and 'Park awaiting a reply' not in page.text
    assert 'منسلک فائلیں' in page.text and 'جواب کے انتظار میں رکھیں' in page.text
    parked = app.get('/parked')
    assert 'منتظرِ جواب' in parked.text and 'Parked' not in parked.text


def test_search_shows_nothing_of_a_linked_file_one_may_not_open(app, tokens):
    a, _a_number = new_file(app, tokens, 'Quarterly review of the budget')
    b, b_number = new_file(app, tokens, 'Zanzibarian procurement irregularities')
    link(app, tokens, a, b_number, remark='Zanzibarian procurement')
    forward(app, tokens, a, 'secretary-finance')
    app.indexed()
    found = call(app, tokens, 'secretary.finance', 'get', '/api/v1/search',
                 params={'q': 'Zanzibarian'}).json
    assert found['total'] == 0 and found['items'] == []
    found = call(app, tokens, 'secretary.finance', 'get', '/api/v1/search',
                 params={'q': b_number}).json  # (the number's parts match files it may open)
    assert b not in [i['id'] for i in found['items']]
    assert 'Zanzibarian' not in str(found)
    mine = call(app, tokens, 'so.finance', 'get', '/api/v1/search',
                params={'q': 'Zanzibarian'}).json
    assert [i['id'] for i in mine['items']] == [b]


def test_the_demo_has_follow_ups(app, tokens):
    parked = listing(app, tokens, 'parked', 'so.sports')['items']
    assert [r['due'] for r in parked] == [True, False]
    inbox = listing(app, tokens, 'inbox', 'so.sports')['items']
    assert [r['id'] for r in inbox if r.get('due')] == [parked[0]['id']]
    linked = [r for r in inbox if get_file(app, tokens, r['id'], 'so.sports').json['links']]
    assert len(linked) == 1
