"""The dak in the browser and the API: the diary register of a department, registering
a letter, a receipt's page and its steps, a post's Receipts list, the register's export.

The rules are the domain's (:mod:`kp_workspace.content_types.receipt`,
:mod:`kp_workspace.workflows.receipt`); these views read forms and show results.
"""
import csv
import datetime
import io
import itertools

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config
from pyramid_retry import is_last_attempt

from ..alerts import read_alerts_about
from ..content_types.casefile import CLASSIFICATION_TITLES, PRIORITY_TITLES
from ..content_types.movable import check_change
from ..content_types.receipt import MODE_TITLES, MODES, held_files, register_receipt
from ..errors import DomainError
from ..i18n import display_title, format_when
from ..lists import receipts
from ..ocr import retry as retry_reading, status as ocr_status
from ..security.roles import VIEW
from ..site import get_site
from ..text_rules import check_text
from ..workflows.receipt import RECEIPT
from .admin.audit import safe_cell
from .api import api_config, json_body
from .auditing import read_item, refused
from .files import (LISTS, PAGE, _actions, _linked, _mark_primary, confirmation, human_size,
                    movement_rows, ocr_row, pages_label)
from .layout import flash
from .params import (day, encode_cursor, offset_and_limit, offset_limit_or_cursor,
                     whole_number)
from .work import (_ascii, desk_row, document_response, item_url, now_ts, officer_for,
                   post_ref, run_action)

_ = TranslationStringFactory('kp_workspace')

STATES = tuple(RECEIPT.states)
SCAN_LIMIT = 5000      # register entries a page of the register reads at most
EXPORT_LIMIT = 20000   # rows an export holds at most
EXPORT_SCAN = 50000    # register entries an export reads at most


# the register ------------------------------------------------------------------------
def diary_department(request, key='name'):
    """The department the address names (404) whose diary the user keeps (403)."""
    dept = get_site(request)['departments'].get(request.matchdict[key])
    if dept is None:
        raise HTTPNotFound()
    if not officer_for(request).keeps_diary(dept.__name__):
        raise HTTPForbidden()
    return dept


def register_filters(request):
    """The register's filters from the query string.  :raises DomainError: (400)"""
    params = request.params
    start, end = day(request, 'from'), day(request, 'to')
    if start and end and start > end:
        raise DomainError(_('"from" is a day before "to".'), field='from')
    state, mode = params.get('state', ''), params.get('mode', '')
    if state and state not in STATES:
        raise DomainError(_('Choose one of: ${choices}.', mapping={'choices': ', '.join(STATES)}),
                          field='state')
    if mode and mode not in MODES:
        raise DomainError(_('Choose one of: ${choices}.', mapping={'choices': ', '.join(MODES)}),
                          field='mode')
    text = check_text(params.get('q', ''), 'q', 200, minimum=0, single_line=True)
    return {'from': start, 'to': end, 'state': state, 'mode': mode, 'q': text}


def _ts(date, days=0):
    return datetime.datetime.combine(date + datetime.timedelta(days=days), datetime.time(),
                                     datetime.timezone.utc).timestamp()


class Scan:
    """Whether a walk of the register stopped at its limit (``cut``)."""
    cut = False


def register_entries(site, department, filters, scan, limit):
    """Iterate the receipts of ``department``'s diary that match ``filters``, newest
    first.  Dates are found in the register's order; state, mode and words are checked
    entry by entry, reading no more than ``limit`` entries (``scan.cut`` then says so)."""
    desk = site.desk
    since = _ts(filters['from']) if filters['from'] else None
    before = _ts(filters['to'], 1) if filters['to'] else None
    words = filters['q'].casefold()
    read = 0
    for _ts_, item_id in desk.diary(department, since, before):
        read += 1
        if read > limit:
            scan.cut = True
            return
        receipt = desk.items.get(item_id)
        if receipt is None:
            continue
        if filters['state'] and receipt.state != filters['state']:
            continue
        if filters['mode'] and receipt.mode != filters['mode']:
            continue
        if words and words not in f'{receipt.number} {receipt.sender} {receipt.reference} ' \
                                   f'{receipt.subject}'.casefold():
            continue
        yield receipt


def _first(iterator, n):
    return list(itertools.islice(iterator, n))


def where_is(request, site, receipt):
    """Where a receipt is now, in words."""
    if receipt.state == 'in_file':
        casefile = site.desk.items.get(receipt.file_id)
        number = casefile.number if casefile is not None else receipt.file_id
        return request.localizer.translate(_('In file ${number}', mapping={'number': number}))
    post = site['principals'].posts.get(receipt.holder)
    title = display_title(post, request) if post is not None else receipt.holder
    if receipt.state == 'diary':
        return request.localizer.translate(_('With the diary (${post})', mapping={'post': title}))
    return title


def register_row(request, site, receipt):
    translate = request.localizer.translate
    return {'id': receipt.id, 'number': receipt.number, 'subject': receipt.subject,
            'sender': receipt.sender, 'reference': receipt.reference,
            'letter_date': receipt.letter_date.isoformat() if receipt.letter_date else '',
            'registered': format_when(request, receipt.created_at),
            'registered_at': receipt.created_at.isoformat(),
            'mode': receipt.mode, 'mode_title': translate(MODE_TITLES[receipt.mode]),
            'state': receipt.state, 'state_title': translate(RECEIPT.states[receipt.state]),
            'classification': receipt.classification,
            'classification_label': translate(CLASSIFICATION_TITLES[receipt.classification])
            if receipt.classification != 'routine' else None,
            'where': where_is(request, site, receipt),
            'url': item_url(request, 'receipt', receipt.id)}


def _choices(titles, translate):
    return [(k, translate(v)) for k, v in titles.items()]


@view_config(route_name='department_diary', permission=VIEW,
             renderer='kp_workspace:templates/diary.pt')
def diary_page(request):
    dept = diary_department(request)
    site = get_site(request)
    translate = request.localizer.translate
    try:
        filters = register_filters(request)
        offset = whole_number(request, 'offset', 0)
    except DomainError as err:
        request.response.status = 400
        filters, offset = {'from': None, 'to': None, 'state': '', 'mode': '', 'q': ''}, 0
        error = translate(err.message)
    else:
        error = None
    scan = Scan()
    found = _first(register_entries(site, dept.__name__, filters, scan, offset + SCAN_LIMIT),
                   offset + PAGE + 1)
    more = len(found) > offset + PAGE
    rows = [register_row(request, site, r) for r in found[offset:offset + PAGE]]
    query = {k: (v.isoformat() if isinstance(v, datetime.date) else v)
             for k, v in filters.items() if v}
    return {
        'title': translate(_('Diary of ${department}',
                             mapping={'department': display_title(dept, request)})),
        'dept': dept, 'rows': rows, 'error': error, 'filters': query,
        'states': _choices(RECEIPT.states, translate), 'modes': _choices(MODE_TITLES, translate),
        'new_url': request.route_url('department_diary_new', name=dept.__name__),
        'export_url': request.route_url('department_diary_csv', name=dept.__name__,
                                        _query=query),
        'next_url': request.route_url('department_diary', name=dept.__name__,
                                      _query=dict(query, offset=offset + PAGE))
        if more else None,
        'prev_url': request.route_url('department_diary', name=dept.__name__,
                                      _query=dict(query, offset=max(0, offset - PAGE)))
        if offset else None,
        'filtered': bool(query), 'cut': scan.cut,
    }


CSV_COLUMNS = ('Diary number', 'Registered', 'From', 'Their reference', 'Letter dated',
               'Subject', 'Mode', 'Classification', 'State', 'Where now')


@view_config(route_name='department_diary_csv', permission=VIEW)
def diary_csv(request):
    dept = diary_department(request)
    site = get_site(request)
    filters = register_filters(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for receipt in register_entries(site, dept.__name__, filters, Scan(), EXPORT_SCAN):
        r = register_row(request, site, receipt)
        writer.writerow([safe_cell(v) for v in (
            r['number'], r['registered_at'], r['sender'], r['reference'], r['letter_date'],
            r['subject'], r['mode'], r['classification'], r['state_title'], r['where'])])
        count += 1
        if count == EXPORT_LIMIT:
            break
    officer_for(request).actor.record('diary.exported', f'department:{dept.__name__}',
                                      rows=count)
    response = Response(body=('\ufeff' + out.getvalue()).encode('utf-8'),
                        content_type='text/csv', charset='utf-8')
    response.content_disposition = f'attachment; filename="diary-{_ascii(dept.code)}.csv"'
    response.headers['Cache-Control'] = 'no-store'
    return response


# registering -------------------------------------------------------------------------
def _register(request, dept, fields, upload):
    return register_receipt(
        dept, officer_for(request), fields.get('sender', ''), fields.get('subject', ''),
        fields.get('mode', ''), getattr(upload, 'file', None),
        getattr(upload, 'filename', ''), reference=fields.get('reference', ''),
        letter_date=fields.get('letter_date') or None,
        classification=fields.get('classification', 'routine'),
        priority=fields.get('priority', 'routine'),
        limit=request.registry.kpw_settings.upload_limit)


@view_config(route_name='department_diary_new', permission=VIEW,
             renderer='kp_workspace:templates/diary_new.pt')
def diary_new(request):
    dept = diary_department(request)
    translate = request.localizer.translate
    values = {'mode': 'post', 'classification': 'routine', 'priority': 'routine'}
    error = field = None
    if request.method == 'POST':
        values = {k: v for k, v in request.POST.items() if isinstance(v, str)}
        try:
            receipt = _register(request, dept, values, request.POST.get('file'))
        except DomainError as err:
            error, field = refused(request, err), err.field
        else:
            flash(request, _('Letter registered as ${number}. Mark it to an officer.',
                             mapping={'number': receipt.number}))
            return HTTPSeeOther(item_url(request, 'receipt', receipt.id))
    limit = request.registry.kpw_settings.upload_limit
    return {
        'title': translate(_('Register a letter in the diary of ${department}',
                             mapping={'department': display_title(dept, request)})),
        'values': values, 'error': error, 'field': field,
        'modes': _choices(MODE_TITLES, translate),
        'classifications': _choices(CLASSIFICATION_TITLES, translate),
        'priorities': _choices(PRIORITY_TITLES, translate),
        'limit_mb': limit >> 20, 'today': datetime.date.today().isoformat(),
        'diary_url': request.route_url('department_diary', name=dept.__name__),
    }


# a receipt ---------------------------------------------------------------------------
def receipt_page(request, receipt, error=None):
    officer = officer_for(request)
    site = officer.site
    translate = request.localizer.translate
    holder = site['principals'].posts.get(receipt.holder)
    actions = _actions(request, receipt, RECEIPT, officer,
                       lambda name: request.route_url('receipt_action', id=receipt.id,
                                                      action=name))
    for a in actions:
        if a['name'] == 'file':
            a['files'] = [(f.id, f'{f.number}: {f.subject}')
                          for f in held_files(officer, receipt.holder)]
        a['subject'] = receipt.subject
        a['remarks_required'] = a['name'] == 'return'
    # putting it in a file needs a file with you: without one, the step is not offered
    no_file = any(a['name'] == 'file' and not a['files'] for a in actions)
    actions = [a for a in actions if a['name'] != 'file' or a['files']]
    _mark_primary(actions)
    letter = receipt.letter
    pages = pages_label(letter.pages) if letter is not None else None
    return {
        'item': receipt, 'error': error, 'actions': actions, 'no_file_with_you': no_file,
        'holder_title': display_title(holder, request) if holder is not None else receipt.holder,
        'state_title': translate(RECEIPT.states[receipt.state]),
        'where': where_is(request, site, receipt),
        'classification': translate(CLASSIFICATION_TITLES[receipt.classification]),
        'priority': translate(_('Priority: ${priority}', mapping={
            'priority': translate(PRIORITY_TITLES[receipt.priority])})),
        'mode_title': translate(MODE_TITLES[receipt.mode]),
        'registered': format_when(request, receipt.created_at),
        'letter_date': format_when(request, receipt.letter_date) if receipt.letter_date else '',
        'letter': None if letter is None else {
            'title': letter.title, 'filename': letter.filename, 'size': human_size(letter.size),
            'pages': translate(pages) if pages else None, 'reading': letter.reading,
            'url': request.route_url('receipt_letter', id=receipt.id),
            'inline_url': request.route_url('receipt_letter_inline', id=receipt.id),
            'ocr': ocr_row(request, letter,
                           retry_url=request.route_url('receipt_letter_ocr', id=receipt.id)
                           if may_change(receipt, officer) else None)},
        'in_file': _linked(request, officer, receipt.file_id),
        'movements': movement_rows(request, site, receipt),
        'diary_url': request.route_url('department_diary', name=receipt.department)
        if officer.keeps_diary(receipt.department) else None,
    }


@view_config(route_name='receipt', permission=VIEW, renderer='kp_workspace:templates/receipt.pt')
def receipt_view(request):
    receipt = read_item(request, 'receipt')
    if not is_last_attempt(request):
        officer = officer_for(request)
        read_alerts_about(officer.site, officer.login, receipt.id)
    return receipt_page(request, receipt)


ACTION_PARAMS = ('to_post', 'remarks', 'file', 'subject')


@view_config(route_name='receipt_action', permission=VIEW, request_method='POST')
def receipt_action(request):
    receipt = read_item(request, 'receipt')
    name = request.matchdict['action']
    params = {k: request.POST[k] for k in ACTION_PARAMS if k in request.POST}
    site = get_site(request)
    translate = request.localizer.translate
    try:
        asking = confirmation(request, RECEIPT, receipt, name, params)
        if asking is not None:
            return asking
        t = run_action(request, receipt, name, params)
    except DomainError as err:
        page = receipt_page(request, receipt, refused(request, err))
        return render_to_response('kp_workspace:templates/receipt.pt', page, request=request,
                                  response=request.response)
    flash(request, RECEIPT.message(t, 'done', receipt, site, translate,
                                   locale_name=request.locale_name))
    if receipt.state == 'in_file':
        return HTTPSeeOther(item_url(request, 'file', receipt.file_id))
    return HTTPSeeOther(item_url(request, 'receipt', receipt.id))


def may_change(receipt, officer):
    """Whether ``officer`` may change ``receipt`` now (holds it; it is not in a file)."""
    try:
        check_change(receipt, officer)
    except DomainError:
        return False
    return True


def read_letter_again(request, receipt):
    """Queue the letter of ``receipt``, whose reading failed, again (its holder only).
    :raises DomainError: 404 without a letter; as :func:`kp_workspace.ocr.retry`."""
    if receipt.letter is None:
        raise HTTPNotFound()
    officer = officer_for(request)
    retry_reading(officer.site, officer, receipt, receipt.letter)


@view_config(route_name='receipt_letter_ocr', permission=VIEW, request_method='POST')
def receipt_letter_ocr(request):
    receipt = read_item(request, 'receipt')
    try:
        read_letter_again(request, receipt)
    except DomainError as err:
        page = receipt_page(request, receipt, refused(request, err))
        return render_to_response('kp_workspace:templates/receipt.pt', page, request=request,
                                  response=request.response)
    flash(request, _('The text of the letter will be read again.'))
    return HTTPSeeOther(item_url(request, 'receipt', receipt.id))


def letter_response(request, receipt, inline=False):
    """The scan of ``receipt`` (the user may view it), as a file's attachment is sent."""
    letter = receipt.letter
    if letter is None:
        raise HTTPNotFound()
    inline = inline and letter.reading is not None
    officer_for(request).actor.record('receipt.letter_read', f'receipt:{receipt.id}',
                                      **({'inline': True} if inline else {}))
    return document_response(letter, f'{receipt.number.replace("/", "-")}-{letter.filename}',
                             inline)


@view_config(route_name='receipt_letter', permission=VIEW)
def receipt_letter(request):
    return letter_response(request, read_item(request, 'receipt'))


@view_config(route_name='receipt_letter_inline', permission=VIEW)
def receipt_letter_inline(request):
    return letter_response(request, read_item(request, 'receipt'), inline=True)


# the Receipts list -------------------------------------------------------------------
@view_config(route_name='receipts', permission=VIEW, renderer='kp_workspace:templates/desk.pt')
def receipts_list(request):
    offset = whole_number(request, 'offset', 0)
    officer = officer_for(request)
    translate = request.localizer.translate
    rows, total, more, _next = receipts(officer.site.desk, officer.post_ids,
                                        request.registry.kpw_settings.overdue_days, now_ts(),
                                        offset, PAGE)
    for r in rows:
        desk_row(request, r)
        r['received'] = format_when(request, r['received_at'])
        r['sender'] = officer.site.desk.items[r['id']].sender
    tabs = [(name, translate(t), request.route_url(name), False)
            for name, (_f, t, _i) in LISTS.items()]
    tabs.append(('receipts', translate(_('Receipts')), request.route_url('receipts'), True))
    return {
        'title': translate(_('Receipts')), 'which': 'receipts', 'rows': rows,
        'intro': translate(_('Letters the diary marked to your posts, newest first. Open one '
                             'to put it in a file, open a new file on it, or send it back.')),
        'label_since': translate(_('Since')), 'label_where': '',
        'label_days': translate(_('Days')), 'total': total,
        'has_posts': bool(officer.post_ids), 'tabs': tabs,
        'next_url': request.route_url('receipts', _query={'offset': offset + PAGE})
        if more else None,
        'prev_url': request.route_url('receipts', _query={'offset': max(0, offset - PAGE)})
        if offset else None,
    }


# the API -----------------------------------------------------------------------------
def receipt_json(request, receipt):
    site = get_site(request)
    officer = officer_for(request)
    letter = receipt.letter
    casefile = site.desk.items.get(receipt.file_id) if receipt.file_id else None
    return {
        'id': receipt.id, 'kind': 'receipt', 'number': receipt.number,
        'subject': receipt.subject, 'sender': receipt.sender, 'reference': receipt.reference,
        'letter_date': receipt.letter_date.isoformat() if receipt.letter_date else None,
        'mode': receipt.mode, 'state': receipt.state,
        'classification': receipt.classification, 'priority': receipt.priority,
        'department': receipt.department, 'registered_at': receipt.created_at.isoformat(),
        'holder': post_ref(site, receipt.holder),
        'file_id': casefile.id if casefile is not None and officer.can_view(casefile)
        else None,
        'letter': None if letter is None else {
            'filename': letter.filename, 'content_type': letter.content_type,
            'size': letter.size, 'pages': letter.pages, 'ocr': ocr_status(letter)},
        'movements': [{'from': m.from_post, 'to': m.to_post, 'action': m.action,
                       'remarks': m.remarks, 'at': m.at.isoformat(), 'by': m.by}
                      for m in receipt.movements],
        'actions': [t.name for t in RECEIPT.available(receipt, officer)],
    }


def _api_department(request):
    return diary_department(request, 'department_id')


@view_config(**api_config(route_name='api_department_receipts', request_method='POST',
                          permission=VIEW))
def api_register(request):
    dept = get_site(request)['departments'].get(request.matchdict['department_id'])
    if dept is None:
        raise HTTPNotFound('There is no such department.')
    upload = request.POST.get('file')
    if upload is None or not hasattr(upload, 'file'):
        raise HTTPBadRequest('Send the scan as multipart form data in the field "file".')
    fields = {k: v for k, v in request.POST.items() if isinstance(v, str)}
    receipt = _register(request, dept, fields, upload)
    request.response.status = 201
    return receipt_json(request, receipt)


@view_config(**api_config(route_name='api_department_receipts', request_method='GET',
                          permission=VIEW))
def api_register_list(request):
    dept = _api_department(request)
    site = get_site(request)
    filters = register_filters(request)
    offset, limit = offset_and_limit(request)
    found = _first(register_entries(site, dept.__name__, filters, Scan(),
                                    offset + SCAN_LIMIT), offset + limit + 1)
    return {'items': [receipt_json(request, r) for r in found[offset:offset + limit]],
            'more': len(found) > offset + limit}


@view_config(**api_config(route_name='api_receipts', request_method='GET', permission=VIEW))
def api_receipts(request):
    officer = officer_for(request)
    offset, limit, after = offset_limit_or_cursor(request, 'receipts')
    found = receipts(officer.site.desk, officer.post_ids,
                     request.registry.kpw_settings.overdue_days, now_ts(), offset, limit, after)
    return {'items': found.rows, 'total': found.total, 'more': found.more,
            'next_cursor': encode_cursor('receipts', found.next)}


@view_config(**api_config(route_name='api_receipt', request_method='GET', permission=VIEW))
def api_receipt(request):
    return receipt_json(request, read_item(request, 'receipt'))


@view_config(**api_config(route_name='api_receipt_action', request_method='POST',
                          permission=VIEW))
def api_receipt_action(request):
    receipt = read_item(request, 'receipt')
    body = json_body(request) if request.body else {}
    params = {k: v for k, v in body.items() if k in ACTION_PARAMS}
    run_action(request, receipt, request.matchdict['action'], params)
    return receipt_json(request, receipt)


@view_config(**api_config(route_name='api_receipt_letter_ocr', request_method='POST',
                          permission=VIEW))
def api_receipt_letter_ocr(request):
    receipt = read_item(request, 'receipt')
    read_letter_again(request, receipt)
    return receipt_json(request, receipt)


@view_config(**api_config(route_name='api_receipt_letter', request_method='GET',
                          permission=VIEW))
def api_receipt_letter(request):
    return letter_response(request, read_item(request, 'receipt'))
