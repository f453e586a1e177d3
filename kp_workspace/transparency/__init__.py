"""Public transparency: the figures of each department's case files, for everyone.

:class:`Pendency` keeps, per department, how many case files were received (opened,
or reopened) and disposed of (closed) in each month, and the files open now keyed
by when they came, so the public figures are a handful of counter reads and range
counts, whatever the size of the archive.  It is kept current by the domain
(:func:`file_opened` from :func:`kp_workspace.content_types.movable.create`,
:func:`file_state_changed` from :func:`~kp_workspace.content_types.movable.change_state`),
so every path that opens, closes or reopens a file counts: browser, API, console
and demo alike.  Evolve step 25 fills it for a site that had files before it.

Only counts leave here: never a file's subject, number, post, holder or person.
Confidential and secret files are counted with the routine ones and never told
apart (no figure is broken down by classification, priority, post or person), so
a count cannot reveal that a secret file exists, and the totals cannot be
compared with another count to find the secret ones.  Months are the finest grain
of the history; the pending files are told only by age band.

The public pages and the JSON under ``/api/v1/public`` are in :mod:`.views`.
"""
import datetime

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('kp_workspace')

DAY = 86400.0
UTC = datetime.timezone.utc
# (name, from days, to days or None): a file open 7.9 days is in '0-7', 8 days in '8-15'
AGE_BANDS = (('0-7', 0, 8), ('8-15', 8, 16), ('16-30', 16, 31), ('31-', 31, None))
BAND_TITLES = {'0-7': _('Up to 7 days'), '8-15': _('8 to 15 days'),
               '16-30': _('16 to 30 days'), '31-': _('Over 30 days')}
MONTHS = 12          # the months of history the public figures show
_LAST = '\U0010ffff'  # (after every item id: a range bound that takes every id at a time)


def month_of(at):
    """``'YYYY-MM'`` of ``at`` (a datetime or a timestamp), in UTC."""
    if not isinstance(at, datetime.datetime):
        at = datetime.datetime.fromtimestamp(at, UTC)
    at = at.astimezone(UTC) if at.tzinfo else at
    return f'{at.year:04d}-{at.month:02d}'


def last_months(now_ts, count=MONTHS):
    """``count`` months ending with the month of ``now_ts``, oldest first (``'YYYY-MM'``)."""
    today = datetime.datetime.fromtimestamp(now_ts, UTC)
    year, month = today.year, today.month
    found = []
    for _i in range(count):
        found.append(f'{year:04d}-{month:02d}')
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


class Pendency(Persistent):
    """Each department's case files as counts: received and disposed of per month, and
    the open ones by when they came (opened, or last reopened).

    Counters are :class:`~BTrees.Length.Length` (concurrent changes add up) and the
    open files sets of ``(since ts, id)`` (concurrent inserts of different keys merge),
    so two officers closing files at once do not conflict here.
    """

    def __init__(self):
        super().__init__()
        self._months = OOBTree()   # (department, 'YYYY-MM', 'received'|'disposed') -> Length
        self._open = OOBTree()     # department -> OOTreeSet((since ts, file id))
        self._since = OOBTree()    # file id -> (department, since ts): its key in _open
        self._pending = OOBTree()  # department -> Length: how many are in _open (a set's
        #                            len() walks all its buckets; this is read at once)

    def _pending_length(self, department):
        length = self._pending.get(department)
        if length is None:
            length = self._pending[department] = Length(0)
        return length

    def _add(self, department, month, event):
        key = (department, month, event)
        length = self._months.get(key)
        if length is None:
            length = self._months[key] = Length(0)
        length.change(1)

    def received(self, department, file_id, at):
        """The file ``file_id`` came to ``department`` (opened or reopened) at ``at``
        (a datetime): counted in its month, and open from then."""
        if file_id in self._since:   # (open already: counted once)
            return
        ts = at.timestamp()
        self._add(department, month_of(at), 'received')
        found = self._open.get(department)
        if found is None:
            found = self._open[department] = OOTreeSet()
        found.add((ts, file_id))
        self._since[file_id] = (department, ts)
        self._pending_length(department).change(1)

    def disposed(self, file_id, at):
        """The file ``file_id`` was disposed of (closed) at ``at``: counted in its month
        for the department it came to, and no longer open.  A file not counted open
        changes nothing."""
        entry = self._since.get(file_id)
        if entry is None:
            return
        department, ts = entry
        del self._since[file_id]
        found = self._open.get(department)
        if found is not None:
            found.discard((ts, file_id))
        self._pending_length(department).change(-1)
        self._add(department, month_of(at), 'disposed')

    def redate_disposal(self, department, was, now_at):
        """A disposal counted in the month of ``was`` belongs to the month of ``now_at``
        (a file written as closed earlier than it was: the demo's old files)."""
        old = self._months.get((department, month_of(was), 'disposed'))
        if old is not None and old() > 0:
            old.change(-1)
            self._add(department, month_of(now_at), 'disposed')

    # reading ------------------------------------------------------------------------
    def count(self, department, month, event):
        length = self._months.get((department, month, event))
        return length() if length is not None else 0

    def pending(self, department):
        """How many of ``department``'s files are open now."""
        length = self._pending.get(department)
        return length() if length is not None else 0

    def by_age(self, department, now_ts):
        """``[(band name, count)]``: the open files of ``department`` by how many whole
        days ago they came.  The bands of the last 30 days are counted by the set's own
        range lengths (they walk only those files); the oldest is what remains of the
        files open (however many the archive holds, it is not walked)."""
        found = self._open.get(department)
        counts = []
        for name, low, high in AGE_BANDS:
            if not found:
                counts.append((name, 0))
            elif high is None:   # (the last band: the rest)
                counts.append((name, max(0, self.pending(department) -
                                         sum(n for _name, n in counts))))
            else:   # came after now - high days, and at or before now - low days
                bounds = {'min': (now_ts - high * DAY, _LAST), 'excludemin': True}
                if low:
                    bounds['max'] = (now_ts - low * DAY, _LAST)
                counts.append((name, len(found.keys(**bounds))))
        return counts

    def months(self, department, now_ts, count=MONTHS):
        """``[(month, received, disposed, pending at its end)]`` for the ``count`` months
        up to now, oldest first (the current month's "end" is now): worked back from the
        files open now, month by month."""
        months = last_months(now_ts, count)
        rows = []
        pending = self.pending(department)
        for month in reversed(months):
            received = self.count(department, month, 'received')
            disposed = self.count(department, month, 'disposed')
            rows.append((month, received, disposed, pending))
            pending = max(0, pending - received + disposed)
        return rows[::-1]


def pendency(site):
    """The site's :class:`Pendency`, or None before evolve step 25 made it (its fill then
    counts what happened before)."""
    return getattr(site, 'pendency', None)


def file_opened(site, item):
    """Count a file (a case file; other items are not counted) opened in its department."""
    figures = pendency(site)
    if figures is not None and item.kind == 'file':
        figures.received(item.department, item.id, item.created_at)


def file_state_changed(site, item, old, new, at):
    """Count a case file closed (disposed of) or reopened (received again) at ``at``."""
    figures = pendency(site)
    if figures is None or item.kind != 'file' or old == new:
        return
    if new == 'closed':
        figures.disposed(item.id, at)
    elif new == 'open' and old == 'closed':
        figures.received(item.department, item.id, at)


def fill(site, figures):
    """Count every case file there is into ``figures`` (new): each opening, each close
    and reopen in its movement register, and the open ones by when they last came.
    Walks every file once (an evolve step's work, not a page's)."""
    for item in site.desk.items.values():
        if getattr(item, 'kind', None) != 'file':
            continue
        figures.received(item.department, item.id, item.created_at)
        for line in item.movements:
            if line.action == 'close':
                figures.disposed(item.id, line.at)
            elif line.action == 'reopen':
                figures.received(item.department, item.id, line.at)
        if item.state == 'closed' and item.id in figures._since:
            # (closed without a line saying so: closed at its last movement, or opening)
            last = item.last_movement()
            figures.disposed(item.id, last.at if last is not None else item.created_at)
        elif item.state == 'open' and item.id not in figures._since:
            figures.received(item.department, item.id,
                             datetime.datetime.fromtimestamp(item.received_at, UTC))
    return figures


def department_figures(site, department, now_ts, count=MONTHS):
    """The public figures of ``department`` (a Department): counts only.

    :returns: ``{'pending', 'age_bands': [(band, count)], 'months': [(month, received,
        disposed, pending at its end)]}`` (all zero before the counters exist).
    """
    figures = pendency(site) or Pendency()
    name = department.__name__
    return {'pending': figures.pending(name), 'age_bands': figures.by_age(name, now_ts),
            'months': figures.months(name, now_ts, count)}


def includeme(config):
    """The public pages, the Atom feed and the JSON (routes are in
    :data:`kp_workspace.views.ROUTES`)."""
    config.scan('.views')
    config.include('.views')
