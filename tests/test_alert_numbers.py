"""Alerts are numbered in the order they are first read for an app: an app asking for
what is new since its cursor misses none, even one timed before the last it read (a
slow transaction), and adding alerts to a busy post's box does not conflict."""
import datetime

import pytest
import transaction
import ZODB
import ZODB.FileStorage
from ZODB.POSException import ConflictError

from kp_workspace.alerts import Alert, AlertStore

T0 = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def db(tmp_path):
    found = ZODB.DB(ZODB.FileStorage.FileStorage(str(tmp_path / 'Data.fs')))
    with found.transaction() as conn:
        conn.root()['alerts'] = AlertStore()
        conn.root()['alerts'].box('so.finance', create=True)
    yield found
    found.close()


def opened(db):
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    tm.begin()
    return tm, conn.root()['alerts'].box('so.finance')


def alert(minutes, text):
    return Alert(T0 + datetime.timedelta(minutes=minutes), 'arrived', text, 'f1')


def test_an_alert_timed_earlier_but_committed_later_is_not_skipped(db):
    slow_tm, slow_box = opened(db)
    slow_box.add(alert(0, 'signed slowly'))          # timed first, still signing...
    fast_tm, fast_box = opened(db)
    fast_box.add(alert(1, 'forwarded quickly'))
    fast_tm.commit()
    app_tm, app_box = opened(db)
    found, cursor, more = app_box.since(0)
    assert [a.text for a, _unread in found] == ['forwarded quickly'] and not more
    app_tm.commit()   # (the reading numbered it)
    # the slow one commits after: adding alerts to one box at once does not conflict
    slow_tm.commit()
    app_tm.begin()
    found, newer, more = app_box.since(cursor)
    assert [a.text for a, _unread in found] == ['signed slowly'] and newer > cursor
    app_tm.commit()
    app_tm.begin()
    assert app_box.since(newer) == ([], newer, False)
    assert [a.text for a, _u in app_box.newest()] == ['forwarded quickly', 'signed slowly']
    app_tm.abort()


def test_many_alerts_added_at_once_to_one_box_all_commit(db):
    """A busy post: the actions alerting its holder at the same moment do not conflict
    over the holder's box (each would be retried, and some given up)."""
    opened_boxes = [opened(db) for _n in range(5)]
    for n, (_tm, box) in enumerate(opened_boxes):
        box.add(alert(n, f'file {n}'))
    for tm, _box in opened_boxes:
        tm.commit()
    tm, box = opened(db)
    found, cursor, _more = box.since(0)
    assert sorted(a.text for a, _u in found) == [f'file {n}' for n in range(5)]
    assert cursor == 5
    tm.commit()


def test_two_readings_at_once_give_each_alert_one_number(db):
    tm, box = opened(db)
    box.add(alert(0, 'one'))
    tm.commit()
    first_tm, first = opened(db)
    second_tm, second = opened(db)
    assert first.since(0)[1] == second.since(0)[1] == 1
    first_tm.commit()
    with pytest.raises(ConflictError):   # (the request is retried: it reads it numbered)
        second_tm.commit()
    second_tm.abort()
    second_tm.begin()
    assert [a.text for a, _u in second.since(0)[0]] == ['one'] and second.last_number == 1
    second_tm.abort()


def test_pages_from_a_cursor_come_oldest_first_and_each_newest_first(db):
    tm, box = opened(db)
    for n in range(7):
        box.add(alert(n, f'alert {n}'))
    tm.commit()
    tm.begin()
    newest, cursor, more = box.since(None, limit=3)
    assert [a.text for a, _u in newest] == ['alert 6', 'alert 5', 'alert 4'] and not more
    assert cursor == box.last_number == 7
    found, cursor, more = box.since(0, limit=3)
    assert [a.text for a, _u in found] == ['alert 2', 'alert 1', 'alert 0'] and more
    found, cursor, more = box.since(cursor, limit=3)
    assert [a.text for a, _u in found] == ['alert 5', 'alert 4', 'alert 3'] and more
    found, cursor, more = box.since(cursor, limit=3)
    assert [a.text for a, _u in found] == ['alert 6'] and not more
    assert box.since(cursor) == ([], cursor, False)
    tm.abort()


def test_a_box_from_before_is_numbered_oldest_first(db):
    tm, box = opened(db)
    for n in (2, 0, 1):   # (added out of time order: numbered by time, as they stood)
        box.add(alert(n, f'alert {n}'))
    box._numbered, box.last_number = None, 0
    box.number_all()
    found, cursor, _more = box.since(0)
    assert [a.text for a, _u in found] == ['alert 2', 'alert 1', 'alert 0'] and cursor == 3
    tm.abort()
