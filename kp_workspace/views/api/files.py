"""File work through the API: posts, files, notes, attachments, actions, drafts,
summaries, the inbox and alerts."""
from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound
from pyramid.view import view_config

from ...content_types.attachment import attach
from ...content_types.casefile import open_file
from ...content_types.movable import edit_note, write_note
from ...content_types.outgoing import add_draft
from ...content_types.summary import initiate_summary
from ...lists import follow_ups_due, inbox, overdue, parked, pending, sent
from ...security.roles import VIEW
from ...signing import WrongPin
from ...site import get_site
from ..auditing import read_item
from ..errors import error_response
from ..work import (attachment_json, attachment_response, draft_for, draft_json, item_for,
                    item_json, notes_page, now_ts, officer_for, retry_reading, run_action,
                    run_draft_action, searchable_response)
from ..params import (MAX_NOTE_NUMBER, encode_cursor, flag, note_number,
                      offset_limit_or_cursor, whole_number)
from . import api_config, json_body

LISTS = {'inbox': inbox, 'pending': pending, 'overdue': overdue, 'sent': sent,
         'parked': parked}


def _department(request):
    dept = get_site(request)['departments'].get(request.matchdict['department_id'])
    if dept is None:
        raise HTTPNotFound('There is no such department.')
    return dept


def _str(body, name, required=True):
    value = body.get(name, '')
    if not isinstance(value, str) or (required and not value.strip()):
        raise HTTPBadRequest(f'"{name}" must be a non-empty string.' if required
                             else f'"{name}" must be a string.')
    return value


def _created(request, data):
    request.response.status = 201
    return data


@view_config(**api_config(route_name='api_posts', request_method='GET', permission=VIEW))
def posts(request):
    return [{'id': p.post_id, 'title': p.title, 'department': p.department}
            for p in get_site(request)['principals'].posts.values()]


@view_config(**api_config(route_name='api_department_files', request_method='POST',
                          permission=VIEW))
def new_file(request):
    body = json_body(request)
    casefile = open_file(_department(request), officer_for(request), _str(body, 'subject'),
                         body.get('classification', 'routine'), body.get('priority', 'routine'),
                         post_id=_str(body, 'post', required=False) or None)
    return _created(request, {'id': casefile.id, 'number': casefile.number,
                              'state': casefile.state, 'holder': casefile.holder})


@view_config(**api_config(route_name='api_department_summaries', request_method='POST',
                          permission=VIEW))
def new_summary(request):
    body = json_body(request)
    summary = initiate_summary(
        _department(request), officer_for(request), _str(body, 'subject'),
        _str(body, 'background'), _str(body, 'proposal'), _str(body, 'decision_sought'),
        _str(body, 'financial_implications', required=False),
        body.get('classification', 'routine'), body.get('priority', 'routine'))
    return _created(request, {'id': summary.id, 'number': summary.number,
                              'state': summary.state, 'holder': summary.holder})


@view_config(**api_config(route_name='api_file', request_method='GET', permission=VIEW))
def get_file(request):
    return item_json(request, read_item(request, 'file'), compact=flag(request, 'compact'))


@view_config(**api_config(route_name='api_summary', request_method='GET', permission=VIEW))
def get_summary(request):
    return item_json(request, read_item(request, 'summary'), compact=flag(request, 'compact'))


@view_config(**api_config(route_name='api_file_notes', request_method='GET', permission=VIEW))
@view_config(**api_config(route_name='api_summary_notes', request_method='GET', permission=VIEW))
def list_notes(request):
    """The notes of a file or summary, a page at a time: those numbered after ``after``."""
    kind = 'summary' if request.matched_route.name == 'api_summary_notes' else 'file'
    after = whole_number(request, 'after', 0, 0, MAX_NOTE_NUMBER)
    limit = whole_number(request, 'limit', 20, 1, 50)   # (a note may be 20,000 characters)
    items, more = notes_page(read_item(request, kind), after, limit)
    return {'items': items, 'more': more}


@view_config(**api_config(route_name='api_file_notes', request_method='POST', permission=VIEW))
@view_config(**api_config(route_name='api_summary_notes', request_method='POST', permission=VIEW))
def add_note(request):
    item = item_for(request)
    note = write_note(item, officer_for(request), _str(json_body(request), 'text'))
    return _created(request, {'n': note.n})


@view_config(**api_config(route_name='api_file_note', request_method='PATCH', permission=VIEW))
def patch_note(request):
    item = item_for(request, 'file')
    n = note_number(request.matchdict['n'])
    if n is None:
        raise HTTPNotFound()
    note = edit_note(item, officer_for(request), n, _str(json_body(request), 'text'))
    return {'n': note.n, 'text': note.text}


@view_config(**api_config(route_name='api_file_attachments', request_method='POST',
                          permission=VIEW))
def add_attachment(request):
    item = item_for(request, 'file')
    upload = request.POST.get('file')
    if upload is None or not hasattr(upload, 'file'):
        raise HTTPBadRequest('Send the file as multipart form data in the field "file".')
    att = attach(item, officer_for(request), upload.file, upload.filename,
                 title=request.POST.get('title', ''),
                 receipt=request.POST.get('receipt') in ('1', 'true', 'yes', 'on'),
                 limit=request.registry.kpw_settings.upload_limit)
    return _created(request, {'id': att.id, 'content_type': att.content_type, 'size': att.size,
                              'diary_number': att.diary_number})


@view_config(**api_config(route_name='api_file_attachment_ocr', request_method='POST',
                          permission=VIEW))
def retry_attachment_reading(request):
    item = item_for(request, 'file')
    return attachment_json(retry_reading(request, item, request.matchdict['att_id']))


@view_config(**api_config(route_name='api_file_attachment_searchable', request_method='GET',
                          permission=VIEW))
def attachment_searchable(request):
    return searchable_response(request, read_item(request, 'file'),
                               request.matchdict['att_id'])


@view_config(**api_config(route_name='api_file_attachment', request_method='GET',
                          permission=VIEW))
def get_attachment(request):
    return attachment_response(request, item_for(request, 'file'), request.matchdict['att_id'])


@view_config(**api_config(route_name='api_file_action', request_method='POST', permission=VIEW))
@view_config(**api_config(route_name='api_summary_action', request_method='POST',
                          permission=VIEW))
def action(request):
    item = item_for(request)
    body = json_body(request) if request.body else {}
    # the workflow engine checks each value (text, its length, its characters)
    params = {k: v for k, v in body.items()
              if k in ('to_post', 'remarks', 'decision', 'pin', 'record_class')}
    try:
        run_action(request, item, request.matchdict['action'], params)
    except WrongPin as err:  # returned, not raised: the failed attempt is committed
        return error_response(request, err.status, err.message)
    return item_json(request, item)


@view_config(**api_config(route_name='api_file_drafts', request_method='POST', permission=VIEW))
def new_draft(request):
    item = item_for(request, 'file')
    body = json_body(request)
    draft = add_draft(item, officer_for(request), _str(body, 'kind'), _str(body, 'subject'),
                      _str(body, 'body'), _str(body, 'addressees', False),
                      _str(body, 'copies', False))
    return _created(request, {'id': f'{item.id}-{draft.id}', 'state': draft.state})


@view_config(**api_config(route_name='api_draft_action', request_method='POST', permission=VIEW))
def draft_action(request):
    casefile, draft = draft_for(request, request.matchdict['id'])
    body = json_body(request) if request.body else {}
    try:
        run_draft_action(request, draft, request.matchdict['action'],
                         _str(body, 'pin', False) or None)
    except WrongPin as err:  # returned, not raised: the failed attempt is committed
        return error_response(request, err.status, err.message)
    return draft_json(casefile, draft)


@view_config(**api_config(route_name='api_inbox', request_method='GET', permission=VIEW))
def inbox_view(request):
    officer = officer_for(request)
    which = request.params.get('view', 'inbox')
    if which not in LISTS:
        raise HTTPBadRequest('view is one of inbox, pending, overdue, sent, parked.')
    offset, limit, after = offset_limit_or_cursor(request, which)
    found = LISTS[which](officer.site.desk, officer.post_ids,
                         request.registry.kpw_settings.overdue_days, now_ts(), offset, limit,
                         after)
    return {'items': found.rows, 'total': found.total, 'more': found.more,
            'next_cursor': encode_cursor(which, found.next)}


@view_config(**api_config(route_name='api_alerts', request_method='GET', permission=VIEW))
def alerts(request):
    officer = officer_for(request)
    box = officer.site.alerts.box(officer.login)
    # the reminders: files parked at the user's posts whose date has come
    due, due_count = follow_ups_due(officer.site.desk, officer.post_ids, now_ts())
    reminders = {'due': due, 'due_count': due_count}
    if box is None:
        return {'items': [], 'unread': 0, **reminders}
    return {'items': [{'at': a.at.isoformat(), 'kind': a.kind, 'text': a.text,
                       'item_id': a.item_id, 'unread': unread}
                      for a, unread in box.newest(50)],
            'unread': box.unread(), **reminders}


@view_config(**api_config(route_name='api_alerts_read', request_method='POST', permission=VIEW))
def alerts_read(request):
    officer = officer_for(request)
    box = officer.site.alerts.box(officer.login)
    if box is not None:
        box.mark_read()
    return {'unread': 0}
