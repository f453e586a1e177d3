"""Dates and names in the request's language (kp_workspace/i18n.py)."""
import datetime

import hypothesis
from hypothesis import strategies as st
from pyramid import testing


def _request(locale):
    request = testing.DummyRequest()
    request.locale_name = locale
    return request


def test_format_when_by_locale_with_western_digits():
    from kp_workspace.i18n import format_when
    at = datetime.datetime(2026, 12, 2, 18, 5, tzinfo=datetime.timezone.utc)
    assert format_when(_request('en'), at) == '02 Dec 2026 18:05'
    assert format_when(_request('ur'), at) == '02 دسمبر 2026 18:05'
    assert format_when(_request('ur'), at, time=False) == '02 دسمبر 2026'
    assert format_when(_request('ur'), datetime.date(2026, 7, 1)) == '01 جولائی 2026'
    assert format_when(_request('en'), at.isoformat()) == '02 Dec 2026 18:05'
    assert format_when(_request('en'), at.timestamp()) == '02 Dec 2026 18:05'
    assert format_when(_request('ur'), None) == '' and format_when(_request('ur'), '') == ''


def test_format_when_keeps_the_time_zone_of_the_value():
    from kp_workspace.i18n import format_when
    pkt = datetime.timezone(datetime.timedelta(hours=5))
    assert format_when(_request('en'), datetime.datetime(2026, 1, 1, 9, 30, tzinfo=pkt)) \
        == '01 Jan 2026 09:30'
    assert format_when(_request('en'), datetime.datetime(2026, 1, 1, 9, 30)) == '01 Jan 2026 09:30'


def test_display_title_prefers_urdu_on_urdu_pages_only():
    from kp_workspace.i18n import display_title
    from kp_workspace.security.principals import Post
    post = Post('so-x', 'Section Officer X', 'finance', title_ur='سیکشن آفیسر ایکس')
    old = Post('so-y', 'Section Officer Y', 'finance')
    assert display_title(post, _request('ur')) == 'سیکشن آفیسر ایکس'
    assert display_title(post, _request('en')) == 'Section Officer X'
    assert display_title(old, _request('ur')) == 'Section Officer Y'
    assert 'title_ur' not in old.__dict__  # the class default: nothing stored


@hypothesis.settings(max_examples=300, deadline=None, derandomize=True, database=None)
@hypothesis.given(st.datetimes(min_value=datetime.datetime(1, 1, 1),
                               timezones=st.one_of(st.none(), st.timezones())),
                  st.sampled_from(('en', 'ur')), st.booleans())
def test_format_when_writes_what_babel_writes(at, locale, time):
    """Dates are put together from Babel's month names: the text is Babel's own
    format_datetime / format_date with the same patterns, in the value's time zone."""
    from babel.dates import format_date, format_datetime
    from kp_workspace.i18n import DATE, DATE_TIME, format_when
    expected = format_datetime(at, DATE_TIME if time else DATE,
                               tzinfo=at.tzinfo or datetime.timezone.utc, locale=locale)
    assert format_when(_request(locale), at, time=time) == expected
    assert format_when(_request(locale), at.date()) == format_date(at.date(), DATE, locale=locale)
