"""The desk's follow-up registers and the lists that read them, without an app."""
import datetime

import pytest

DAY = 86400.0
NOW = 1_800_000_000.0


class Item:
    def __init__(self, item_id, received_at, priority='routine'):
        self.id, self.number, self.priority = item_id, f'FD/2026/{item_id}', priority
        self.kind, self.subject, self.classification = 'file', f'Subject {item_id}', 'routine'
        self.state, self.holder, self.received_at = 'open', 'p', received_at
        self.department = 'finance'


def desk_with(*items):
    from kp_workspace.desk import Desk
    desk = Desk()
    for item in items:
        desk.register(item)
        desk.place(item, 'p', item.received_at)
    return desk


def parking(until, post_id='p'):
    from kp_workspace.desk import Parking
    return Parking(post_id, until, 'Awaiting a reply', 'so', 'SO', None)


def test_a_parked_item_is_off_the_held_set_until_its_date():
    from kp_workspace.lists import inbox, overdue, parked, pending, waiting_count
    a, b, c = Item('a', NOW - 10 * DAY), Item('b', NOW - 5 * DAY), Item('c', NOW - 1 * DAY)
    desk = desk_with(a, b, c)
    desk.park(a, a.received_at, parking(NOW + DAY))       # not yet due
    desk.park(b, b.received_at, parking(NOW - 8 * DAY))   # due 8 days ago
    assert list(desk.held(['p'])) == [(c.received_at, 'c')]
    assert desk.parked_count(['p']) == 2 and desk.parked_count(['p'], before=NOW) == 1
    days = (('routine', 7),)
    rows, total, more, _next = inbox(desk, ['p'], days, NOW)
    # newest first: c came a day ago, b came back (due) 8 days ago
    assert [(r['id'], r.get('due')) for r in rows] == [('c', None), ('b', True)]
    assert total == waiting_count(desk, ['p'], NOW) == 2 and not more
    assert [r['id'] for r in pending(desk, ['p'], days, NOW)[0]] == ['b', 'c']
    assert [r['id'] for r in overdue(desk, ['p'], days, NOW)[0]] == ['b']
    rows, total, _more, _next = parked(desk, ['p'], days, NOW)
    assert [(r['id'], r['due']) for r in rows] == [('b', True), ('a', False)] and total == 2


def test_every_way_off_the_desk_ends_the_parking():
    a, b = Item('a', NOW - DAY), Item('b', NOW - DAY)
    desk = desk_with(a, b)
    desk.park(a, a.received_at, parking(NOW + DAY))
    desk.park(b, b.received_at, parking(NOW - DAY))
    desk.lift(a, 'p', a.received_at, NOW)       # moved on
    desk.unplace(b, 'p', b.received_at)         # taken off (no stay counted)
    assert desk.parking_of('a') is None and desk.parking_of('b') is None
    assert desk.parked_count(['p']) == 0 and list(desk.held(['p'])) == []
    assert desk.desk_time('p') == (DAY, 1)      # the parked time counted in the stay


def test_resume_puts_it_back_as_held_since_it_came_and_parking_again_replaces():
    a = Item('a', NOW - 3 * DAY)
    desk = desk_with(a)
    desk.park(a, a.received_at, parking(NOW + DAY))
    desk.park(a, a.received_at, parking(NOW + 9 * DAY))   # a new date
    assert [k for k in desk.parked(['p'])] == [(NOW + 9 * DAY, 'a')]
    assert desk.resume(a, a.received_at).until == NOW + 9 * DAY
    assert list(desk.held(['p'])) == [(a.received_at, 'a')]
    assert desk.resume(a, a.received_at) is None and desk.unpark(a) is None


def test_links_both_ways_and_numbers():
    from kp_workspace.desk import Link
    desk = desk_with(Item('a', NOW), Item('b', NOW), Item('c', NOW))
    assert desk.find_number('FD/2026/b') == 'b' and desk.find_number('FD/2026/x') is None
    first = Link('', 'so', 'SO', 'p', None)
    desk.link('a', 'b', first)
    desk.link('a', 'c', Link('see', 'so', 'SO', 'p', None))
    desk.link('c', 'b', Link('', 'so', 'SO', 'p', None))
    assert [to for to, _l in desk.links_from('a')] == ['b', 'c']
    assert desk.referred_from('b') == ['a', 'c'] and desk.referred_from('a') == []
    assert desk.unlink('a', 'b') == first and desk.unlink('a', 'b') is None
    assert desk.referred_from('b') == ['c'] and desk.link_between('a', 'c').remark == 'see'


def test_a_desk_from_before_the_follow_ups_reads_as_empty():
    desk = desk_with(Item('a', NOW))
    for name in ('_by_number', '_parked', '_parking', '_links', '_referred'):
        delattr(desk, name)
    assert desk.find_number('FD/2026/a') is None and desk.parking_of('a') is None
    assert list(desk.parked(['p'])) == [] and desk.parked_count(['p'], before=NOW) == 0
    assert desk.links_from('a') == [] and desk.referred_from('a') == []
    desk.lift(desk.items['a'], 'p', NOW, NOW)   # moving still works


@pytest.mark.parametrize('value, message', [
    ('2026-12-07', 'after today'), ('2025-01-01', 'after today'),
    ('2027-12-08', 'a year at most'), ('07-12-2026', 'year-month-day'),
    ('2026-02-30', 'year-month-day'), (None, 'year-month-day'), ('', 'year-month-day'),
])
def test_follow_up_dates(value, message):
    from kp_workspace.errors import DomainError
    from kp_workspace.followups import follow_up_date
    today = datetime.date(2026, 12, 7)
    with pytest.raises(DomainError) as refused:
        follow_up_date(value, today)
    assert message in str(refused.value) and refused.value.field == 'until'
    assert follow_up_date('2026-12-08', today) == datetime.date(2026, 12, 8)
    assert follow_up_date(datetime.date(2027, 12, 7), today) == datetime.date(2027, 12, 7)


def _by_cursor(fn, desk, days, limit):
    """Every row of a list read ``limit`` at a time, each page after the last's cursor."""
    ids, after = [], None
    for _page in range(100):   # (a cursor that does not move on would loop for ever)
        found = fn(desk, ['p'], days, NOW, 0, limit, after)
        ids += [r['id'] for r in found.rows]
        if not found.more:
            assert found.next is None
            return ids
        after = found.next
    raise AssertionError(f'no end after 100 pages: {ids[:20]}')


@pytest.mark.parametrize('name', ['inbox', 'pending', 'overdue', 'parked'])
def test_reading_by_cursor_gives_every_row_once_in_order(name):
    from kp_workspace import lists
    items = [Item(f'i{n:02d}', NOW - n * DAY, priority=('routine', 'urgent')[n % 2])
             for n in range(1, 15)]
    twins = [Item(f't{n}', NOW - 3 * DAY) for n in range(3)]   # the same second: ids decide
    desk = desk_with(*items, *twins)
    for item in items[::4]:   # some parked: due (long ago) or not yet
        desk.park(item, item.received_at, parking(NOW + (DAY if item.id < 'i07' else -20 * DAY)))
    days = (('routine', 7), ('urgent', 2))
    fn = getattr(lists, name)
    whole = [r['id'] for r in fn(desk, ['p'], days, NOW, 0, 100).rows]
    assert len(whole) >= 4
    for limit in (1, 2, 3, 5):
        assert _by_cursor(fn, desk, days, limit) == whole


def test_sent_by_cursor():
    from kp_workspace.desk import Desk
    desk = Desk()
    for n in range(7):
        item = Item(f's{n}', NOW - n * DAY)
        desk.register(item)
        desk._set(desk._sent, 'p').add((-(NOW - n * DAY), item.id))
    from kp_workspace.lists import sent
    found = sent(desk, ['p'], (), NOW, 0, 3)
    assert [r['id'] for r in found.rows] == ['s0', 's1', 's2'] and found.more
    found = sent(desk, ['p'], (), NOW, 0, 3, found.next)
    assert [r['id'] for r in found.rows] == ['s3', 's4', 's5'] and found.more
    found = sent(desk, ['p'], (), NOW, 0, 3, found.next)
    assert [r['id'] for r in found.rows] == ['s6'] and not found.more and found.next is None
