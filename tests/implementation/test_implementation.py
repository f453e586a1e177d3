"""Implementation of cabinet decisions: assigning, reporting, who may, the dashboard,
overdue alerts (kp_workspace.implementation and its views)."""
import datetime
import io

import pytest
import transaction

from tests.conftest import Browser, close_app, copy_demo, make_app

TODAY = datetime.datetime.now(datetime.timezone.utc).date()
DAY = datetime.timedelta(days=1)
PNG = b'\x89PNG\r\n\x1a\n' + b'\0' * 100


@pytest.fixture(scope='module')
def world(tmp_path_factory, demo_template):
    var = copy_demo(demo_template, tmp_path_factory.mktemp('implementation') / 'var')
    wsgi = make_app(var, **{'kp_workspace.indexer': 'off', 'kp_workspace.login_delay_ms': '1',
                            'kp_workspace.login_max_delay_ms': '2'})
    yield wsgi
    transaction.abort()
    close_app(wsgi)


def run(wsgi, fn):
    """``fn(site, officer_of)`` in a transaction of its own (committed)."""
    from kp_workspace.access import Officer
    from kp_workspace.audit import Actor, ensure_audit_log
    from kp_workspace.site import ROOT_KEY
    db = wsgi.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            site = conn.root()[ROOT_KEY]
            actor = Actor('test', '127.0.0.1', ensure_audit_log(conn))

            def officer(login):
                return Officer(site['principals'].users[login], site, actor)
            return fn(site, officer)
    finally:
        conn.close()


def assign_one(wsgi, source_id, department='finance', due=None, by='cs', **kw):
    from kp_workspace.implementation import assign

    def go(site, officer):
        item = assign(site, officer(by), department=department, source_id=source_id,
                      meeting_title=kw.get('meeting_title', '5th meeting of the Cabinet'),
                      meeting_date=TODAY - 10 * DAY, item_number=kw.get('item_number', 2),
                      subject=kw.get('subject', 'Revision of pension rates'),
                      decision_text='The cabinet approved the proposal.',
                      due=due or TODAY + 30 * DAY)
        return item.item_id
    return run(wsgi, go)


def test_assign_is_idempotent_per_decision_and_department(world):
    first = assign_one(world, 'meeting-5/item-2')
    again = assign_one(world, 'meeting-5/item-2', subject='Something else entirely')
    other = assign_one(world, 'meeting-5/item-2', department='sports')

    def check(site, officer):
        book = site.implementation
        assert book.get(first).subject == 'Revision of pension rates'
        assert {i.department for i in book.for_source('meeting-5/item-2')} == {
            'finance', 'sports'}
        return [i.item_id for i in book.for_source('meeting-5/item-2')]
    assert first == again != other
    assert sorted(run(world, check)) == sorted([first, other])
