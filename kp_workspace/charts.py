"""What the department dashboard draws, and which files stand behind each bar.

Everything here reads the desk registers (what each post holds now, and the stays
completed at each post), never the files themselves: the cost follows the
department's current work and its last weeks, not the size of the archive.

- pending by age band: what the department's desks hold now, by how long it waited;
- pending by desk: what each desk holds now;
- overdue trend: at the end of each of the last weeks, how many items had waited at a
  desk longer than their priority allows (an item held since then, or one that left
  the desk after that moment);
- desk time: the average time an item stays at each desk;
- a file's timeline: how long it stayed at each desk, from its movement register.
"""
import datetime

from pyramid.i18n import TranslationStringFactory

from .errors import DomainError

_ = TranslationStringFactory('kp_workspace')

DAY = 86400.0
WEEK = 7 * DAY
WEEKS = 8

# (name, from days, to days): an item waiting exactly 2 days is in '2-7'
AGE_BANDS = (('0-2', 0, 2), ('2-7', 2, 7), ('7-14', 7, 14), ('14-30', 14, 30), ('30-', 30, None))
BAND_TITLES = {
    '0-2': _('Under 2 days'), '2-7': _('2 to 7 days'), '7-14': _('1 to 2 weeks'),
    '14-30': _('2 weeks to a month'), '30-': _('Over a month'),
}


def department_posts(site, department):
    return [p for p in site['principals'].posts.values() if p.department == department]


def _band(name):
    for band in AGE_BANDS:
        if band[0] == name:
            return band
    raise DomainError(_('"age" must be one of ${bands}.',
                        mapping={'bands': ', '.join(b[0] for b in AGE_BANDS)}), field='age')


def _band_bounds(band, now_ts):
    """``(since, before)`` received timestamps of the items in ``band``."""
    _name, low, high = band
    return (now_ts - high * DAY if high is not None else None), now_ts - low * DAY


def by_age(desk, post_ids, now_ts):
    """``[(band name, count)]``: what ``post_ids`` hold now, by how long it has waited."""
    counts = []
    for band in AGE_BANDS:
        since, before = _band_bounds(band, now_ts)
        counts.append((band[0], desk.held_count(post_ids, before=before, since=since)))
    return counts


def held_in_band(desk, post_ids, name, now_ts):
    """Iterate ``(received ts, id)`` held by ``post_ids`` in the age band ``name``,
    longest waiting first.  :raises DomainError: (400) an unknown band."""
    since, before = _band_bounds(_band(name), now_ts)
    return desk.held(post_ids, oldest_first=True, before=before, since=since)


def week_ends(now_ts, weeks=WEEKS):
    """The moments the trend counts at, oldest first: now, and the end of the same day
    of the week in each earlier week (UTC)."""
    today = datetime.datetime.fromtimestamp(now_ts, datetime.timezone.utc).date()
    ends = []
    for k in range(weeks - 1, -1, -1):
        day = today - datetime.timedelta(days=7 * k)
        ends.append((day, moment(day, now_ts)))
    return ends


def moment(day, now_ts):
    """The end of ``day`` (UTC), or now if that is still to come."""
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(),
                                    datetime.timezone.utc).timestamp()
    return min(end, now_ts)


def _limits(overdue_days):
    return {priority: days * DAY for priority, days in overdue_days}


def overdue_at(desk, post_ids, overdue_days, at, now_ts):
    """Iterate ``(since ts, id, post id)`` of what waited past its limit at a desk of
    ``post_ids`` at the moment ``at``, longest waiting first."""
    found, limits = [], _limits(overdue_days)
    for priority, limit in limits.items():
        for post_id in post_ids:
            for since, item_id in desk.held([post_id], oldest_first=True,
                                            priorities=(priority,), before=at - limit):
                found.append((since, item_id, post_id))
    if at < now_ts:
        for post_id in post_ids:
            for left, since, priority, item_id in desk.stays_left_after([post_id], at):
                if left > at and since < at - limits.get(priority, 7 * DAY):
                    found.append((since, item_id, post_id))
    found.sort()
    return found


def overdue_trend(desk, post_ids, overdue_days, now_ts, weeks=WEEKS):
    """``[(day, count)]`` oldest first: how many items were overdue at each week's end.

    Per moment, range counts of what is held now, and one pass over the stays of a day
    or more completed since the oldest moment (shorter ones are never overdue)."""
    ends = week_ends(now_ts, weeks)
    limits = _limits(overdue_days)
    counts = [0] * len(ends)
    for i, (_day, at) in enumerate(ends):
        for priority, limit in limits.items():
            counts[i] += desk.held_count(post_ids, priorities=(priority,), before=at - limit)
    oldest = ends[0][1]
    for left, since, priority, _id in desk.stays_left_after(post_ids, oldest):
        limit = limits.get(priority, 7 * DAY)
        for i, (_day, at) in enumerate(ends):
            if left > at and since < at - limit:
                counts[i] += 1
    return [(day, n) for (day, _at), n in zip(ends, counts)]


def duration_words(seconds):
    """A stay in words an officer reads at a glance: days past a day, hours below."""
    if seconds is None:
        return None
    if seconds >= DAY:
        days = round(seconds / DAY, 1)
        return _('${n} days', mapping={'n': f'{days:g}'}) if days != 1 else _('1 day')
    hours = int(seconds // 3600)
    if hours >= 1:
        return _('${n} hours', mapping={'n': hours}) if hours != 1 else _('1 hour')
    minutes = int(seconds // 60)
    if minutes >= 1:
        return _('${n} minutes', mapping={'n': minutes}) if minutes != 1 else _('1 minute')
    return _('under a minute')


def stays(item, now_ts):
    """An item's stays at each desk, from its movement register, oldest first:
    ``[{'post', 'title', 'since', 'until', 'seconds', 'now'}]``.  The stay it is in now
    (if it is at a desk) ends now; the record room and the department's records are
    not desks and do not count."""
    movements = list(item.movements)
    result = []
    if movements:
        post, title = movements[0].from_post, movements[0].from_title
    else:
        post, title = item.holder, None
    since = item.created_at.timestamp()
    for m in movements:
        at = m.at.timestamp()
        if post and m.from_post == post:
            result.append({'post': post, 'title': m.from_title, 'since': since, 'until': at,
                           'seconds': max(0.0, at - since), 'now': False})
        post, title, since = (m.to_post, m.to_title, at) if m.to_post else (None, None, at)
    if post:
        result.append({'post': post, 'title': title, 'since': since, 'until': now_ts,
                       'seconds': max(0.0, now_ts - since), 'now': True})
    return result


# geometry -------------------------------------------------------------------------
def bars(values, rtl=False, width=100.0):
    """Horizontal bars on a ``width``-wide axis: ``[(x, w)]`` for ``values`` (numbers
    or None), the largest filling the axis.  Right to left, bars grow from the right."""
    top = max((v for v in values if v), default=0)
    out = []
    for v in values:
        w = round(width * v / top, 2) if top and v else 0.0
        out.append((round(width - w, 2) if rtl else 0.0, w))
    return out


def columns(values, height=100.0):
    """Columns on a ``height``-high axis: ``[(y, h)]``, the largest filling it."""
    top = max(values, default=0)
    out = []
    for v in values:
        h = round(height * v / top, 2) if top and v else 0.0
        out.append((round(height - h, 2), h))
    return out


def segments(seconds, rtl=False, width=100.0, least=0.6):
    """A stacked bar of ``seconds`` (each stay) across ``width``: ``[(x, w)]`` in order,
    from the left (from the right when ``rtl``); every stay gets at least ``least`` so
    a short one still shows."""
    total = sum(seconds)
    n = len(seconds)
    if not n:
        return []
    if not total:
        shares = [width / n] * n
    else:
        room = width - least * n
        shares = [least + room * s / total for s in seconds] if room > 0 else [width / n] * n
    out, x = [], 0.0
    for w in shares:
        out.append((round(width - x - w, 2) if rtl else round(x, 2), round(w, 2)))
        x += w
    return out
