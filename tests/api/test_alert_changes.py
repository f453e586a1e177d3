"""The alerts' changes: a cursor to ask from, what is new since it, and a long poll that
answers as soon as an alert arrives."""
import threading
import time

from kp_workspace.populate import DEMO_PASSWORD
from tests.conftest import Browser


def changes(app, token, status=200, **params):
    return app.get('/api/v1/alerts/changes', params=params,
                   headers={'Authorization': f'Bearer {token}'}, status=status)


def forward_new_file(app, tokens, subject):
    auth = {'Authorization': f'Bearer {tokens("so.finance")}'}
    fid = app.post_json('/api/v1/departments/finance/files', {'subject': subject},
                        headers=auth, status=201).json['id']
    app.post_json(f'/api/v1/files/{fid}/actions/forward', {'to_post': 'secretary-finance'},
                  headers=auth)
    return fid


def test_what_is_new_since_the_cursor(app, tokens):
    secretary = tokens('secretary.finance')
    first = changes(app, secretary).json
    assert first['cursor'] is not None   # (the demo's alerts; the newest first)
    nothing = changes(app, secretary, since=first['cursor']).json
    assert nothing == {'items': [], 'cursor': first['cursor'], 'more': False}
    fid = forward_new_file(app, tokens, 'Mobile allowance of field officers')
    new = changes(app, secretary, since=first['cursor']).json
    assert [a['item_id'] for a in new['items']] == [fid]
    assert 'Mobile allowance' in new['items'][0]['text'] and new['items'][0]['unread']
    assert new['cursor'] != first['cursor']
    assert changes(app, secretary, since=new['cursor']).json['items'] == []
    # bad cursors and waits: 400
    changes(app, secretary, status=400, since='abc')
    changes(app, secretary, status=400, since='-1796650459056739')  # (an older release's)
    beyond = str(int(new['cursor']) + 1)   # (not given yet: a restored database is behind)
    assert 'starts again' in changes(app, secretary, status=400, since=beyond).json['error']
    changes(app, secretary, status=400, since=first['cursor'], wait='26')
    changes(app, secretary, status=400, since=first['cursor'], wait='-1')


def test_a_long_poll_answers_when_an_alert_arrives(wsgi_app, app, tokens):
    secretary = tokens('secretary.finance')
    cursor = changes(app, secretary).json['cursor']
    answer = {}

    def wait():
        started = time.monotonic()
        res = changes(Browser(wsgi_app), secretary, since=cursor, wait='20')
        answer.update(res.json, seconds=time.monotonic() - started)
    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(1.5)
    fid = forward_new_file(app, tokens, 'Data packages for officers on tour')
    waiter.join(30)
    assert [a['item_id'] for a in answer['items']] == [fid]
    assert answer['seconds'] < 15
    # nothing arriving: it answers empty when the time is up
    started = time.monotonic()
    res = changes(app, secretary, since=answer['cursor'], wait='2').json
    assert res['items'] == [] and 1.5 < time.monotonic() - started < 10


def test_none_is_skipped_however_many_arrived(wsgi_app, app, tokens, open_site):
    import datetime
    from kp_workspace.alerts import Alert
    secretary = tokens('secretary.finance')
    cursor = changes(app, secretary).json['cursor']

    def add(site, _conn):
        box = site.alerts.box('secretary.finance', create=True)
        at = datetime.datetime.now(datetime.timezone.utc)
        for n in range(120):
            box.add(Alert(at + datetime.timedelta(seconds=n), 'arrived', f'Alert {n}', None))
    open_site(add, commit=True)
    seen, more = [], True
    while more:
        page = changes(app, secretary, since=cursor).json
        seen += reversed([a['text'] for a in page['items']])
        cursor, more = page['cursor'], page['more']
    assert seen == [f'Alert {n}' for n in range(120)]
    # cursors that are not cursors: 400, never 500
    changes(app, secretary, status=400, since='99999999999999999999')
    changes(app, secretary, status=400, since=cursor, wait='\u00b2')


def test_a_long_poll_ends_when_its_device_is_signed_out(wsgi_app, app):
    """A phone signed out while its long poll waits gets 401, not the alerts that come."""
    device = app.post_json('/api/v1/auth/token', {'login': 'secretary.finance',
                                                  'password': DEMO_PASSWORD,
                                                  'device': 'A lost phone'}, status=201).json
    cursor = changes(app, device['token']).json['cursor']
    answer = {}

    def wait():
        started = time.monotonic()
        res = changes(Browser(wsgi_app), device['token'], status='*', since=cursor, wait='20')
        answer.update(status=res.status_int, body=res.json,
                      seconds=time.monotonic() - started)
    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(1.5)
    Browser(wsgi_app).delete(f'/api/v1/auth/devices/{device["device_id"]}', status=204,
                             headers={'Authorization': f'Bearer {device["token"]}'})
    waiter.join(30)
    assert answer['status'] == 401 and 'sign in again' in answer['body']['error']
    assert answer['seconds'] < 15
