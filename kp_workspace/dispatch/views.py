"""The dispatch register's pages and API: thin views over :mod:`kp_workspace.dispatch`.

Browser: dispatching an issued draft from its file page (or, for the registry, from
the register's list of documents awaiting dispatch), the department's register with
filters and a CSV export, and acknowledgements.  API: the register, dispatching a
draft, recording an acknowledgement.
"""
import csv
import datetime
import io
import itertools

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.response import Response
from pyramid.view import view_config

from ..errors import DomainError
from ..i18n import display_title, format_when
from ..security.roles import VIEW
from ..site import get_site
from ..views.admin.audit import safe_cell
from ..views.api import api_config, json_body
from ..views.auditing import refused
from ..views.layout import flash
from ..views.params import day, offset_and_limit, whole_number
from ..views.work import officer_for
from . import (MODE_TITLES, MODES, acknowledge, dispatch, find_document, find_entry,
               may_keep_register, may_see)
from .pages import dispatch_form, entry_json, entry_row, may_dispatch

_ = TranslationStringFactory('kp_workspace')
PAGE = 50
CSV_ROWS = 20000
UTC = datetime.timezone.utc
CSV_COLUMNS = ('dispatch_no', 'dispatched_at', 'document_no', 'subject', 'file', 'mode',
               'addressee', 'to_or_copy', 'emails', 'dispatched_by', 'remarks',
               'received_on', 'acknowledgement_remarks')


# --- the register: who, which entries -------------------------------------------------------

def _register_department(request, key):
    site = get_site(request)
    dept = site['departments'].get(request.matchdict[key])
    if dept is None:
        raise HTTPNotFound()
    if not may_keep_register(officer_for(request), dept.__name__):
        raise HTTPForbidden()
    return dept


class Wanted:
    """The register's filters, checked (:raises DomainError: 400)."""

    def __init__(self, request):
        since, until = day(request, 'since'), day(request, 'until')
        if since and until and since > until:
            raise DomainError(_('The first date is after the last one.'), field='since')
        self.since, self.until = since, until
        self.mode = request.params.get('mode', '').strip()
        if self.mode and self.mode not in MODES:
            raise DomainError(_('Choose one of: ${choices}.',
                                mapping={'choices': ', '.join(MODES)}), field='mode')
        self.pending = request.params.get('pending', '') in ('1', 'true', 'on', 'yes')

    def query(self):
        return {k: v for k, v in (('since', self.since.isoformat() if self.since else ''),
                                  ('until', self.until.isoformat() if self.until else ''),
                                  ('mode', self.mode), ('pending', '1' if self.pending else ''))
                if v}

    def walk(self, site, officer, register):
        """``(entry, casefile)`` newest first that match and that ``officer`` may see
        (the dates and "pending" are ranges of the register's trees; the mode and who
        may see are checked entry by entry)."""
        if register is None:
            return
        since = datetime.datetime.combine(self.since, datetime.time(), UTC) \
            if self.since else None
        until = datetime.datetime.combine(self.until + datetime.timedelta(days=1),
                                          datetime.time(), UTC) if self.until else None
        for entry in register.entries(since, until, self.pending):
            if self.mode and entry.mode != self.mode:
                continue
            casefile = site.desk.items.get(entry.file_id)
            if casefile is not None and may_see(officer, casefile):
                yield entry, casefile


def _page_of(request, dept, wanted, offset, limit):
    officer = officer_for(request)
    register = officer.site.dispatch.register(dept.__name__)
    found = list(itertools.islice(wanted.walk(officer.site, officer, register),
                                  offset, offset + limit + 1))
    return found[:limit], len(found) > limit, register


# --- browser ---------------------------------------------------------------------------------

@view_config(route_name='department_dispatch', permission=VIEW,
             renderer='kp_workspace:dispatch/templates/register.pt')
def register_page(request):
    return _register_data(request)


def _register_data(request, error=None):
    dept = _register_department(request, 'name')
    officer = officer_for(request)
    translate = request.localizer.translate
    try:
        wanted = Wanted(request)
    except DomainError as err:
        request.response.status = 400
        error = translate(err.message)
        wanted = Wanted.__new__(Wanted)
        wanted.since = wanted.until = None
        wanted.mode, wanted.pending = '', False
    if request.params.get('format') == 'csv' and error is None and request.method == 'GET':
        return _csv(request, dept, wanted)
    offset = whole_number(request, 'offset', 0)
    rows, more, register = _page_of(request, dept, wanted, offset, PAGE)
    entries = []
    for entry, casefile in rows:
        ack_url = (request.route_url('department_dispatch_acknowledgements',
                                     name=dept.__name__, entry=entry.id)
                   if may_dispatch(casefile, officer) else None)
        file_url = (request.route_url('file', id=casefile.id)
                    if officer.can_view(casefile) else None)
        entries.append(entry_row(request, entry, ack_url, file_url))
    awaiting = []
    for _address, casefile, draft in awaiting_documents(officer, register):
        if may_dispatch(casefile, officer):
            url = request.route_url('file_draft_dispatch', id=casefile.id, draft=draft.id)
            awaiting.append({'number': draft.number, 'subject': draft.subject,
                             'issued': format_when(request, draft.issued_at),
                             'form': dispatch_form(request, casefile, draft, url)})
    query = wanted.query()
    return {
        'title': translate(_('Dispatch register: ${department}',
                             mapping={'department': display_title(dept, request)})),
        'error': error, 'entries': entries, 'awaiting': awaiting,
        'filter': {'since': query.get('since', ''), 'until': query.get('until', ''),
                   'mode': wanted.mode, 'pending': wanted.pending},
        'modes': [(m, translate(MODE_TITLES[m])) for m in MODES],
        'action_url': request.route_url('department_dispatch', name=dept.__name__),
        'csv_url': request.route_url('department_dispatch', name=dept.__name__,
                                     _query={**query, 'format': 'csv'}),
        'next_url': request.route_url('department_dispatch', name=dept.__name__,
                                      _query={**query, 'offset': offset + PAGE})
        if more else None,
        'today': datetime.date.today().isoformat(),
    }


def _csv(request, dept, wanted):
    officer = officer_for(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    register = officer.site.dispatch.register(dept.__name__)
    for entry, casefile in wanted.walk(officer.site, officer, register):
        if rows >= CSV_ROWS:
            writer.writerow([f'# stopped after {CSV_ROWS} rows: narrow the filter'])
            break
        for i, (line, role) in enumerate(entry.recipients):
            ack = entry.acknowledgements.get(i)
            writer.writerow([safe_cell(v) for v in (
                entry.number, entry.at.strftime('%Y-%m-%d %H:%M UTC'), entry.doc_number,
                entry.subject, casefile.number, entry.mode, line, role,
                ' '.join(entry.emails), entry.by, entry.remarks,
                ack.received_on.isoformat() if ack else '', ack.remarks if ack else '')])
            rows += 1
    officer.actor.record('dispatch.exported', f'department:{dept.__name__}', rows=rows,
                         **{f'filter_{k}': v for k, v in wanted.query().items()})
    response = Response(body=out.getvalue().encode('utf-8'), content_type='text/csv',
                        charset='utf-8')
    response.content_disposition = (f'attachment; filename="dispatch-{dept.__name__}.csv"')
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['Cache-Control'] = 'no-store'
    return response


@view_config(route_name='file_draft_dispatch', permission=VIEW, request_method='POST')
def dispatch_from_page(request):
    """Dispatch from the file page (its holder) or the register (the registry): back to
    the page it came from; a refusal is shown there (or as an error page)."""
    officer = officer_for(request)
    site = get_site(request)
    casefile, draft = find_document(site, f"{request.matchdict['id']}-"
                                          f"{request.matchdict['draft']}", officer)
    on_file = officer.can_view(casefile) and request.POST.get('from') != 'register'
    try:
        entry = dispatch(casefile, draft, officer, request.POST.get('mode', ''),
                         recipients=request.POST.getall('recipients'),
                         emails=request.POST.get('emails', ''),
                         remarks=request.POST.get('remarks', ''))
    except DomainError as err:
        if on_file:
            from ..views.files import _render_error
            return _render_error(request, casefile, err, 'kp_workspace:templates/file.pt')
        message = refused(request, err)
        request.response.status = err.status
        return _register_with_error(request, casefile.department, message)
    flash(request, _('Dispatched as No. ${number} (${mode}).',
                     mapping={'number': entry.number, 'mode': MODE_TITLES[entry.mode]}))
    if on_file:
        return HTTPSeeOther(request.route_url('file', id=casefile.id))
    return HTTPSeeOther(request.route_url('department_dispatch', name=casefile.department))


def _register_with_error(request, department, message):
    from pyramid.renderers import render_to_response
    request.matchdict = dict(request.matchdict, name=department)
    status = request.response.status
    data = _register_data(request, error=message)
    response = render_to_response('kp_workspace:dispatch/templates/register.pt', data,
                                  request=request, response=request.response)
    response.status = status
    return response


@view_config(route_name='department_dispatch_acknowledgements', permission=VIEW,
             request_method='POST')
def acknowledge_from_page(request):
    dept = _register_department(request, 'name')
    officer = officer_for(request)
    entry, casefile = find_entry(officer.site, dept.__name__, request.matchdict['entry'],
                                 officer)
    try:
        acknowledge(entry, casefile, officer, request.POST.get('recipient', ''),
                    request.POST.get('received_on', ''), request.POST.get('remarks', ''))
    except DomainError as err:
        message = refused(request, err)
        return _register_with_error(request, dept.__name__, message)
    flash(request, _('Acknowledgement recorded on dispatch No. ${number}.',
                     mapping={'number': entry.number}))
    return HTTPSeeOther(request.route_url('department_dispatch', name=dept.__name__))


# --- API ---------------------------------------------------------------------------------------

def awaiting_documents(officer, register):
    """``(address, file, draft)`` of the register's issued documents awaiting dispatch
    that ``officer`` may see."""
    for address in (register.awaiting() if register is not None else ()):
        try:
            casefile, draft = find_document(officer.site, address, officer)
        except DomainError:
            continue
        yield address, casefile, draft


@view_config(**api_config(route_name='api_department_dispatch', request_method='GET',
                          permission=VIEW))
def api_register(request):
    dept = _register_department(request, 'department_id')
    officer = officer_for(request)
    wanted = Wanted(request)
    offset, limit = offset_and_limit(request)
    rows, more, register = _page_of(request, dept, wanted, offset, limit)
    awaiting = []
    for address, _casefile, draft in awaiting_documents(officer, register):
        awaiting.append({'draft': address, 'number': draft.number, 'subject': draft.subject,
                         'kind': draft.kind, 'issued_at': draft.issued_at.isoformat()})
    return {'items': [entry_json(e) for e, _c in rows], 'more': more, 'awaiting': awaiting}


@view_config(**api_config(route_name='api_draft_dispatch', request_method='POST',
                          permission=VIEW))
def api_dispatch(request):
    officer = officer_for(request)
    casefile, draft = find_document(get_site(request), request.matchdict['id'], officer)
    body = json_body(request)
    entry = dispatch(casefile, draft, officer, body.get('mode'),
                     recipients=body.get('recipients'), emails=body.get('emails', ''),
                     remarks=body.get('remarks', ''))
    request.response.status = 201
    return entry_json(entry)


@view_config(**api_config(route_name='api_dispatch_acknowledgements', request_method='POST',
                          permission=VIEW))
def api_acknowledge(request):
    dept = _register_department(request, 'department_id')
    officer = officer_for(request)
    entry, casefile = find_entry(officer.site, dept.__name__, request.matchdict['entry'],
                                 officer)
    body = json_body(request)
    acknowledge(entry, casefile, officer, body.get('recipient'), body.get('received_on'),
                body.get('remarks', ''))
    return entry_json(entry)
