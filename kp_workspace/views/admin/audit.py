"""The audit log for administrators: newest first, filtered, and as CSV.

Filters: who (the login), the object (a part of its name, e.g. ``file:F12``),
the action (its start, e.g. ``refused`` or ``file.viewed``) and a date range.
The log is read in the shards' key order (newest first) from the end of the
range back, and stops at its start, so a page costs what it reads: at most
:data:`SCAN` entries per page (a rare filter then offers to search further
back), never the whole log.  The CSV export reads the whole range, up to
:data:`CSV_ROWS` rows, and is itself recorded.
"""
import csv
import datetime
import io

from pyramid.i18n import TranslationString, TranslationStringFactory
from pyramid.response import Response
from pyramid.view import view_config

from ...audit import audit_log, actor_from_request, time_key
from ...audit.actions import action_title, party_title
from ...security.roles import VIEW_AUDIT
from . import crumbs

_ = TranslationStringFactory('kp_workspace')
PAGE = 100
SCAN = 5000        # entries read at most for one page
CSV_ROWS = 100_000  # rows at most in one export
FIELD_LIMIT = 200
UTC = datetime.timezone.utc
FIRST_DAY, LAST_DAY = datetime.date(1970, 1, 1), datetime.date(2200, 12, 31)
KEY_RANGE = (-2 ** 63, 2 ** 63 - 1)
FORMULA_START = ('=', '+', '-', '@', '\t', '\r')
COLUMNS = ('when', 'who', 'action', 'object', 'details', 'from', 'shard', 'seq', 'digest')


class BadFilter(ValueError):
    """A filter value that cannot be used; the message says how to give it."""


def _day(text, name):
    """The date in ``text`` (YYYY-MM-DD), or None when empty."""
    text = (text or '').strip()
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise BadFilter(_('Give the date as YYYY-MM-DD.'))
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadFilter(_('Give a date between 1970 and 2200.'))
    return day


def _text(params, name):
    value = params.get(name, '')
    value = value.strip() if isinstance(value, str) else ''
    if len(value) > FIELD_LIMIT:
        raise BadFilter(_('A filter is too long.'))
    return value


class Filter:
    """What the administrator asked for, checked.  :raises BadFilter:"""

    def __init__(self, params):
        self.user = _text(params, 'user')
        self.object = _text(params, 'object')
        self.action = _text(params, 'action')
        self.since = _day(params.get('since'), 'since')
        self.until = _day(params.get('until'), 'until')
        if self.since and self.until and self.since > self.until:
            raise BadFilter(_('The first date is after the last one.'))
        self.after, self.bad_cursor = None, False
        after = params.get('after')
        if after:
            try:
                self.after = int(after)
            except ValueError:
                pass
            if self.after is None or not KEY_RANGE[0] <= self.after <= KEY_RANGE[1]:
                # (an old or mangled link: the newest entries of the same filter)
                self.after, self.bad_cursor = None, True

    def query(self):
        """The filter as query parameters (for links), without the cursor."""
        return {k: v for k, v in (('user', self.user), ('object', self.object),
                                  ('action', self.action),
                                  ('since', self.since.isoformat() if self.since else ''),
                                  ('until', self.until.isoformat() if self.until else ''))
                if v}

    def matches(self, entry):
        return ((not self.user or entry.actor.lower() == self.user.lower())
                and (not self.object or self.object.lower() in entry.target.lower())
                and (not self.action or entry.action.startswith(self.action)))

    def walk(self, log):
        """``(key, entry)`` of the range, newest first, not yet filtered."""
        before = None
        if self.until is not None and self.after is None:
            before = datetime.datetime.combine(self.until + datetime.timedelta(days=1),
                                               datetime.time(), tzinfo=UTC)
        stop = (time_key(datetime.datetime.combine(self.since, datetime.time(), tzinfo=UTC))
                if self.since else None)
        for key, entry in log.walk(after=self.after, before_time=before):
            if stop is not None and key > stop:
                return
            yield key, entry


def search(log, wanted, limit=PAGE, scan=SCAN):
    """Up to ``limit`` matching entries after reading at most ``scan``.

    :returns: ``(entries, cursor, scanned_to)``: ``cursor`` continues the search
        (None at the end of the range); ``scanned_to`` is the time of the last
        entry read when the scan stopped before the page was full.
    """
    found, read = [], 0
    last_key, last = None, None
    for key, entry in wanted.walk(log):
        if len(found) == limit:
            return found, last_key, None
        if read == scan:
            return found, last_key, last.at
        read += 1
        last_key, last = key, entry
        if wanted.matches(entry):
            found.append(entry)
    return found, None, None


def safe_cell(value):
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    value = str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_row(entry):
    return [safe_cell(v) for v in (
        entry.at.strftime('%Y-%m-%d %H:%M:%S UTC'), entry.actor, entry.action, entry.target,
        entry.details_text(), entry.client, entry.shard if entry.shard is not None else '',
        entry.seq if entry.seq is not None else '', entry.digest or '')]


def _csv(request, log, wanted):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    rows = 0
    for _key, entry in wanted.walk(log):
        if not wanted.matches(entry):
            continue
        if rows == CSV_ROWS:
            writer.writerow([f'# stopped after {CSV_ROWS} rows: narrow the filter'])
            break
        writer.writerow(csv_row(entry))
        rows += 1
    actor_from_request(request).record(
        'audit.exported', 'audit', rows=rows,
        **{f'filter_{name}': value for name, value in wanted.query().items()})
    response = Response(body=out.getvalue().encode('utf-8'), content_type='text/csv',
                        charset='utf-8')
    response.content_disposition = 'attachment; filename="audit-log.csv"'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


@view_config(route_name='admin_audit', permission=VIEW_AUDIT,
             renderer='kp_workspace:templates/admin/audit.pt')
def audit(request):
    log = audit_log(request)
    translate = request.localizer.translate
    try:
        wanted = Filter(request.params)
    except BadFilter as err:
        request.response.status = 400
        wanted, error = Filter({}), translate(err.args[0])
        entries, cursor, scanned_to = [], None, None
    else:
        error = (translate(_('That page link is not valid; showing the newest entries.'))
                 if wanted.bad_cursor else None)
        if request.params.get('format') == 'csv':
            return _csv(request, log, wanted)
        entries, cursor, scanned_to = search(log, wanted)
    query = wanted.query()
    localizer = request.localizer

    def translate(text):  # titles are translation strings; stored values stay as they are
        return localizer.translate(text) if isinstance(text, TranslationString) else text

    return {
        'crumbs': crumbs(request),
        'total': len(log),
        'filter': {'user': wanted.user, 'object': wanted.object, 'action': wanted.action,
                   'since': query.get('since', ''), 'until': query.get('until', '')},
        'error': error,
        'entries': [{'at': e.at.strftime('%Y-%m-%d %H:%M:%S UTC'), 'actor': translate(party_title(e.actor)) or '—',
                     'action': e.action, 'action_title': translate(action_title(e.action)),
                     'target': e.target, 'client': translate(party_title(e.client)),
                     'details': e.details_text()} for e in entries],
        'scanned_to': scanned_to.strftime('%Y-%m-%d %H:%M UTC') if scanned_to else None,
        'next_url': (request.route_url('admin_audit', _query={**query, 'after': cursor})
                     if cursor else None),
        'csv_url': request.route_url('admin_audit', _query={**query, 'format': 'csv'}),
    }
