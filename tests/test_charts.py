"""The chart arithmetic: durations in words, bar and timeline geometry, an item's stays."""
import datetime

from kp_workspace import charts
from kp_workspace.content_types.movable import Movement

UTC = datetime.timezone.utc


def words(seconds):
    found = charts.duration_words(seconds)
    return found.interpolate() if found is not None else None


def test_durations_read_in_days_hours_or_minutes():
    assert words(None) is None
    assert words(12) == 'under a minute'
    assert words(60) == '1 minute' and words(59 * 60) == '59 minutes'
    assert words(3600) == '1 hour' and words(5 * 3600 + 59) == '5 hours'
    assert words(86400) == '1 day' and words(2.25 * 86400) == '2.2 days'
    assert words(30 * 86400) == '30 days'


def test_bars_fill_from_the_start_of_the_line_in_either_direction():
    assert charts.bars([2, 1, 0, None]) == [(0.0, 100.0), (0.0, 50.0), (0.0, 0.0), (0.0, 0.0)]
    assert charts.bars([2, 1], rtl=True) == [(0.0, 100.0), (50.0, 50.0)]
    assert charts.bars([0, 0]) == [(0.0, 0.0), (0.0, 0.0)]
    assert charts.columns([4, 1, 0]) == [(0.0, 100.0), (75.0, 25.0), (100.0, 0.0)]


def test_timeline_segments_cover_the_line_and_a_short_stay_still_shows():
    segs = charts.segments([0, 3600, 86400 * 10])
    assert segs[0][0] == 0.0 and segs[0][1] >= 0.6
    assert abs(segs[-1][0] + segs[-1][1] - 100) < 0.05
    for (x, w), (nx, _nw) in zip(segs, segs[1:]):
        assert abs(x + w - nx) < 0.05           # end to end, no gaps
    rtl = charts.segments([0, 3600, 86400 * 10], rtl=True)
    assert abs(rtl[0][0] + rtl[0][1] - 100) < 0.05 and rtl[-1][0] < 0.05
    assert charts.segments([]) == []
    assert charts.segments([0, 0]) == [(0.0, 50.0), (50.0, 50.0)]


class Item:
    def __init__(self, created, holder, movements):
        self.created_at, self.holder, self.movements = created, holder, movements


def move(n, at, action, from_post, to_post):
    return Movement(n, at, action, from_post, from_post.upper(), to_post, to_post.upper(),
                    '', 'x', 'X', n)


def test_stays_follow_the_movement_register_and_skip_the_record_room():
    t0 = datetime.datetime(2026, 3, 1, tzinfo=UTC)
    hour = datetime.timedelta(hours=1)
    item = Item(t0, 'so', [move(1, t0 + 2 * hour, 'forward', 'so', 'sec'),
                           move(2, t0 + 5 * hour, 'return', 'sec', 'so'),
                           move(3, t0 + 6 * hour, 'close', 'so', ''),
                           move(4, t0 + 30 * hour, 'reopen', '', 'so')])
    now = (t0 + 31 * hour).timestamp()
    found = [(s['post'], s['title'], s['seconds'] / 3600, s['now'])
             for s in charts.stays(item, now)]
    assert found == [('so', 'SO', 2, False), ('sec', 'SEC', 3, False), ('so', 'SO', 1, False),
                     ('so', 'SO', 1, True)]
    closed = Item(t0, 'so', item.movements[:3])
    assert [s['now'] for s in charts.stays(closed, now)] == [False, False, False]
    new = Item(t0, 'so', [])
    assert [(s['post'], s['title'], s['now']) for s in charts.stays(new, now)] == \
        [('so', None, True)]


def test_the_trend_counts_at_eight_moments_a_week_apart_ending_now():
    now = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=UTC).timestamp()
    ends = charts.week_ends(now)
    assert [d.isoformat() for d, _t in ends][-2:] == ['2026-11-26', '2026-12-03']
    assert len(ends) == 8 and ends[-1][1] == now
    assert ends[-2][1] == datetime.datetime(2026, 11, 27, tzinfo=UTC).timestamp()
