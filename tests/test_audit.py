"""The audit log: newest first, cursor paging, jump to a date, nothing lost."""
import datetime

from kp_workspace.audit import Actor, AuditEntry, AuditLog

UTC = datetime.timezone.utc


def entry(at, n):
    return AuditEntry(at, 'someone', 'test.action', f'thing:{n}', '127.0.0.1', [('n', str(n))])


def all_pages(log, limit):
    """The targets of every entry, page after page, as a reader of the log sees them."""
    seen, cursor = [], None
    while True:
        page, cursor = log.page(after=cursor, limit=limit)
        seen.extend(e.target for e in page)
        if cursor is None:
            return seen


def test_entries_come_back_newest_first_across_pages():
    log = AuditLog()
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(25):
        log.append(entry(start + datetime.timedelta(seconds=n), n))
    assert len(log) == 25
    assert all_pages(log, 10) == [f'thing:{n}' for n in reversed(range(25))]


def test_same_instant_entries_are_all_kept():
    log = AuditLog()
    at = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(3000):  # more than the spread of keys per microsecond
        log.append(entry(at, n))
    assert len(log) == 3000
    page = log.page(limit=5000)[0]
    assert [e.target for e in page] == [f'thing:{n}' for n in reversed(range(3000))]


def test_jump_to_a_date():
    log = AuditLog()
    for day in range(1, 11):
        log.append(entry(datetime.datetime(2026, 3, day, 12, tzinfo=UTC), day))
    page, _ = log.page(before_time=datetime.datetime(2026, 3, 5, 12, tzinfo=UTC), limit=2)
    assert [e.target for e in page] == ['thing:4', 'thing:3']
    assert log.page(before_time=datetime.datetime(2020, 1, 1, tzinfo=UTC))[0] == []


def test_actor_records_who_what_where():
    log = AuditLog()
    e = Actor('admin', '10.0.0.1', log).record('user.created', 'user:x', name='X', roles='a,b')
    assert (e.actor, e.action, e.target, e.client) == ('admin', 'user.created', 'user:x', '10.0.0.1')
    assert e.details_text() == 'name: X; roles: a,b'
    assert e.at.tzinfo is not None
    assert log.page()[0] == [e]


def test_entries_are_spread_over_shards_and_an_older_log_joins_them():
    log = AuditLog()
    log._shards = None  # as an older release left it: one tree
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(10):
        log.append(entry(start + datetime.timedelta(seconds=n), n))
    log.add_shards()  # (evolve step 7)
    for n in range(10, 200):
        log.append(entry(start + datetime.timedelta(seconds=n // 20), n))
    used = [len(tree) for tree in log._shards]
    assert sum(used) == 200 and len([u for u in used if u]) == len(used)
    keys = [key for tree in log._shards for key in tree.keys()]
    assert len(set(keys)) == 200  # unique across shards
    assert all_pages(log, 30) == [f'thing:{n}' for n in reversed(range(200))]
