"""The cabinet's part of the OpenAPI document (joined to it by
:mod:`kp_workspace.views.api.openapi`): its schemas, paths and operation names."""
from ..views.api.openapi import (BOOLEAN, INTEGER, MAYBE_STRING, MAYBE_TIME, PDF, STRING, array,
                                 closed, errors, json_body, op, path_params, ref, text)
from ..content_types.movable import CLASSIFICATIONS
from . import MAX_ITEMS, MAX_MEMBERS, STATES

DATE = {'type': 'string', 'format': 'date'}
PAGING = [{'name': 'offset', 'in': 'query', 'required': False,
           'schema': {'type': 'integer', 'minimum': 0, 'maximum': 1000000}},
          {'name': 'limit', 'in': 'query', 'required': False,
           'schema': {'type': 'integer', 'minimum': 1, 'maximum': 200}}]
MEETING = path_params('meeting')
WHO = ('Seen by the Cabinet Wing, the Chief Secretary and, once its papers are issued, the '
       'members of the cabinet called to it; to anyone else it does not exist (404). A '
       'secret meeting\'s papers ("items", "items_count", "members", the PDF) are seen '
       'before its date only by the members called and the Secretary Cabinet ("papers_open" '
       'says; 403 for the PDF).')

SCHEMAS = {
    'CabinetDecision': closed({'text': STRING, 'departments': array(STRING), 'due': DATE,
                               'public': BOOLEAN,
                               # the departments it was sent to for implementation
                               'sent': array(STRING)}),
    'AgendaItem': closed({'n': INTEGER, 'summary': STRING, 'number': STRING,
                          'subject': STRING, 'department': STRING,
                          'classification': {'enum': list(CLASSIFICATIONS)},
                          'annexures': array(closed({'title': STRING,
                                                     'pages': {'type': ['integer', 'null']}})),
                          'decision': {'oneOf': [{'type': 'null'},
                                                 ref('CabinetDecision')]}}),
    'MeetingMember': closed({'login': STRING, 'name': STRING}),
    # a meeting in a list has no "members", "items", "papers_pages" or "minutes"; a secret
    # meeting before its date, to those who may not read its papers, no "items_count" and
    # no "members"
    'Meeting': closed({
        'id': STRING, 'number': INTEGER, 'title': STRING, 'date': DATE, 'place': STRING,
        'secret': BOOLEAN, 'state': {'enum': list(STATES)}, 'items_count': INTEGER,
        'papers_open': BOOLEAN, 'issued_at': MAYBE_TIME, 'signed_at': MAYBE_TIME,
        'signed_by': MAYBE_STRING, 'members': array(ref('MeetingMember')),
        'items': array(ref('AgendaItem')), 'papers_pages': INTEGER, 'minutes': BOOLEAN},
        optional=('members', 'items', 'papers_pages', 'minutes', 'items_count')),
    'Meetings': closed({'items': array(ref('Meeting')), 'more': BOOLEAN}),
    'ProposedItem': closed({'summary': STRING, 'number': STRING, 'subject': STRING,
                            'department': STRING,
                            'classification': {'enum': list(CLASSIFICATIONS)},
                            'proposed_at': {'type': 'string',
                                                                  'format': 'date-time'},
                            'meeting': MAYBE_STRING}),
    'ProposedItems': closed({'items': array(ref('ProposedItem'))}),
    'PublicDecision': closed({'meeting': STRING, 'meeting_date': DATE, 'item': INTEGER,
                              'subject': STRING, 'decision': STRING,
                              'departments': array(STRING), 'due': DATE,
                              'minutes_signed_at': {'type': 'string', 'format': 'date-time'}}),
    'PublicDecisions': closed({'items': array(ref('PublicDecision')), 'more': BOOLEAN}),
}

PATHS = {
    '/api/v1/cabinet/meetings': {
        'get': op('The cabinet meetings you may see, latest date first. ' + WHO,
                  'A page of meetings', ref('Meetings'), (400, 401, 403), params=PAGING),
        'post': op('Schedule a meeting (the Cabinet Wing; a secret one: the Secretary '
                   'Cabinet only). Its number follows the last meeting\'s.', 'The meeting',
                   ref('Meeting'), (400, 401, 403, *(503,)), status='201',
                   body=json_body({'date': DATE, 'place': text(200, line=True),
                                   'secret': BOOLEAN}, ['date', 'place']))},
    '/api/v1/cabinet/proposed': {'get': op(
        'Summaries the Chief Minister approved for placing before the Cabinet that are on no '
        'meeting\'s agenda yet, newest first (the Cabinet Wing only; a confidential or secret '
        'summary only to the Secretary Cabinet: it may go only on a secret meeting).',
        'The proposed items',
        ref('ProposedItems'), (401, 403))},
    '/api/v1/cabinet/meetings/{meeting}': {'get': op(
        'A meeting. ' + WHO, 'The meeting', ref('Meeting'), (401, 404), params=MEETING)},
    '/api/v1/cabinet/meetings/{meeting}/actions/{action}': {'post': op(
        'members {"members": [logins]}: the members of the cabinet called. agenda {"items": '
        '[summary ids]}: the agenda, in order, from the proposed items. issue: compile the '
        'working papers; the agenda and members are final after (409 for any change). These '
        'three: the Cabinet Wing, before the papers are issued (a secret meeting: the '
        'Secretary Cabinet). decide {"item", "text", "departments", "due", "public"}: the '
        'decision on an item of this meeting (404 for another), once the meeting has met, '
        'until the minutes are signed. sign {"pin"}: the Chief Secretary confirms and signs '
        'the minutes (once; every item decided), and each decision goes to its departments '
        'for implementation (403 for a wrong PIN, counted; 429 when locked).',
        'The meeting after the action', ref('Meeting'),
        (400, 401, 403, 404, 409, 429, 503),
        params=path_params('meeting', 'action', action={
            'enum': ['members', 'agenda', 'issue', 'decide', 'sign']}),
        body={'required': False, 'content': {'application/json': {'schema': {
            'type': 'object', 'additionalProperties': False, 'properties': {
                'members': {'type': 'array', 'maxItems': MAX_MEMBERS,
                            'items': text(40, line=True)},
                'items': {'type': 'array', 'maxItems': MAX_ITEMS,
                          'items': text(40, line=True)},
                'item': {'type': 'integer', 'minimum': 1, 'maximum': MAX_ITEMS},
                'text': text(5000, minimum=3), 'departments': array(text(60, line=True)),
                'due': DATE, 'public': BOOLEAN, 'pin': STRING}}}}})},
    '/api/v1/cabinet/meetings/{meeting}/papers': {'get': {
        'summary': 'The working papers: one PDF (cover, agenda, each item\'s summary and '
                   'annexures), bookmarked and numbered. 404 until issued; 403 while secret '
                   'to you. ' + WHO,
        'parameters': MEETING,
        'responses': {'200': {'description': 'A PDF', 'content': PDF},
                      **errors(400, 401, 403, 404)}}},
    '/api/v1/cabinet/meetings/{meeting}/minutes': {'get': {
        'summary': 'The minutes signed by the Chief Secretary (404 until signed). ' + WHO,
        'parameters': MEETING,
        'responses': {'200': {'description': 'A signed PDF', 'content': PDF},
                      **errors(400, 401, 404)}}},
    '/api/v1/public/cabinet/decisions': {'get': op(
        'Public, no sign-in: the cabinet\'s decisions marked public, of meetings whose minutes '
        'are signed, newest minutes first. Subject and decision only; never the papers.',
        'A page of decisions', ref('PublicDecisions'), (400,), params=PAGING, security=[])},
}

OPERATIONS = {
    'GET /api/v1/cabinet/meetings': ('listCabinetMeetings', 'cabinet'),
    'POST /api/v1/cabinet/meetings': ('scheduleCabinetMeeting', 'cabinet'),
    'GET /api/v1/cabinet/proposed': ('listProposedCabinetItems', 'cabinet'),
    'GET /api/v1/cabinet/meetings/{meeting}': ('getCabinetMeeting', 'cabinet'),
    'POST /api/v1/cabinet/meetings/{meeting}/actions/{action}':
        ('runCabinetMeetingAction', 'cabinet'),
    'GET /api/v1/cabinet/meetings/{meeting}/papers': ('getCabinetPapers', 'cabinet'),
    'GET /api/v1/cabinet/meetings/{meeting}/minutes': ('getCabinetMinutes', 'cabinet'),
    'GET /api/v1/public/cabinet/decisions': ('listPublicCabinetDecisions', 'public'),
}
