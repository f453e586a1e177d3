"""Opening a file or summary marks the reader's alerts about it read (only theirs, only it)."""
import transaction
from ZODB.POSException import ConflictError

from kp_workspace.alerts import AlertBox
from kp_workspace.site import ROOT_KEY


def api(app, tokens, login, method, path, status=200, **kw):
    return app.api(method, path, tokens(login), status=status, **kw)


def two_files_to_the_secretary(app, tokens):
    ids = []
    for subject in ('Purchase of office furniture', 'Repair of the record room'):
        fid = api(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/files',
                  201, params={'subject': subject}).json['id']
        api(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
            params={'to_post': 'secretary-finance'})
        ids.append(fid)
    return ids


def unread(app, tokens, login):
    data = api(app, tokens, login, 'get', '/api/v1/alerts').json
    return data['unread'], sorted(a['item_id'] for a in data['items'] if a['unread'])


def test_opening_a_file_reads_its_alerts_only_for_the_reader(app, tokens):
    # (so.finance has read the alerts of the demo letters marked to her)
    api(app, tokens, 'so.finance', 'post_json', '/api/v1/alerts/read', params={})
    first, second = two_files_to_the_secretary(app, tokens)
    # the secretary sends the first back: so.finance now has an alert about it too
    api(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{first}/actions/return',
        params={})
    count, items = unread(app, tokens, 'secretary.finance')
    assert count == 3 and first in items and second in items  # (and the demo file)
    assert unread(app, tokens, 'so.finance') == (1, [first])
    app.login('secretary.finance')
    assert 'Alerts (3)' in app.get('/').text
    page = app.get(f'/files/{first}')
    assert 'Alerts (2)' in page.text   # the menu counts what is left
    count, items = unread(app, tokens, 'secretary.finance')
    assert count == 2 and first not in items and second in items
    assert unread(app, tokens, 'so.finance') == (1, [first])  # another's alerts stay
    alerts = app.get('/alerts').html
    rows = {li.a['href'].rsplit('/', 1)[1]: 'unread' in (li.get('class') or [])
            for li in alerts.select('li') if li.a and '/files/' in li.a.get('href', '')}
    assert rows[first] is False and rows[second] is True
    # opening it again writes nothing and changes nothing
    app.get(f'/files/{first}')
    assert unread(app, tokens, 'secretary.finance')[0] == 2


def test_opening_a_summary_reads_its_decided_alert(app, tokens):
    from tests.views.test_summary_ending import decided_summary
    sid = decided_summary(app, tokens)
    count, items = unread(app, tokens, 'so.finance')
    assert sid in items
    app.login('so.finance')
    app.get(f'/summaries/{sid}')
    assert sid not in unread(app, tokens, 'so.finance')[1]
    assert unread(app, tokens, 'so.finance')[0] == count - 1


def _concurrently(wsgi_app, fn):
    db = wsgi_app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    with tm:
        fn(conn.root()[ROOT_KEY])
    conn.close()


def test_the_same_alerts_read_in_another_tab_meanwhile_retries_the_page(
        app, tokens, wsgi_app, monkeypatch):
    from kp_workspace.views import errors
    monkeypatch.setattr(errors, 'sleep', lambda s: None)
    first, second = two_files_to_the_secretary(app, tokens)
    original = AlertBox.mark_item_read
    calls = []

    def with_another_tab(self, item_id):
        calls.append(item_id)
        if len(calls) == 1:  # the same page, opened in another tab, commits first
            _concurrently(wsgi_app, lambda site: original(
                site.alerts.box('secretary.finance'), item_id))
        return original(self, item_id)

    monkeypatch.setattr(AlertBox, 'mark_item_read', with_another_tab)
    app.login('secretary.finance')
    page = app.get(f'/files/{first}', status=200)
    assert 'Purchase of office furniture' in page.text
    assert calls == [first]  # retried: the second attempt found nothing left to mark
    count, items = unread(app, tokens, 'secretary.finance')
    assert count == 2 and first not in items and second in items  # counted once


def test_an_alert_arriving_meanwhile_is_kept(app, tokens, wsgi_app, monkeypatch):
    from kp_workspace.alerts import Alert
    from kp_workspace.content_types.movable import now
    first, second = two_files_to_the_secretary(app, tokens)
    original = AlertBox.mark_item_read
    calls = []

    def with_an_arrival(self, item_id):
        calls.append(item_id)
        if len(calls) == 1:
            _concurrently(wsgi_app, lambda site: site.alerts.box('secretary.finance').add(
                Alert(now(), 'arrived', 'Meanwhile', second)))
        return original(self, item_id)

    monkeypatch.setattr(AlertBox, 'mark_item_read', with_an_arrival)
    app.login('secretary.finance')
    app.get(f'/files/{first}', status=200)
    count, items = unread(app, tokens, 'secretary.finance')
    assert first not in items and items.count(second) == 2 and count == 3


def test_a_page_is_drawn_even_when_marking_conflicts_every_time(app, tokens, monkeypatch):
    from kp_workspace.views import errors
    monkeypatch.setattr(errors, 'sleep', lambda s: None)
    first, _second = two_files_to_the_secretary(app, tokens)
    calls = []

    def always_conflicts(self, item_id):
        calls.append(item_id)
        raise ConflictError()

    monkeypatch.setattr(AlertBox, 'mark_item_read', always_conflicts)
    app.login('secretary.finance')
    page = app.get(f'/files/{first}', status=200)
    assert 'Purchase of office furniture' in page.text
    assert len(calls) == 4  # every attempt but the last; the last draws the page without
    assert first in unread(app, tokens, 'secretary.finance')[1]  # still unread, not lost
