"""Overdue limits per priority, and alerts by e-mail through a real SMTP server."""
import socket
import time

import pytest
import transaction

from kp_workspace.site import ROOT_KEY

from tests.conftest import Browser, close_app, make_app

DAY = 86400


def age_item(open_site, item_id, days):
    """Pretend ``item_id`` reached its holder ``days`` ago (as if time had passed)."""
    def shift(site, conn):
        item = site.desk.items[item_id]
        site.desk.unplace(item, item.holder, item.received_at)
        item.received_at -= days * DAY
        site.desk.place(item, item.holder, item.received_at)
    open_site(shift, commit=True)


def new_file(app, token, priority):
    return app.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                   params={'subject': f'{priority} matter', 'priority': priority}).json['id']


def test_overdue_follows_the_limit_of_each_priority(app, open_site):
    token = app.token('so.finance')
    immediate = new_file(app, token, 'immediate')
    urgent = new_file(app, token, 'urgent')
    routine = new_file(app, token, 'routine')
    age_item(open_site, immediate, 2)   # limit 1 day: overdue
    age_item(open_site, urgent, 2)      # limit 3 days: not yet
    age_item(open_site, routine, 8)     # limit 7 days: overdue
    res = app.api('get', '/api/v1/inbox', token, params={'view': 'overdue'}).json
    assert [i['id'] for i in res['items']] == [routine, immediate]  # longest waiting first
    assert all(i['overdue'] for i in res['items'])
    inbox = {i['id']: i for i in app.api('get', '/api/v1/inbox', token).json['items']}
    assert inbox[urgent]['overdue'] is False and inbox[urgent]['age_days'] == 2
    assert inbox[routine]['age_days'] == 8
    pending = app.api('get', '/api/v1/inbox', token, params={'view': 'pending'}).json['items']
    assert [i['id'] for i in pending] == [routine, immediate, urgent]
    app.login('so.finance')
    page = app.get('/overdue')
    assert page.text.count('class="overdue"') == 2


def test_overdue_limits_are_settings(var_dir):
    app = make_app(var_dir, **{'kp_workspace.overdue_days.routine': '30'})
    try:
        browser = Browser(app)
        token = browser.token('so.finance')
        fid = browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                          params={'subject': 'Slow matter'}).json['id']
        db = app.registry._zodb_databases['']
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        with tm:
            site = conn.root()[ROOT_KEY]
            item = site.desk.items[fid]
            site.desk.unplace(item, item.holder, item.received_at)
            item.received_at -= 10 * DAY
            site.desk.place(item, item.holder, item.received_at)
        conn.close()
        res = browser.api('get', '/api/v1/inbox', token, params={'view': 'overdue'}).json
        assert res['items'] == []
    finally:
        close_app(app)


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    controller = Controller(Keep(), hostname='127.0.0.1', port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_alerts_are_mailed_after_commit(var_dir, smtp_server):
    port, received = smtp_server
    app = make_app(var_dir, **{'mail.host': '127.0.0.1', 'mail.port': str(port),
                               'mail.default_sender': 'workspace@kp.gov.pk.example'})
    try:
        browser = Browser(app)
        token = browser.token('so.finance')
        fid = browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                          params={'subject': 'Mailed matter'}).json['id']
        # a refused move sends nothing
        browser.api('post_json', f'/api/v1/files/{fid}/actions/forward', token, status=400,
                    params={'to_post': 'no-such-post'})
        browser.api('post_json', f'/api/v1/files/{fid}/actions/forward', token,
                    params={'to_post': 'secretary-finance'})
        deadline = time.time() + 20
        while not received and time.time() < deadline:
            time.sleep(0.05)
        assert len(received) == 1
        message = received[0]
        assert message['To'] == 'secretary.finance@kp.gov.pk.example'
        assert 'A file reached you' in message['Subject'] and 'FD/' in message['Subject']
        assert 'Mailed matter' in message.get_payload(decode=True).decode()
    finally:
        close_app(app)
