"""The record room's pages and API: thin views over :mod:`kp_workspace.recordroom`.

Browser: a department's record room (files due for weeding, weeding lists, legal
holds, destroyed files), a weeding list's page and its steps (approve with the
signing PIN, reject, carry out after a confirmation), its signed PDF, placing and
lifting holds.  API: the same under ``/api/v1/departments/{id}/...``.
"""
import datetime

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from ..content_types.casefile import CLASSIFICATION_TITLES
from ..errors import DomainError
from ..i18n import display_title, format_when
from ..search.engine import QueryError
from ..search.query import search
from ..security.roles import VIEW
from ..signing import WrongPin, context_from_settings, read_pdf
from ..site import get_site
from ..views.api import api_config, json_body
from ..views.auditing import refused
from ..views.confirm import ask, confirmed
from ..views.errors import error_response
from ..views.layout import flash
from ..views.params import offset_and_limit, whole_number
from ..views.work import iso, officer_for, pdf_response
from . import (LIST_STATES, MAX_HOLD_SEARCH, approve, carry_out, class_titles, due_files,
               find_by_number, find_list, lift_hold, may_approve, may_enter, may_lift,
               may_propose, may_read_pdf, place_holds, propose, record_room, reject, shows_subject,
               weed_from)

_ = TranslationStringFactory('kp_workspace')
PAGE = 100
SHOWN = 50
HOLDS_SHOWN = 100
OUTCOME_TITLES = {'destroyed': _('destroyed'), 'held': _('kept: under a legal hold'),
                  'reopened': _('kept: no longer due'), 'gone': _('no longer there')}
ACTIONS = ('approve', 'reject', 'carry_out')


def _today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def _years(request):
    return request.registry.kpw_settings.retention_years


def room_department(request, key='name'):
    """The department the address names (404) whose record room the user may enter (403)."""
    site = get_site(request)
    dept = site['departments'].get(request.matchdict[key])
    if dept is None or record_room(site) is None:
        raise HTTPNotFound()
    if not may_enter(officer_for(request), dept.__name__):
        raise HTTPForbidden()
    return dept


# --- what is shown ----------------------------------------------------------------------------

def _subject(officer, department, classification, subject):
    return subject if shows_subject(officer, department, classification) else None


def due_json(request, casefile):
    day = weed_from(casefile, _years(request))
    return {'id': casefile.id, 'number': casefile.number, 'subject': casefile.subject,
            'classification': casefile.classification, 'record_class': casefile.record_class,
            'closed_at': iso(casefile.closed_at),
            'weed_from': day.isoformat() if day else None}


def list_json(request, wlist):
    officer = officer_for(request)
    return {
        'id': wlist.id, 'number': wlist.number, 'department': wlist.department,
        'state': wlist.state, 'remarks': wlist.remarks,
        'proposed_by': wlist.proposed_by, 'proposed_at': iso(wlist.proposed_at),
        'approved_by': wlist.approved_by, 'approved_at': iso(wlist.approved_at),
        'rejected_by': wlist.rejected_by, 'rejected_at': iso(wlist.rejected_at),
        'reason': wlist.reason, 'weeded_by': wlist.weeded_by, 'weeded_at': iso(wlist.weeded_at),
        'signed_pdf': wlist.pdf is not None,
        'files': [{'id': e.file_id, 'number': e.number,
                   'subject': _subject(officer, wlist.department, e.classification, e.subject),
                   'classification': e.classification, 'record_class': e.record_class,
                   'closed_at': iso(e.closed_at), 'outcome': wlist.outcome.get(e.file_id)}
                  for e in wlist.entries]}


def hold_json(site, file_id, hold):
    casefile = site.desk.items.get(file_id)
    return {'file': file_id, 'number': casefile.number if casefile is not None else '',
            'reason': hold.reason, 'by': hold.by, 'at': iso(hold.at)}


def tombstone_json(officer, t):
    return {'id': t.file_id, 'number': t.number,
            'subject': _subject(officer, t.department, t.classification, t.subject),
            'classification': t.classification, 'record_class': t.record_class,
            'closed_at': iso(t.closed_at), 'list': t.list_number,
            'approved_by': t.approved_by, 'approved_at': iso(t.approved_at),
            'destroyed_by': t.destroyed_by, 'destroyed_at': iso(t.destroyed_at)}


def record_class_choices(request):
    translate = request.localizer.translate
    return [(c, translate(t)) for c, t in class_titles(_years(request)).items()]


def record_facts(request, officer, casefile):
    """What a closed file's page says of its keeping (None for an open file without a
    hold): its class, when it may be weeded, its legal hold."""
    site = officer.site
    room = record_room(site)
    hold = room.hold_of(casefile.id) if room is not None else None
    if casefile.state != 'closed' and hold is None:
        return None
    translate = request.localizer.translate
    day = weed_from(casefile, _years(request))
    titles = class_titles(_years(request))
    return {
        'class_title': translate(_('Record class ${title}', mapping={
            'title': translate(titles[casefile.record_class or 'A'])}))
        if casefile.state == 'closed' else translate(_('Open file')),
        'weed_from': translate(_('may be weeded from ${date}',
                                 mapping={'date': day.isoformat()})) if day else '',
        'hold': translate(_('Under a legal hold: ${reason}', mapping={'reason': hold.reason}))
        if hold is not None else '',
        'room_url': request.route_url('department_records', name=casefile.department)
        if may_enter(officer, casefile.department) else None,
    }


def _take(iterator, offset, limit):
    found = []
    for n, value in enumerate(iterator):
        if n < offset:
            continue
        if len(found) == limit:
            return found, True
        found.append(value)
    return found, False


def _withheld(request):
    return request.localizer.translate(_('(confidential: subject withheld)'))


# --- the record room page ---------------------------------------------------------------------

@view_config(route_name='department_records', permission=VIEW,
             renderer='kp_workspace:recordroom/templates/room.pt')
def room_page(request):
    return _room_data(request)


def _room_data(request, error=None):
    dept = room_department(request)
    officer = officer_for(request)
    site = officer.site
    room = site.recordroom
    translate = request.localizer.translate
    name = dept.__name__
    offset = whole_number(request, 'offset', 0)
    due, more = due_files(site, officer, name, _years(request), _today(), PAGE, offset)
    lists_from = whole_number(request, 'lists', 0)
    holds_from = whole_number(request, 'holds', 0)
    lists, more_lists = _take(room.lists(name), lists_from, SHOWN)
    holds, more_holds = _take(room.holds(name), holds_from, HOLDS_SHOWN)
    tombs, more_tombs = _take(room.tombstones(name), whole_number(request, 'tombs', 0), SHOWN)
    withheld = _withheld(request)
    url = request.route_url
    return {
        'title': translate(_('Record room: ${department}',
                             mapping={'department': display_title(dept, request)})),
        'error': error,
        'classes': [translate(t) for t in class_titles(_years(request)).values()],
        'due': [{'id': f.id, 'number': f.number, 'subject': f.subject,
                 'url': url('file', id=f.id), 'class': f.record_class,
                 'classification': translate(CLASSIFICATION_TITLES[f.classification])
                 if f.classification != 'routine' else '',
                 'closed': format_when(request, f.closed_at, time=False)} for f in due],
        'due_next': url('department_records', name=name, _query={'offset': offset + PAGE})
        if more else None,
        'may_propose': may_propose(officer, name),
        'propose_url': url('department_records_lists', name=name),
        'lists': [{'number': w.number, 'url': url('department_records_list', name=name,
                                                   list=w.id),
                   'state': translate(LIST_STATES[w.state]), 'files': len(w.entries),
                   'proposed': format_when(request, w.proposed_at),
                   'by': w.proposed_by_name} for w in lists],
        'lists_next': url('department_records', name=name,
                          _query={'lists': lists_from + SHOWN}) if more_lists else None,
        'holds_next': url('department_records', name=name,
                          _query={'holds': holds_from + HOLDS_SHOWN}) if more_holds else None,
        'holds': [{'number': h['number'], 'reason': h['reason'],
                   'url': url('file', id=file_id),
                   'by': hold.by_name, 'at': format_when(request, hold.at),
                   'lift_url': url('department_records_hold_lift', name=name, file=file_id)}
                  for file_id, hold in holds
                  for h in (hold_json(site, file_id, hold),)],
        'hold_url': url('department_records_holds', name=name),
        'may_lift': may_lift(officer, name),
        'max_hold_search': MAX_HOLD_SEARCH,
        'tombstones': [{'number': t.number,
                        'subject': _subject(officer, name, t.classification, t.subject)
                        or withheld,
                        'class': t.record_class, 'list': t.list_number,
                        'list_url': url('department_records_list', name=name, list=t.list_id),
                        'approved_by': t.approved_by_name,
                        'destroyed': format_when(request, t.destroyed_at),
                        'closed': format_when(request, t.closed_at, time=False)}
                       for t in tombs],
        'tombs_next': url('department_records', name=name,
                          _query={'tombs': whole_number(request, 'tombs', 0) + SHOWN})
        if more_tombs else None,
    }


def _with_error(request, err, template, data):
    """The page ``template`` again, with the refusal ``err`` said on it (its status)."""
    message = refused(request, err)
    status = request.response.status
    response = render_to_response(f'kp_workspace:recordroom/templates/{template}',
                                  data(request, error=message), request=request,
                                  response=request.response)
    response.status = status
    return response


def _room_with_error(request, err):
    return _with_error(request, err, 'room.pt', _room_data)


@view_config(route_name='department_records_lists', permission=VIEW, request_method='POST')
def propose_from_page(request):
    dept = room_department(request)
    officer = officer_for(request)
    try:
        wlist = propose(officer.site, officer, dept.__name__, request.POST.getall('files'),
                        _years(request), request.POST.get('remarks', ''))
    except DomainError as err:
        return _room_with_error(request, err)
    flash(request, _('Weeding list ${number} proposed: ${n} file(s). An approver of the '
                     'department approves and signs it next.',
                     mapping={'number': wlist.number, 'n': len(wlist.entries)}))
    return HTTPSeeOther(request.route_url('department_records_list', name=dept.__name__,
                                          list=wlist.id))


def _hold_targets(request, officer, department, number, query):
    """The ids a hold covers: the file numbered ``number``, or every file of the
    department the search ``query`` finds (that the officer may open)."""
    if isinstance(number, str) and number.strip():
        return [find_by_number(officer.site, officer, department, number).id]
    if not isinstance(query, str) or not query.strip():
        raise DomainError(_('Give a file number or search words.'), field='number')
    found = []
    page = 1
    while True:
        try:
            # (every document, the files' correspondence and drafts too, not only the
            # file's own: a case number is often only in a letter)
            results = search(request.registry.kpw_search, officer, query,
                             {'department': department}, page=page, pagelen=100)
        except QueryError:
            raise DomainError(_('The search could not be understood. Check the quotes and '
                                'brackets, or search plain words.'), field='query')
        items = officer.site.desk.items
        for hit in results.hits:
            if hit.item not in found and items[hit.item].kind == 'file':
                found.append(hit.item)
        if len(found) > MAX_HOLD_SEARCH:
            raise DomainError(_('The search finds more than ${n} files: narrow it, nothing '
                                'was held.', mapping={'n': MAX_HOLD_SEARCH}), field='query')
        if page >= results.pages:
            return found
        page += 1


@view_config(route_name='department_records_holds', permission=VIEW, request_method='POST')
def hold_from_page(request):
    dept = room_department(request)
    officer = officer_for(request)
    try:
        ids = _hold_targets(request, officer, dept.__name__, request.POST.get('number'),
                            request.POST.get('query'))
        placed, already = place_holds(officer.site, officer, dept.__name__, ids,
                                      request.POST.get('reason', ''))
    except DomainError as err:
        return _room_with_error(request, err)
    flash(request, _('Legal hold placed on ${n} file(s); ${m} were held already.',
                     mapping={'n': len(placed), 'm': len(already)}))
    return HTTPSeeOther(request.route_url('department_records', name=dept.__name__))


@view_config(route_name='department_records_hold_lift', permission=VIEW,
             request_method='POST')
def lift_from_page(request):
    dept = room_department(request)
    officer = officer_for(request)
    try:
        lift_hold(officer.site, officer, dept.__name__, request.matchdict['file'],
                  request.POST.get('reason', ''))
    except DomainError as err:
        return _room_with_error(request, err)
    flash(request, _('Legal hold lifted.'))
    return HTTPSeeOther(request.route_url('department_records', name=dept.__name__))


# --- a weeding list ----------------------------------------------------------------------------

def _list_for(request, key='name'):
    dept = room_department(request, key)
    officer = officer_for(request)
    return dept, find_list(officer.site, officer, dept.__name__, request.matchdict['list'])


@view_config(route_name='department_records_list', permission=VIEW,
             renderer='kp_workspace:recordroom/templates/list.pt')
def list_page(request):
    return _list_data(request)


def _list_data(request, error=None):
    dept, wlist = _list_for(request)
    officer = officer_for(request)
    translate = request.localizer.translate
    name = dept.__name__
    withheld = _withheld(request)
    action = (lambda a: request.route_url('department_records_list_action', name=name,
                                          list=wlist.id, action=a))
    proposed = wlist.state == 'proposed'
    return {
        'title': translate(_('Weeding list ${number}', mapping={'number': wlist.number})),
        'error': error, 'number': wlist.number,
        'state': translate(LIST_STATES[wlist.state]), 'remarks': wlist.remarks,
        'room_url': request.route_url('department_records', name=name),
        'proposed': translate(_('Proposed by ${name} on ${when}.', mapping={
            'name': wlist.proposed_by_name, 'when': format_when(request, wlist.proposed_at)})),
        'approved': translate(_('Approved and signed by ${name} on ${when}.', mapping={
            'name': wlist.approved_by_name, 'when': format_when(request, wlist.approved_at)}))
        if wlist.approved_at else None,
        'rejected': translate(_('Rejected on ${when}: ${reason}', mapping={
            'when': format_when(request, wlist.rejected_at), 'reason': wlist.reason}))
        if wlist.rejected_at else None,
        'weeded': translate(_('Carried out on ${when}.', mapping={
            'when': format_when(request, wlist.weeded_at)})) if wlist.weeded_at else None,
        'entries': [{'number': e.number,
                     'subject': _subject(officer, name, e.classification, e.subject)
                     or withheld,
                     'url': request.route_url('file', id=e.file_id)
                     if e.file_id in officer.site.desk.items else None,
                     'class': e.record_class,
                     'closed': format_when(request, e.closed_at, time=False),
                     'outcome': translate(OUTCOME_TITLES[wlist.outcome[e.file_id]])
                     if e.file_id in wlist.outcome else ''}
                    for e in wlist.entries],
        'pdf_url': request.route_url('department_records_list_pdf', name=name, list=wlist.id)
        if wlist.pdf is not None and may_read_pdf(officer, wlist) else None,
        'approve_url': action('approve')
        if proposed and may_approve(officer, name) and wlist.proposed_by != officer.login
        else None,
        'reject_url': action('reject')
        if wlist.state in ('proposed', 'approved') and may_lift(officer, name) else None,
        'carry_out_url': action('carry_out') if wlist.state == 'approved' else None,
    }


def _list_with_error(request, err):
    return _with_error(request, err, 'list.pt', _list_data)


def run_list_action(request, wlist, action, body):
    officer = officer_for(request)
    site = officer.site
    if action == 'approve':
        return approve(site, officer, wlist, _years(request), body.get('pin'),
                       context_from_settings(request.registry.kpw_settings))
    if action == 'reject':
        return reject(site, officer, wlist, body.get('reason', ''))
    if action == 'carry_out':
        return carry_out(site, officer, wlist, _years(request))
    raise HTTPNotFound()


@view_config(route_name='department_records_list_action', permission=VIEW,
             request_method='POST')
def list_action_from_page(request):
    dept, wlist = _list_for(request)
    action = request.matchdict['action']
    if action not in ACTIONS:
        raise HTTPNotFound()
    if action == 'carry_out' and not confirmed(request):
        return ask(request, request.localizer.translate(_(
            'Carry out weeding list ${number}? Its ${n} file(s) will be destroyed: their '
            'notes, drafts and correspondence are removed for good, and only a tombstone '
            '(number, subject, class, who approved, when) stays. A file under a legal hold '
            'or no longer due is kept.', mapping={'number': wlist.number,
                                                  'n': len(wlist.entries)})),
            _('Yes, destroy the files'),
            request.route_url('department_records_list', name=dept.__name__, list=wlist.id),
            title=_('Destroy files'))
    try:
        run_list_action(request, wlist, action, request.POST)
    except DomainError as err:
        return _list_with_error(request, err)
    if action == 'carry_out':
        destroyed = sum(1 for v in wlist.outcome.values() if v == 'destroyed')
        flash(request, _('Weeding list ${number} carried out: ${n} file(s) destroyed, ${m} '
                         'kept.', mapping={'number': wlist.number, 'n': destroyed,
                                           'm': len(wlist.outcome) - destroyed}))
    elif action == 'approve':
        flash(request, _('Weeding list ${number} approved and signed.',
                         mapping={'number': wlist.number}))
    else:
        flash(request, _('Weeding list ${number} rejected.', mapping={'number': wlist.number}))
    return HTTPSeeOther(request.route_url('department_records_list', name=dept.__name__,
                                          list=wlist.id))


@view_config(route_name='department_records_list_pdf', permission=VIEW)
@view_config(route_name='api_weeding_list_pdf', permission=VIEW)
def list_pdf(request):
    key = 'department_id' if 'department_id' in request.matchdict else 'name'
    _dept, wlist = _list_for(request, key)
    if wlist.pdf is None:
        raise HTTPNotFound()
    if not may_read_pdf(officer_for(request), wlist):
        raise HTTPForbidden()
    return pdf_response(request, read_pdf(wlist.pdf),
                        f'weeding-list-{wlist.number.replace("/", "-")}.pdf')


# --- API ------------------------------------------------------------------------------------------

@view_config(**api_config(route_name='api_records_due', request_method='GET', permission=VIEW))
def api_due(request):
    dept = room_department(request, 'department_id')
    officer = officer_for(request)
    offset, limit = offset_and_limit(request)
    found, more = due_files(officer.site, officer, dept.__name__, _years(request), _today(),
                            limit, offset)
    return {'items': [due_json(request, f) for f in found], 'more': more}


@view_config(**api_config(route_name='api_weeding_lists', request_method='GET',
                          permission=VIEW))
def api_lists(request):
    dept = room_department(request, 'department_id')
    offset, limit = offset_and_limit(request)
    found, more = _take(get_site(request).recordroom.lists(dept.__name__), offset, limit)
    return {'items': [list_json(request, w) for w in found], 'more': more}


@view_config(**api_config(route_name='api_weeding_lists', request_method='POST',
                          permission=VIEW))
def api_propose(request):
    dept = room_department(request, 'department_id')
    officer = officer_for(request)
    body = json_body(request)
    wlist = propose(officer.site, officer, dept.__name__, body.get('files'), _years(request),
                    body.get('remarks', ''))
    request.response.status = 201
    return list_json(request, wlist)


@view_config(**api_config(route_name='api_weeding_list', request_method='GET', permission=VIEW))
def api_list(request):
    _dept, wlist = _list_for(request, 'department_id')
    return list_json(request, wlist)


@view_config(**api_config(route_name='api_weeding_list_action', request_method='POST',
                          permission=VIEW))
def api_list_action(request):
    _dept, wlist = _list_for(request, 'department_id')
    action = request.matchdict['action']
    if action not in ACTIONS:
        raise HTTPNotFound()
    body = json_body(request) if request.body else {}
    try:
        run_list_action(request, wlist, action, body)
    except WrongPin as err:   # returned, not raised: the failed attempt is committed
        return error_response(request, err.status, err.message)
    return list_json(request, wlist)


@view_config(**api_config(route_name='api_records_holds', request_method='GET',
                          permission=VIEW))
def api_holds(request):
    dept = room_department(request, 'department_id')
    offset, limit = offset_and_limit(request)
    site = get_site(request)
    found, more = _take(site.recordroom.holds(dept.__name__), offset, limit)
    return {'items': [hold_json(site, file_id, hold) for file_id, hold in found],
            'more': more}


@view_config(**api_config(route_name='api_records_holds', request_method='POST',
                          permission=VIEW))
def api_place_holds(request):
    dept = room_department(request, 'department_id')
    officer = officer_for(request)
    body = json_body(request)
    ids = body.get('files')
    if ids is None:
        ids = _hold_targets(request, officer, dept.__name__, body.get('number'),
                            body.get('query'))
    elif not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) \
            or len(ids) > MAX_HOLD_SEARCH:
        raise DomainError(_('"files" is a list of at most ${n} file ids.',
                            mapping={'n': MAX_HOLD_SEARCH}), field='files')
    placed, already = place_holds(officer.site, officer, dept.__name__, ids,
                                  body.get('reason', ''))
    request.response.status = 201
    return {'placed': [f.id for f in placed], 'already': [f.id for f in already]}


@view_config(**api_config(route_name='api_records_hold_lift', request_method='POST',
                          permission=VIEW))
def api_lift_hold(request):
    dept = room_department(request, 'department_id')
    officer = officer_for(request)
    body = json_body(request)
    hold = lift_hold(officer.site, officer, dept.__name__, request.matchdict['file'],
                     body.get('reason', ''))
    return hold_json(officer.site, request.matchdict['file'], hold)


@view_config(**api_config(route_name='api_records_tombstones', request_method='GET',
                          permission=VIEW))
def api_tombstones(request):
    dept = room_department(request, 'department_id')
    officer = officer_for(request)
    offset, limit = offset_and_limit(request)
    found, more = _take(officer.site.recordroom.tombstones(dept.__name__), offset, limit)
    return {'items': [tombstone_json(officer, t) for t in found], 'more': more}
