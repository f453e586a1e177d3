"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of the API.

Every operation lists each status code it can answer and the shape of each
body, taken from what the views return (``views/work.py`` builds the shapes of
files, summaries and drafts; ``lists.py`` the inbox rows).  Objects are closed
(``additionalProperties: false``): a view that starts returning a new field
fails ``tests/api/test_schemathesis.py`` until the field is described here.
"""
from pyramid.view import view_config

from ...content_types.movable import CLASSIFICATIONS, PRIORITIES
from ...content_types.outgoing import KINDS as DRAFT_KINDS
from ...content_types.receipt import MODES
from ...security.charges import STATES as CHARGE_STATES
from ...content_types.summary import DECISIONS
from ...dispatch import MAX_ADDRESSES, MODES as DISPATCH_MODES
from ...ocr import STATES as OCR_STATES
from ...implementation import MAX_ATTACHMENTS, MAX_NOTE, MAX_REASONS, REPORTED, STATUSES
from ...recordroom import LIST_STATES, MAX_HOLD_SEARCH, MAX_LIST, RECORD_CLASSES
from ...search.engine import KINDS as SEARCH_KINDS
from ...transparency import AGE_BANDS
from ...workflows.casefile import CASEFILE
from ...workflows.draft import DRAFT_WORKFLOW
from ...workflows.receipt import RECEIPT
from ...workflows.summary import SUMMARY
from ..search import STATES as SEARCH_STATES
from . import api_config
from .examples import REQUEST_EXAMPLES, SCHEMA_EXAMPLES

STRING = {'type': 'string'}
MAYBE_STRING = {'type': ['string', 'null']}
INTEGER = {'type': 'integer'}
BOOLEAN = {'type': 'boolean'}
TIME = {'type': 'string', 'format': 'date-time'}
MAYBE_TIME = {'type': ['string', 'null'], 'format': 'date-time'}

ERROR_TEXT = {
    400: 'Malformed request, or a value that cannot be (the message says which)',
    401: 'No valid bearer token, or a wrong login or password',
    403: 'Not permitted (your roles or posts do not allow it -- a member of the cabinet '
         'may call only the cabinet\'s operations -- or a wrong signing PIN)',
    404: 'Not found, or you may not see it (the two are not told apart)',
    409: 'Conflicts with the current state (not the holder, a state that does not allow it)',
    410: 'Gone: the file was destroyed under a weeding list (said to its department\'s '
         'record room; to anyone else it is 404)',
    413: 'The upload is larger than the limit',
    415: 'This kind of file is not accepted',
    429: 'Too many failed attempts (sign-in or signing PIN): locked for a while; or too many '
         'requests with this token this minute (Retry-After says when to come back)',
    503: 'Busy: every attempt conflicted with other work, nothing was saved; try again '
         '(or, when signing, the time-stamping service did not answer)',
}
# every request that writes may end in 503 when all its retries conflict
WRITE = (503,)


def ref(name):
    return {'$ref': f'#/components/schemas/{name}'}


def array(items):
    return {'type': 'array', 'items': items}


def closed(properties, optional=()):
    """An object with exactly ``properties`` (all required except ``optional``)."""
    return {'type': 'object', 'additionalProperties': False, 'properties': properties,
            'required': [k for k in properties if k not in optional]}


def json_content(schema):
    return {'application/json': {'schema': schema}}


def errors(*codes):
    return {str(c): {'description': ERROR_TEXT[c], 'content': json_content(ref('Error'))}
            for c in sorted(set(codes))}


def path_params(*names, **schemas):
    return [{'name': n, 'in': 'path', 'required': True,
             'schema': schemas.get(n, STRING)} for n in names]


def json_body(properties, required=()):
    return {'required': True, 'content': json_content({
        'type': 'object', 'properties': properties, 'required': list(required),
        'additionalProperties': False})}  # (others are ignored if they are valid text)


def op(summary, ok, schema, codes, status='200', body=None, params=(), security=None):
    """One operation answering ``status`` with ``schema`` (None: no body), or ``codes``.

    Every operation may also answer 400: the request's input (its encoding, path,
    query and body) is checked before any view sees it.
    """
    response = {'description': ok}
    if schema is not None:
        response['content'] = json_content(schema)
    found = {'summary': summary, 'responses': {status: response, **errors(400, *codes)}}
    if body is not None:
        found['requestBody'] = body
    if params:
        found['parameters'] = list(params)
    if security is not None:
        found['security'] = security
    return found


# a list read page by page: by "offset", or by the "cursor" the previous page gave as
# "next_cursor" (a cursor holds while items arrive and leave; an offset shifts with them)
CURSOR_PAGE = (
    {'name': 'offset', 'in': 'query', 'required': False,
     'schema': {'type': 'integer', 'minimum': 0, 'maximum': 1000000}},
    {'name': 'limit', 'in': 'query', 'required': False,
     'schema': {'type': 'integer', 'minimum': 1, 'maximum': 200}},
    {'name': 'cursor', 'in': 'query', 'required': False,
     'description': 'The "next_cursor" of the previous page (not with "offset")',
     'schema': {'type': 'string', 'maxLength': 400, 'pattern': '^[A-Za-z0-9_-]+$'}})


def actions_of(workflow):
    return [t.name for t in workflow.transitions]


# what a file or summary says of its follow-ups: what it is put up with, what it is
# referred to in (each only if the caller may open it), and its parking (null: none)
FOLLOW_UP = {'links': array(ref('Link')), 'referred_in': array(ref('ItemRef')),
             'parked': {'oneOf': [{'type': 'null'}, ref('Parked')]}}

SCHEMAS = {
    'Error': closed({'error': STRING}),
    # with "device" at sign-in: the device's id and its refresh token (shown once)
    'Token': closed({'token': STRING, 'expires_at': TIME, 'device_id': STRING,
                     'refresh_token': STRING, 'refresh_expires_at': TIME},
                    optional=('device_id', 'refresh_token', 'refresh_expires_at')),
    'Device': closed({'id': STRING, 'name': STRING, 'created': TIME, 'last_used': TIME,
                      'client': STRING, 'current': BOOLEAN}),
    'Devices': closed({'items': array(ref('Device'))}),
    'Post': closed({'id': STRING, 'title': STRING, 'department': STRING,
                    'department_title': STRING}, optional=('department_title',)),
    'Me': closed({'login': STRING, 'name': STRING, 'roles': array(STRING),
                  'posts': array(ref('Post'))}),
    'PostRef': closed({'id': STRING, 'title': STRING}),
    'Note': closed({'n': INTEGER, 'text': STRING, 'author': STRING, 'author_name': STRING,
                    'post': STRING, 'at': TIME, 'edited_at': MAYBE_TIME, 'frozen': BOOLEAN}),
    # "to" is empty for a file closed into the record room, "from" for one reopened from it
    'Movement': closed({'from': STRING, 'to': STRING, 'action': STRING, 'remarks': STRING,
                        'at': TIME, 'by': STRING}),
    'Attachment': closed({'id': STRING, 'title': STRING, 'filename': STRING,
                          'content_type': STRING, 'size': INTEGER,
                          'flag': {'type': 'string', 'description':
                                   'A, B, C... in the order attached (cited as "F/A")'},
                          'pages': {'type': ['integer', 'null'],
                                    'description': 'pages of a PDF; null for anything else'},
                          'diary_number': MAYBE_STRING,
                          # a scan (an image, a PDF without text): its text recognition
                          'ocr': {'oneOf': [{'type': 'null'}, ref('Recognition')]}}),
    # "waiting" or "reading" (pages_done of pages), "done" (searchable_pdf: a copy with
    # the text, beside the original), or "failed" (error says why; POST .../ocr again)
    'Recognition': closed({'state': {'enum': list(OCR_STATES)}, 'pages_done': INTEGER,
                           'pages': {'type': ['integer', 'null']}, 'error': MAYBE_STRING,
                           'searchable_pdf': BOOLEAN}),
    'Signature': closed({'login': STRING, 'name': STRING, 'post': MAYBE_STRING, 'at': TIME}),
    'Draft': closed({
        'id': STRING, 'kind': {'enum': list(DRAFT_KINDS)}, 'subject': STRING, 'body': STRING,
        'addressees': STRING, 'copies': STRING,
        'state': {'enum': list(DRAFT_WORKFLOW.states)}, 'author': STRING,
        'approved_by': MAYBE_STRING, 'approved_at': MAYBE_TIME, 'number': MAYBE_STRING,
        'dated_at': MAYBE_TIME, 'signatures': array(ref('Signature')),
        'issued_at': MAYBE_TIME}),
    'ItemRef': closed({'id': STRING, 'kind': {'enum': ['file', 'summary']}, 'number': STRING,
                       'subject': STRING}),
    # a file or summary this one is put up with (only those the caller may open are listed)
    'Link': closed({'id': STRING, 'kind': {'enum': ['file', 'summary']}, 'number': STRING,
                    'subject': STRING, 'remark': STRING, 'by': STRING, 'at': TIME}),
    # parked awaiting a reply until the date (UTC); "due": the date has come
    'Parked': closed({'until': {'type': 'string', 'format': 'date'}, 'reason': STRING,
                      'by': STRING, 'at': TIME, 'due': BOOLEAN}),
    'File': closed({
        'id': STRING, 'kind': {'const': 'file'}, 'number': STRING, 'subject': STRING,
        'state': {'enum': list(CASEFILE.states)},
        'classification': {'enum': list(CLASSIFICATIONS)},
        'priority': {'enum': list(PRIORITIES)}, 'department': STRING,
        'holder': ref('PostRef'), 'notes': array(ref('Note')), 'notes_count': INTEGER,
        'movements': array(ref('Movement')), 'movements_count': INTEGER,
        'actions': array({'enum': actions_of(CASEFILE)}),
        'attachments': array(ref('Attachment')), 'drafts': array(ref('Draft')),
        # the id of the decided summary the file was opened to implement
        'implements': MAYBE_STRING, **FOLLOW_UP,
        # once closed: its record class and the first day it may be weeded (null: class A)
        'record_class': {'enum': [*RECORD_CLASSES, None]},
        'weed_from': {'type': ['string', 'null'], 'format': 'date'},
        'legal_hold': {'oneOf': [{'type': 'null'}, ref('Hold')]}}),
    'Summary': closed({
        'id': STRING, 'kind': {'const': 'summary'}, 'number': STRING, 'subject': STRING,
        'state': {'enum': list(SUMMARY.states)},
        'classification': {'enum': list(CLASSIFICATIONS)},
        'priority': {'enum': list(PRIORITIES)}, 'department': STRING,
        'holder': ref('PostRef'), 'notes': array(ref('Note')), 'notes_count': INTEGER,
        'movements': array(ref('Movement')), 'movements_count': INTEGER,
        'actions': array({'enum': actions_of(SUMMARY)}),
        'background': STRING, 'proposal': STRING, 'financial_implications': STRING,
        'decision_sought': STRING,
        'decision': {'type': ['string', 'null'], 'enum': [*DECISIONS, None]},
        'decision_remarks': MAYBE_STRING, 'decided_at': MAYBE_TIME,
        'signatures': array(ref('Signature')),
        # filed by the department once decided; the file opened to implement it, if any
        'filed_at': MAYBE_TIME, 'implementing_file': MAYBE_STRING, **FOLLOW_UP}),
    'Opened': closed({'id': STRING, 'number': STRING, 'state': STRING, 'holder': STRING}),
    # a page of notes, in order; "more": notes numbered after the last one follow
    'Notes': closed({'items': array(ref('Note')), 'more': BOOLEAN}),
    'NoteNumber': closed({'n': INTEGER}),
    'NoteEdited': closed({'n': INTEGER, 'text': STRING}),
    'Attached': closed({'id': STRING, 'content_type': STRING, 'size': INTEGER,
                        'diary_number': MAYBE_STRING}),
    'DraftOpened': closed({'id': STRING, 'state': {'enum': list(DRAFT_WORKFLOW.states)}}),
    'InboxItem': closed({
        'id': STRING, 'kind': {'enum': ['file', 'summary', 'receipt']}, 'number': STRING,
        'subject': STRING, 'priority': {'enum': list(PRIORITIES)},
        'classification': {'enum': list(CLASSIFICATIONS)}, 'state': STRING,
        'holder': STRING, 'received_at': TIME, 'age_days': INTEGER, 'overdue': BOOLEAN,
        # in the sent view: when it was sent, and since when it is where it is now
        'sent_at': TIME, 'now_since': TIME,
        # parked (the parked view; in the others, back from parking): until when, why,
        # and whether the date has come
        'parked_until': TIME, 'reason': STRING, 'due': BOOLEAN},
        optional=('sent_at', 'now_since', 'parked_until', 'reason', 'due')),
    # "total" is null for the overdue and sent views (counting them would walk them all)
    # (inbox and pending: what the posts hold, and what they parked whose date has come)
    # "next_cursor": give it as "cursor" for the page after this one (null: none follows)
    'Inbox': closed({'items': array(ref('InboxItem')), 'total': {'type': ['integer', 'null']},
                     'more': BOOLEAN, 'next_cursor': MAYBE_STRING}),
    'Receipt': closed({
        'id': STRING, 'kind': {'const': 'receipt'}, 'number': STRING, 'subject': STRING,
        'sender': STRING, 'reference': STRING,
        'letter_date': {'type': ['string', 'null'], 'format': 'date'},
        'mode': {'enum': list(MODES)}, 'state': {'enum': list(RECEIPT.states)},
        'classification': {'enum': list(CLASSIFICATIONS)},
        'priority': {'enum': list(PRIORITIES)}, 'department': STRING,
        'registered_at': TIME, 'holder': ref('PostRef'),
        # the file it was put into (null until then, or when you may not open that file)
        'file_id': MAYBE_STRING,
        'letter': {'oneOf': [{'type': 'null'}, closed({
            'filename': STRING, 'content_type': STRING, 'size': INTEGER,
            'pages': {'type': ['integer', 'null']},
            'ocr': {'oneOf': [{'type': 'null'}, ref('Recognition')]}})]},
        'movements': array(ref('Movement')),
        'actions': array({'enum': actions_of(RECEIPT)})}),
    'Charge': closed({
        'id': STRING, 'post': STRING, 'post_title': STRING, 'login': STRING, 'name': STRING,
        'start': {'type': 'string', 'format': 'date'}, 'end': {'type': 'string', 'format': 'date'},
        'reason': STRING, 'state': {'enum': list(CHARGE_STATES)},
        'status': {'enum': ['requested', 'due', 'in_force', 'ended', 'revoked']},
        'given_by': STRING, 'approved_by': MAYBE_STRING, 'revoked_by': MAYBE_STRING}),
    'Charges': closed({'items': array(ref('Charge')),
                       # the posts you hold acting today
                       'acting': array(STRING)}),
    'Register': closed({'items': array(ref('Receipt')), 'more': BOOLEAN}),
    'Alert': closed({'at': TIME, 'kind': STRING, 'text': STRING, 'item_id': MAYBE_STRING,
                     'unread': BOOLEAN}),
    # "due": the reminders, files parked at your posts whose date has come (due longest
    # first, at most 50); "due_count": how many there are
    # "cursor": give it as "since" next time; "more": newer ones wait, ask again at once
    'AlertChanges': closed({'items': array(ref('Alert')), 'cursor': STRING,
                            'more': BOOLEAN}),
    'Alerts': closed({'items': array(ref('Alert')), 'unread': INTEGER,
                      'due': array(ref('InboxItem')), 'due_count': INTEGER}),
    'Unread': closed({'unread': INTEGER}),
    'SearchHit': closed({'id': STRING, 'kind': {'enum': list(SEARCH_KINDS)}, 'title': STRING,
                         'number': STRING, 'snippet': STRING, 'url': STRING}),
    'SearchResults': closed({
        'items': array(ref('SearchHit')), 'total': INTEGER, 'page': INTEGER, 'pages': INTEGER,
        'facets': {'type': 'object', 'additionalProperties': INTEGER},
        'index_lag_seconds': {'type': 'number'}}),
    'SignatureReport': closed({
        'field': STRING, 'signer': STRING, 'signer_login': STRING, 'signed_at': MAYBE_TIME,
        'timestamped': BOOLEAN, 'timestamp_trusted': {'type': ['boolean', 'null']},
        'intact': BOOLEAN, 'trusted': BOOLEAN, 'revoked': BOOLEAN, 'revoked_at': MAYBE_TIME,
        'changed_after': BOOLEAN, 'changes': {'enum': ['none', 'signatures', 'other']},
        'valid': BOOLEAN}),
    'Verification': closed({'valid': BOOLEAN, 'signatures': array(ref('SignatureReport'))}),
    'Health': closed({'status': {'const': 'ok'}, 'search': {'oneOf': [
        {'type': 'null'},
        closed({'pending': INTEGER, 'lag_seconds': {'type': 'number'}, 'failed': INTEGER,
                'indexer': {'enum': ['this process', 'elsewhere']}})]},
        # scans waiting to be read or being read (their text is indexed after)
        'ocr': closed({'waiting': INTEGER})}),
    'Unavailable': closed({'status': {'const': 'unavailable'}}),
    'Acknowledgement': closed({'received_on': {'type': 'string', 'format': 'date'},
                               'remarks': STRING, 'by': STRING, 'recorded_at': TIME}),
    'DispatchRecipient': closed({
        'line': STRING, 'role': {'enum': ['to', 'copy']},
        'acknowledgement': {'oneOf': [{'type': 'null'}, ref('Acknowledgement')]}}),
    'Dispatch': closed({
        'id': {'type': 'string', 'description': 'YEAR-NNNN, unique in the department'},
        'number': {'type': 'string', 'description': 'the dispatch number, e.g. FD/DS/2026/0001'},
        'department': STRING, 'file': STRING,
        'draft': {'type': 'string', 'description': '<file id>-<draft id>'},
        'document_number': STRING, 'subject': STRING, 'kind': {'enum': list(DRAFT_KINDS)},
        'mode': {'enum': list(DISPATCH_MODES)}, 'dispatched_at': TIME, 'by': STRING,
        'emails': array(STRING), 'remarks': STRING,
        'recipients': array(ref('DispatchRecipient'))}),
    'AwaitingDispatch': closed({'draft': STRING, 'number': STRING, 'subject': STRING,
                                'kind': {'enum': list(DRAFT_KINDS)}, 'issued_at': TIME}),
    'DispatchRegister': closed({'items': array(ref('Dispatch')), 'more': BOOLEAN,
                                'awaiting': array(ref('AwaitingDispatch'))}),
    # the record room
    'Hold': closed({'reason': STRING, 'by': STRING, 'at': TIME}),
    'HeldFile': closed({'file': STRING, 'number': STRING, 'reason': STRING, 'by': STRING,
                        'at': TIME}),
    'Holds': closed({'items': array(ref('HeldFile')), 'more': BOOLEAN}),
    'HoldsPlaced': closed({'placed': array(STRING), 'already': array(STRING)}),
    'DueFile': closed({'id': STRING, 'number': STRING, 'subject': STRING,
                       'classification': {'enum': list(CLASSIFICATIONS)},
                       'record_class': {'enum': list(RECORD_CLASSES)}, 'closed_at': TIME,
                       'weed_from': {'type': 'string', 'format': 'date'}}),
    'DueFiles': closed({'items': array(ref('DueFile')), 'more': BOOLEAN}),
    # a file on a weeding list as it stood when proposed; "subject" is null for a
    # confidential or secret file unless the caller is an approver of the department
    'ListedFile': closed({'id': STRING, 'number': STRING, 'subject': MAYBE_STRING,
                          'classification': {'enum': list(CLASSIFICATIONS)},
                          'record_class': {'enum': list(RECORD_CLASSES)},
                          'closed_at': TIME,
                          'outcome': {'enum': ['destroyed', 'held', 'reopened', 'gone',
                                               None]}}),
    'WeedingList': closed({
        'id': STRING, 'number': STRING, 'department': STRING,
        'state': {'enum': list(LIST_STATES)}, 'remarks': STRING,
        'proposed_by': STRING, 'proposed_at': TIME, 'approved_by': MAYBE_STRING,
        'approved_at': MAYBE_TIME, 'rejected_by': MAYBE_STRING, 'rejected_at': MAYBE_TIME,
        'reason': STRING, 'weeded_by': MAYBE_STRING, 'weeded_at': MAYBE_TIME,
        'signed_pdf': BOOLEAN, 'files': array(ref('ListedFile'))}),
    'WeedingLists': closed({'items': array(ref('WeedingList')), 'more': BOOLEAN}),
    'Tombstone': closed({'id': STRING, 'number': STRING, 'subject': MAYBE_STRING,
                         'classification': {'enum': list(CLASSIFICATIONS)},
                         'record_class': {'enum': list(RECORD_CLASSES)},
                         'closed_at': TIME, 'list': STRING, 'approved_by': STRING,
                         'approved_at': TIME, 'destroyed_by': STRING,
                         'destroyed_at': TIME}),
    'Tombstones': closed({'items': array(ref('Tombstone')), 'more': BOOLEAN}),
    # cabinet decisions' implementation
    'ImplementationAttachment': closed({'id': STRING, 'title': STRING, 'content_type': STRING,
                                        'size': INTEGER}),
    # "post": the post the report was made through (null: a role not from a post);
    # "reasons": why it is not possible ('' for the other statuses)
    'ImplementationReport': closed({
        'n': INTEGER, 'status': {'enum': list(REPORTED)}, 'note': STRING, 'reasons': STRING,
        'by': STRING, 'by_name': STRING, 'post': MAYBE_STRING, 'at': TIME,
        'acting': BOOLEAN, 'attachments': array(ref('ImplementationAttachment'))}),
    # "overdue": not implemented (pending or in progress) and the due date has passed;
    # "may_report": the caller may add a report now
    'ImplementationItem': closed({
        'id': STRING, 'source_id': STRING, 'department': STRING, 'meeting_title': STRING,
        'meeting_date': {'type': 'string', 'format': 'date'}, 'item_number': STRING,
        'subject': STRING, 'decision_text': STRING,
        'due': {'type': 'string', 'format': 'date'}, 'status': {'enum': list(STATUSES)},
        'overdue': BOOLEAN, 'assigned_at': TIME, 'may_report': BOOLEAN,
        'reports': array(ref('ImplementationReport'))}),
    'ImplementationItems': closed({'items': array(ref('ImplementationItem')),
                                   'more': BOOLEAN}),
}

# What the text rules (kp_workspace.text_rules) accept, as a pattern a client can
# check before sending: no controls, DEL or noncharacters, something besides
# spaces; a one-line field also no tabs, line breaks or bidirectional controls.
_NEVER = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\ufdd0-\\ufdef\\ufffe\\uffff\\u202d\\u202e'
_NOT_IN_LINE = ('\\t\\n\\r\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f'
                '\\u061c\\u200b\\u2060\\ufeff')


def text(maximum, minimum=1, line=False, blank=False):
    """A text input of at most ``maximum`` characters (``line``: a single line)."""
    refused = _NEVER + (_NOT_IN_LINE if line else '')
    ok = f'[^{refused}]'
    pattern = f'^{ok}*$' if blank else f'^{ok}*[^\\s{refused}]{ok}*$'
    return {'type': 'string', 'minLength': minimum if not blank else 0, 'maxLength': maximum,
            'pattern': pattern}


ID = path_params('id')
# a file or summary with only its newest notes and movements (10 of each; "notes_count"
# and "movements_count" say how many there are, GET .../notes pages through the notes)
COMPACT = {'name': 'compact', 'in': 'query', 'required': False,
           'description': 'Only the 10 newest notes and movements', 'schema': BOOLEAN}
NOTES_PAGE = (
    {'name': 'after', 'in': 'query', 'required': False,
     'description': 'Only the notes numbered after this one (the last "n" of a page)',
     'schema': {'type': 'integer', 'minimum': 0, 'maximum': 999999999}},
    {'name': 'limit', 'in': 'query', 'required': False,
     'schema': {'type': 'integer', 'minimum': 1, 'maximum': 50}})
TEXT = json_body({'text': text(20000)}, ['text'])
ACTION_BODY = {'required': False, 'content': json_content({
    'type': 'object', 'additionalProperties': False, 'properties': {
        'to_post': STRING, 'remarks': text(2000, blank=True),
        'decision': {'enum': list(DECISIONS)}, 'pin': STRING,
        'record_class': {'enum': list(RECORD_CLASSES)}}})}
BINARY = {'schema': {'type': 'string', 'format': 'binary'}}
# (application/octet-stream is listed after the real type: generators that know only
# that one, such as openapi-python-client, then keep the bytes instead of dropping them)
PDF = {'application/pdf': BINARY, 'application/octet-stream': BINARY}
ANY_FILE = {'*/*': BINARY, 'application/octet-stream': BINARY}
UPLOAD = {'required': True, 'content': {'multipart/form-data': {'schema': {
    'type': 'object', 'required': ['file'],
    'properties': {'file': {'type': 'string', 'format': 'binary'}}}}}}


def pdf_op(summary, param_schema=STRING):
    return {'summary': summary, 'parameters': path_params('id', id=param_schema),
            'responses': {'200': {'description': 'A PDF', 'content': PDF},
                          **errors(400, 401, 404, *WRITE)}}


def item_action(workflow, what, *codes):
    names = actions_of(workflow)
    return op(f'Run an action on the {what}: {", ".join(names)}. "to_post" names the post '
              f'to forward to; "pin" unlocks the signing key; "decision" and "remarks" '
              f'as the action needs.', f'The {what} after the action',
              ref('File' if what == 'file' else 'Summary'), (401, 403, 404, 409, *codes,
                                                            *WRITE),
              body=ACTION_BODY, params=path_params('id', 'action', action={'enum': names}))


MOVABLE_FIELDS = {'subject': text(300, minimum=3, line=True),
                  'classification': {'enum': list(CLASSIFICATIONS)},
                  'priority': {'enum': list(PRIORITIES)}}

PATHS = {
    '/api/v1/auth/token': {
        'post': op('Issue a bearer token (403 until a password an administrator set is '
                   'changed in the browser)', 'A new token', ref('Token'),
                   (400, 401, 403, 429, *WRITE),
                   status='201', security=[],
                   body=json_body({'login': STRING, 'password': STRING,
                                   'device': text(100, line=True)},
                                  ['login', 'password'])),
        'delete': op('Revoke the token sent with this request', 'Revoked', None,
                     (401, *WRITE), status='204'),
    },
    '/api/v1/me': {'get': op('The signed-in user, their roles and posts', 'The user',
                             ref('Me'), (401,))},
    '/api/v1/posts': {'get': op('All posts', 'The posts', array(ref('Post')), (401,))},
    '/api/v1/departments/{department_id}/files': {'post': op(
        'Open a case file, held by your post in the department ("post" chooses one)',
        'The new file', ref('Opened'), (400, 401, 403, 404, *WRITE), status='201',
        body=json_body({**MOVABLE_FIELDS, 'post': STRING}, ['subject']),
        params=path_params('department_id'))},
    '/api/v1/departments/{department_id}/summaries': {'post': op(
        'Draft a summary for the Chief Minister', 'The new summary', ref('Opened'),
        (400, 401, 403, 404, *WRITE), status='201',
        body=json_body({**MOVABLE_FIELDS, **{k: text(20000) for k in (
            'background', 'proposal', 'decision_sought')}, 'financial_implications': text(20000, blank=True)},
            ['subject', 'background', 'proposal', 'decision_sought']),
        params=path_params('department_id'))},
    '/api/v1/files/{id}': {'get': op('A case file with notes, attachments, movements and '
                                     'drafts (compact: the newest notes and movements only)',
                                     'The file', ref('File'), (401, 404, 410, *WRITE),
                                     params=[*ID, COMPACT])},
    '/api/v1/files/{id}/notes': {'get': op(
        'The notes of a file, in order, a page at a time', 'A page of notes', ref('Notes'),
        (400, 401, 404, 410, *WRITE), params=[*ID, *NOTES_PAGE]), 'post': op(
        'Write a note as the holder', 'The number of the new note', ref('NoteNumber'),
        (400, 401, 403, 404, 409, *WRITE), status='201', body=TEXT, params=ID)},
    '/api/v1/files/{id}/notes/{n}': {'patch': op(
        'Change your note until the file moves', 'The note', ref('NoteEdited'),
        (400, 401, 403, 404, 409, *WRITE), body=TEXT,
        params=path_params('id', 'n', n={'type': 'integer', 'minimum': 1,
                                         'maximum': 2 ** 31 - 1}))},
    '/api/v1/files/{id}/attachments': {'post': op(
        'Attach a file (multipart field "file"; optional "title"; "receipt" = 1 registers '
        'it as a receipt with a diary number)', 'Attached', ref('Attached'),
        (400, 401, 403, 404, 409, 413, 415, *WRITE), status='201', params=ID,
        body={'required': True, 'content': {'multipart/form-data': {'schema': {
            'type': 'object', 'required': ['file'],
            'properties': {'file': {'type': 'string', 'format': 'binary'},
                           'title': text(200, line=True, blank=True),
                           'receipt': {'enum': ['0', '1']}}}}}})},
    '/api/v1/files/{id}/attachments/{att_id}': {'get': {
        'summary': 'The bytes of an attachment, of the type it was stored with',
        'parameters': path_params('id', 'att_id'),
        'responses': {'200': {'description': 'The file', 'content': ANY_FILE},
                      **errors(400, 401, 404, *WRITE)}}},
    '/api/v1/files/{id}/attachments/{att_id}/ocr': {'post': op(
        'Read the text of a scan whose reading failed again, as the holder', 'The attachment',
        ref('Attachment'), (401, 403, 404, 409, *WRITE), params=path_params('id', 'att_id'))},
    '/api/v1/files/{id}/attachments/{att_id}/searchable': {'get': {
        'summary': 'The searchable PDF copy of a scan (its text laid over its pages), once '
                   'read; the original is never altered',
        'parameters': path_params('id', 'att_id'),
        'responses': {'200': {'description': 'A PDF', 'content': PDF},
                      **errors(400, 401, 404, *WRITE)}}},
    '/api/v1/files/{id}/actions/{action}': {'post': item_action(CASEFILE, 'file')},
    '/api/v1/files/{id}/drafts': {'post': op(
        'Draft a letter, memorandum, office order or notification as the holder',
        'The new draft', ref('DraftOpened'), (400, 401, 403, 404, 409, *WRITE), status='201',
        body=json_body({'kind': {'enum': list(DRAFT_KINDS)},
                        'subject': text(300, line=True),
                        'body': text(50000),
                        'addressees': text(5000, blank=True),
                        'copies': text(5000, blank=True)},
                       ['kind', 'subject', 'body']), params=ID)},
    '/api/v1/files/{id}/links': {'post': op(
        'Put the file up with another file or summary, by its number ("FD/2025/0311"), as '
        'the holder; 404 alike for a number that does not exist and one you may not open',
        'The file, with its links', ref('File'), (400, 401, 403, 404, 409, *WRITE),
        status='201', params=ID,
        body=json_body({'number': text(60, line=True), 'remark': text(500, blank=True)},
                       ['number']))},
    '/api/v1/files/{id}/links/{other}': {'delete': op(
        'Take the file or summary "other" (its id) off the file, as the holder',
        'Removed', None, (400, 401, 403, 404, 409, *WRITE), status='204',
        params=path_params('id', 'other'))},
    '/api/v1/files/{id}/park': {'post': op(
        'Park the file awaiting a reply, as the holder: it leaves the inbox (for '
        'GET /api/v1/inbox?view=parked) and comes back, due, on "until" (a date after today, '
        'a year ahead at most, from 00:00 UTC). Parked already: the new date and reason '
        'replace the old.', 'The file, parked', ref('File'),
        (400, 401, 403, 404, 409, *WRITE), params=ID,
        body=json_body({'until': {'type': 'string', 'format': 'date'},
                        'reason': text(500, minimum=3)}, ['until', 'reason']))},
    '/api/v1/files/{id}/resume': {'post': op(
        'Take a parked file back into the inbox before its date (or once due), as the '
        'holder; 409 when it is not parked', 'The file', ref('File'),
        (400, 401, 403, 404, 409, *WRITE), params=ID)},
    '/api/v1/files/{id}/pdf': {'get': pdf_op('The whole file as one PDF: noting sheet, '
                                             'movement register, correspondence, bookmarks')},
    '/api/v1/drafts/{id}/actions/{action}': {'post': op(
        f'Run an action on a draft ("<file id>-<draft id>"): '
        f'{", ".join(actions_of(DRAFT_WORKFLOW))}. sign {{"pin"}} numbers, dates and signs '
        f'the PDF (403 for a wrong PIN, counted; 429 when locked); issuing a notification '
        f'publishes it.', 'The draft after the action', ref('Draft'),
        (400, 401, 403, 404, 409, 429, *WRITE),
        body={'required': False, 'content': json_content({
            'type': 'object', 'properties': {'pin': STRING}})},
        params=path_params('id', 'action', action={'enum': actions_of(DRAFT_WORKFLOW)}))},
    '/api/v1/drafts/{id}/pdf': {'get': pdf_op('The signed PDF, or a preview marked DRAFT')},
    '/api/v1/drafts/{id}/dispatch': {'post': op(
        'Dispatch an issued document ("<file id>-<draft id>"): an entry in its department\'s '
        'dispatch register. "recipients": the addressee and copy lines this dispatch covers '
        '(all when left out); "mode": email sends the signed PDF to "emails" (addresses '
        'separated by commas or lines) through the mail server after the commit. Who may: '
        'the file\'s holder (forward permission) or the department\'s diary (register_receipt, '
        'routine files only). 409: not issued, the file with another desk, or no mail server '
        'for e-mail.', 'The dispatch entry', ref('Dispatch'),
        (400, 401, 403, 404, 409, *WRITE), status='201', params=ID,
        body=json_body({'mode': {'enum': list(DISPATCH_MODES)},
                        'recipients': {'type': 'array', 'items': text(5000, line=True),
                                       'minItems': 1, 'maxItems': 200},
                        'emails': {'type': 'string', 'maxLength': MAX_ADDRESSES * 260},
                        'remarks': text(500, blank=True)}, ['mode']))},
    '/api/v1/departments/{department_id}/dispatch': {'get': op(
        'The department\'s dispatch register, newest first (the entries of files you may '
        'open; the diary: of routine files), and the issued documents awaiting dispatch. '
        '"since" and "until" (YYYY-MM-DD, UTC, inclusive) bound the dispatch date; "pending": '
        'only entries with an acknowledgement outstanding.', 'A page of the register',
        ref('DispatchRegister'), (400, 401, 403, 404),
        params=path_params('department_id') + [
            {'name': n, 'in': 'query', 'required': False, 'schema': sch} for n, sch in (
                ('since', {'type': 'string', 'format': 'date'}),
                ('until', {'type': 'string', 'format': 'date'}),
                ('mode', {'enum': list(DISPATCH_MODES)}), ('pending', {'enum': ['0', '1']}),
                ('offset', {'type': 'integer', 'minimum': 0, 'maximum': 1000000}),
                ('limit', {'type': 'integer', 'minimum': 1, 'maximum': 200}))])},
    '/api/v1/departments/{department_id}/dispatch/{entry}/acknowledgements': {'post': op(
        'Record that one addressee of a dispatch received it ("recipient": its line; '
        '"received_on": YYYY-MM-DD, from the dispatch to today). 409: acknowledged already.',
        'The dispatch entry', ref('Dispatch'), (400, 401, 403, 404, 409, *WRITE),
        params=path_params('department_id', 'entry'),
        body=json_body({'recipient': text(5000, line=True),
                        'received_on': {'type': 'string', 'format': 'date'},
                        'remarks': text(500, line=True, blank=True)},
                       ['recipient', 'received_on']))},
    '/api/v1/summaries/{id}': {'get': op('A summary (compact: the newest notes and movements '
                                         'only)', 'The summary', ref('Summary'),
                                         (401, 404, *WRITE), params=[*ID, COMPACT])},
    '/api/v1/summaries/{id}/notes': {'get': op(
        'The notes of a summary, in order, a page at a time', 'A page of notes',
        ref('Notes'), (400, 401, 404, *WRITE), params=[*ID, *NOTES_PAGE]), 'post': op(
        'Comment on a summary as its holder', 'The number of the new note', ref('NoteNumber'),
        (400, 401, 403, 404, 409, *WRITE), status='201', body=TEXT, params=ID)},
    '/api/v1/summaries/{id}/actions/{action}': {'post': item_action(SUMMARY, 'summary', 429)},
    '/api/v1/summaries/{id}/pdf': {'get': pdf_op('The summary PDF (signed once signed)')},
    '/api/v1/verify': {'post': op(
        'Verify the signatures of a PDF (no sign-in)', 'What each signature says',
        ref('Verification'), (400, 413), body=UPLOAD, security=[])},
    '/api/v1/inbox': {'get': op(
        'What your posts hold, with what they parked whose date has come ("due": true) '
        '(inbox: newest first; pending: oldest first; overdue), what they sent (sent, with '
        '"sent_at"), or what they parked awaiting a reply (parked: soonest due first, with '
        '"parked_until", "reason" and "due")', 'A page of the list', ref('Inbox'),
        (400, 401), params=[
            {'name': 'view', 'in': 'query', 'required': False,
             'schema': {'enum': ['inbox', 'pending', 'overdue', 'sent', 'parked']}},
            *CURSOR_PAGE])},
    '/api/v1/charges': {
        'get': op('The acting charges you may see (all, for an administrator) and the posts '
                  'you hold acting today', 'The charges', ref('Charges'), (401,)),
        'post': op(
            "Give a post's charge for days (YYYY-MM-DD, inclusive, at most 180): an "
            'administrator, in force at once; the post\'s holder, once an approver of the '
            'department approves it', 'The charge', ref('Charge'),
            (400, 401, 403, 409, *WRITE), status='201',
            body=json_body({'post': STRING, 'login': STRING,
                            'start': {'type': 'string', 'format': 'date'},
                            'end': {'type': 'string', 'format': 'date'},
                            'reason': text(500, line=True)},
                           ['post', 'login', 'start', 'end', 'reason']))},
    '/api/v1/charges/{id}/actions/{action}': {'post': op(
        'approve (an approver of the department, not the giver nor the delegate) or revoke '
        '(end it now: an administrator, the giver, the post\'s holder or the delegate)',
        'The charge', ref('Charge'), (401, 403, 404, 409, *WRITE),
        params=path_params('id', 'action', action={'enum': ['approve', 'revoke']}))},
    '/api/v1/departments/{department_id}/receipts': {
        'get': op(
            'The diary register of the department, newest first (for those who keep its '
            'diary). "from" and "to" (YYYY-MM-DD, UTC, inclusive) bound the day registered; '
            '"q" looks in the number, sender, reference and subject. The newest 5,000 entries '
            'past "offset" are looked through: give dates to look further back.',
            'A page of the register', ref('Register'), (400, 401, 403, 404),
            params=path_params('department_id') + [
                {'name': n, 'in': 'query', 'required': False, 'schema': s} for n, s in (
                    ('q', text(200, line=True, blank=True)),
                    ('state', {'enum': list(RECEIPT.states)}), ('mode', {'enum': list(MODES)}),
                    ('from', {'type': 'string', 'format': 'date'}),
                    ('to', {'type': 'string', 'format': 'date'}),
                    ('offset', {'type': 'integer', 'minimum': 0, 'maximum': 1000000}),
                    ('limit', {'type': 'integer', 'minimum': 1, 'maximum': 200}))]),
        'post': op(
            'Register an inward letter in the diary (multipart: "file" the scan, "sender", '
            '"subject", "mode"; optional "reference", "letter_date" YYYY-MM-DD, '
            '"classification", "priority"). It gets the next diary number and waits with '
            'the diary.', 'The receipt', ref('Receipt'),
            (400, 401, 403, 404, 413, 415, *WRITE), status='201',
            params=path_params('department_id'),
            body={'required': True, 'content': {'multipart/form-data': {'schema': {
                'type': 'object', 'required': ['file', 'sender', 'subject', 'mode'],
                'properties': {'file': {'type': 'string', 'format': 'binary'},
                               'sender': text(200, minimum=2, line=True),
                               'subject': text(300, minimum=3, line=True),
                               'mode': {'enum': list(MODES)},
                               'reference': text(100, line=True, blank=True),
                               'letter_date': {'type': 'string', 'format': 'date'},
                               'classification': {'enum': list(CLASSIFICATIONS)},
                               'priority': {'enum': list(PRIORITIES)}}}}}})},
    '/api/v1/receipts': {'get': op(
        'The letters marked to your posts (your Receipts), newest first', 'A page of them',
        ref('Inbox'), (400, 401), params=CURSOR_PAGE)},
    '/api/v1/receipts/{id}': {'get': op('A receipt (a letter in the dak) and its movements',
                                        'The receipt', ref('Receipt'), (401, 404, *WRITE),
                                        params=ID)},
    '/api/v1/receipts/{id}/actions/{action}': {'post': op(
        f'Run a step on a receipt: {", ".join(actions_of(RECEIPT))}. mark (the diary) and '
        f'forward take "to_post", a post of its department; return (to the diary) needs '
        f'"remarks"; file takes "file", the id of an open file you hold; open_file takes '
        f'an optional "subject" (the letter\'s by default).', 'The receipt after the step',
        ref('Receipt'), (401, 403, 404, 409, *WRITE),
        body={'required': False, 'content': json_content({
            'type': 'object', 'additionalProperties': False, 'properties': {
                'to_post': STRING, 'remarks': text(2000, blank=True), 'file': STRING,
                'subject': text(300, minimum=3, line=True)}})},
        params=path_params('id', 'action', action={'enum': actions_of(RECEIPT)}))},
    '/api/v1/receipts/{id}/letter': {'get': {
        'summary': 'The scan of the letter, of the type it was stored with',
        'parameters': ID,
        'responses': {'200': {'description': 'The file', 'content': ANY_FILE},
                      **errors(400, 401, 404, *WRITE)}}},
    '/api/v1/receipts/{id}/letter/ocr': {'post': op(
        'Read the text of a letter whose reading failed again, as the receipt\'s holder '
        '(once it is in a file, through the file\'s attachment)', 'The receipt',
        ref('Receipt'), (401, 404, 409, *WRITE), params=ID)},
    '/api/v1/alerts': {'get': op('Your newest 50 alerts and how many are unread, and the '
                                 'files parked at your posts that are due for follow-up',
                                 'The alerts', ref('Alerts'), (401,))},
    '/api/v1/alerts/read': {'post': op('Mark every alert as read', 'Marked', ref('Unread'),
                                       (401, *WRITE))},
    '/api/v1/search': {'get': op(
        'Search what you may open. With a filter the words may be left out: everything '
        'matching, newest first. "from" and "to" (YYYY-MM-DD, UTC, inclusive) bound the last '
        'action. "index_lag_seconds": how far the index is behind (0 when it has caught up; '
        'changes normally appear within a second or two).', 'A page of results (20 a page)',
        ref('SearchResults'), (400, 401), params=[
            {'name': n, 'in': 'query', 'required': False, 'schema': s} for n, s in (
                ('q', {'type': 'string', 'maxLength': 500}),
                ('type', {'enum': list(SEARCH_KINDS)}), ('department', STRING),
                ('state', {'enum': list(SEARCH_STATES)}),
                ('classification', {'enum': list(CLASSIFICATIONS)}),
                ('from', {'type': 'string', 'format': 'date'}),
                ('to', {'type': 'string', 'format': 'date'}),
                ('page', {'type': 'integer', 'minimum': 1, 'maximum': 10000}),
                ('sort', {'enum': ['relevance', 'date']}))])},
    '/api/v1/openapi.json': {'get': {
        'summary': 'This document', 'security': [],
        'responses': {'200': {'description': 'The OpenAPI 3.1 description of the API',
                              'content': json_content({'type': 'object',
                                                       'required': ['openapi', 'paths']})}}}},
    '/healthz': {'get': {
        'summary': 'Health check: the databases open; "search": changes waiting for the '
                   'search indexer, the oldest for how long, items that could not be indexed, '
                   'and whether this process indexes (null before the index queue exists)',
        'security': [],
        'responses': {'200': {'description': 'The databases open',
                              'content': json_content(ref('Health'))},
                      '503': {'description': 'The database is unavailable',
                              'content': json_content(ref('Unavailable'))}}}},
}

PAGING = [{'name': 'offset', 'in': 'query', 'required': False,
           'schema': {'type': 'integer', 'minimum': 0, 'maximum': 1000000}},
          {'name': 'limit', 'in': 'query', 'required': False,
           'schema': {'type': 'integer', 'minimum': 1, 'maximum': 200}}]
DEPT = path_params('department_id')
LIST = path_params('department_id', 'list')
ROOM = ('Records clerks and approvers of the department only (403 for others).')
DEVICE = ('A device is an app signed in with "device" (a name) at POST /api/v1/auth/token: '
          'its access token and its refresh token. ')
IMPLEMENTATION_REPORT = {
    'status': {'enum': list(REPORTED)}, 'note': text(MAX_NOTE),
    'reasons': text(MAX_REASONS, blank=True)}
PATHS.update({
    '/api/v1/alerts/changes': {'get': op(
        'Your alerts newer than "since" (the cursor an earlier answer gave; none: the newest '
        '50), newest first, and the cursor to ask from next. "wait" (0 to 25 seconds): when '
        'nothing is new, wait for an alert that long (a long poll; when the server has too '
        'many waiting, it answers at once and the app asks again).', 'What is new',
        ref('AlertChanges'), (400, 401), params=[
            {'name': 'since', 'in': 'query', 'required': False,
             'schema': {'type': 'string', 'pattern': '^[0-9]{1,18}$'}},
            {'name': 'wait', 'in': 'query', 'required': False,
             'schema': {'type': 'integer', 'minimum': 0, 'maximum': 25}}])},
    '/api/v1/auth/refresh': {'post': op(
        'A new access token and a new refresh token for a device\'s refresh token, which is '
        'spent: sent again, it revokes the device (its tokens end). 401 for a refresh token '
        'unknown, expired, spent or revoked, or a user no longer signed in (password reset, '
        'deactivated).', 'New tokens', ref('Token'), (400, 401, *WRITE), status='201',
        security=[], body=json_body({'refresh_token': STRING}, ['refresh_token']))},
    '/api/v1/auth/devices': {'get': op(
        DEVICE + 'Your devices signed in now, newest first ("current": the one asking).',
        'Your devices', ref('Devices'), (401,))},
    '/api/v1/auth/devices/{id}': {'delete': op(
        DEVICE + 'Sign one of your devices out: its tokens end.', 'Revoked', None,
        (401, 404, *WRITE), status='204', params=ID)},
    '/api/v1/users/{login}/devices': {'get': op(
        DEVICE + 'A user\'s devices (administrators).', 'The devices', ref('Devices'),
        (401, 403, 404), params=path_params('login'))},
    '/api/v1/users/{login}/devices/{id}': {'delete': op(
        DEVICE + 'Sign a user\'s device out (administrators).', 'Revoked', None,
        (401, 403, 404, *WRITE), status='204', params=path_params('login', 'id'))},
    '/api/v1/departments/{department_id}/records/due': {'get': op(
        'Closed files of the department whose record class (B or C) has kept its years, '
        'that you may open, on no weeding list and under no legal hold; closed longest ago '
        'first. ' + ROOM, 'A page of files due', ref('DueFiles'), (400, 401, 403, 404),
        params=DEPT + PAGING)},
    '/api/v1/departments/{department_id}/weeding-lists': {
        'get': op('The department\'s weeding lists, newest first. ' + ROOM,
                  'A page of lists', ref('WeedingLists'), (400, 401, 403, 404),
                  params=DEPT + PAGING),
        'post': op(
            'Propose a weeding list of files due ("files": their ids). 409 when one is not '
            'due, is held, is on another list or published a notification. ' + ROOM,
            'The new list', ref('WeedingList'), (400, 401, 403, 404, 409, *WRITE),
            status='201', params=DEPT,
            body=json_body({'files': {'type': 'array', 'minItems': 1, 'maxItems': MAX_LIST,
                                      'items': text(40, line=True)},
                            'remarks': text(1000, blank=True)}, ['files']))},
    '/api/v1/departments/{department_id}/weeding-lists/{list}': {'get': op(
        'A weeding list. ' + ROOM, 'The list', ref('WeedingList'), (401, 403, 404),
        params=LIST)},
    '/api/v1/departments/{department_id}/weeding-lists/{list}/actions/{action}': {
        'post': op(
            'approve {"pin"}: an approver (approve and sign) other than the proposer '
            'approves the proposed list and signs its PDF (403 for a wrong PIN, counted; '
            '429 when locked; 409 when a file is no longer due). reject {"reason"}: an '
            'approver rejects a list not yet carried out. carry_out: a records clerk or '
            'approver destroys the files of the approved list that are still due and not '
            'held; a tombstone stays of each.', 'The list after the action',
            ref('WeedingList'), (400, 401, 403, 404, 409, 429, *WRITE),
            params=path_params('department_id', 'list', 'action',
                               action={'enum': ['approve', 'reject', 'carry_out']}),
            body={'required': False, 'content': json_content({
                'type': 'object', 'additionalProperties': False,
                'properties': {'pin': STRING, 'reason': text(1000, minimum=3)}})})},
    '/api/v1/departments/{department_id}/weeding-lists/{list}/pdf': {'get': {
        'summary': 'The signed weeding list (404 until approved)',
        'parameters': LIST,
        'responses': {'200': {'description': 'A PDF', 'content': PDF},
                      **errors(400, 401, 403, 404)}}},
    '/api/v1/departments/{department_id}/holds': {
        'get': op('The legal holds on the department\'s files, newest first. ' + ROOM,
                  'A page of holds', ref('Holds'), (400, 401, 403, 404),
                  params=DEPT + PAGING),
        'post': op(
            'Place a legal hold: on "files" (ids), the file numbered "number", or every file '
            f'of the department the search "query" finds (at most {MAX_HOLD_SEARCH}; more is '
            'refused), each one you may open. "placed": newly held; "already": held before. '
            + ROOM, 'What was held', ref('HoldsPlaced'), (400, 401, 403, 404, *WRITE),
            status='201', params=DEPT,
            body=json_body({'files': {'type': 'array', 'minItems': 1,
                                      'maxItems': MAX_HOLD_SEARCH,
                                      'items': text(40, line=True)},
                            'number': text(100, line=True), 'query': text(200, line=True),
                            'reason': text(1000, minimum=3)}, ['reason']))},
    '/api/v1/departments/{department_id}/holds/{file}/lift': {'post': op(
        'Lift the legal hold on a file (approvers of the department only).',
        'The hold lifted', ref('HeldFile'), (400, 401, 403, 404, *WRITE),
        params=path_params('department_id', 'file'),
        body=json_body({'reason': text(1000, minimum=3)}, ['reason']))},
    '/api/v1/departments/{department_id}/tombstones': {'get': op(
        'What stays of the department\'s destroyed files, latest first ("subject" null for '
        'a confidential or secret one unless you are an approver). ' + ROOM,
        'A page of tombstones', ref('Tombstones'), (400, 401, 403, 404),
        params=DEPT + PAGING)},
    '/api/v1/implementation': {'get': op(
        'Cabinet decisions sent to departments for implementation that you may see: those '
        'of the departments where you write notes (officers and approvers), and every '
        'department\'s for the Chief Secretary and the Chief Minister; by department, due '
        'soonest first. "department" and "status" narrow the list. Reading it raises the '
        'overdue alerts due (once per decision).', 'A page of decisions',
        ref('ImplementationItems'), (400, 401),
        params=[*PAGING, {'name': 'department', 'in': 'query', 'required': False,
                          'schema': {'type': 'string', 'maxLength': 100}},
                {'name': 'status', 'in': 'query', 'required': False,
                 'schema': {'enum': list(STATUSES)}}])},
    '/api/v1/implementation/{id}/reports': {'post': op(
        'Report compliance on a decision, as its department (write_note there; 403 for '
        'others who may see it, 404 for the rest): "status" in_progress, implemented or '
        'not_possible ("reasons" required), and "note". As JSON, or as multipart form data '
        f'with up to {MAX_ATTACHMENTS} files in the field "file". Reports are never changed; '
        '409 once the decision is implemented.', 'The decision with the new report',
        ref('ImplementationItem'), (400, 401, 403, 404, 409, 413, 415, *WRITE),
        status='201', params=ID,
        body={'required': True, 'content': {
            'application/json': {'schema': {
                'type': 'object', 'additionalProperties': False,
                'required': ['status', 'note'], 'properties': IMPLEMENTATION_REPORT}},
            'multipart/form-data': {'schema': {
                'type': 'object', 'required': ['status', 'note'],
                'properties': {**IMPLEMENTATION_REPORT, 'file': {
                    'type': 'array', 'maxItems': MAX_ATTACHMENTS,
                    'items': {'type': 'string', 'format': 'binary'}}}}}}})},
})

# public transparency (kp_workspace.transparency): no sign-in ("security": []), the same
# answer for everyone (Cache-Control: public, a short max-age, and the ETag)
NO_SIGN_IN = ('No sign-in: send no token. ')
COUNT = {'type': 'integer', 'minimum': 0}
SCHEMAS.update({
    'PublicNotification': closed({
        'id': {'type': 'string', 'description': 'stable: "<file id>-<draft id>"'},
        'number': STRING, 'subject': STRING,
        'department': {'type': 'string', 'description': 'the department\'s id'},
        'department_title': STRING, 'department_title_ur': STRING,
        'dated': {'type': ['string', 'null'], 'format': 'date'}, 'issued_at': TIME,
        'pdf_url': {'type': 'string', 'format': 'uri',
                    'description': 'the signed PDF (verify it at POST /api/v1/verify)'}}),
    # "next_cursor": give it as "cursor" for the older page after this one (null: none)
    'PublicNotifications': closed({'items': array(ref('PublicNotification')),
                                   'total': COUNT, 'next_cursor': MAYBE_STRING}),
    'PublicDepartment': closed({
        'id': STRING, 'title': STRING, 'title_ur': STRING,
        'pending': {**COUNT, 'description': 'case files open now'},
        'received_this_month': COUNT, 'disposed_this_month': COUNT,
        'url': {'type': 'string', 'format': 'uri', 'description': 'its figures'}}),
    'PublicDepartments': closed({'as_of': TIME, 'month': {'type': 'string',
                                                          'pattern': '^[0-9]{4}-[0-9]{2}$'},
                                 'items': array(ref('PublicDepartment'))}),
    'AgeBand': closed({'band': {'enum': [b[0] for b in AGE_BANDS]},
                       'from_days': COUNT,
                       'to_days': {'type': ['integer', 'null'], 'minimum': 0,
                                   'description': 'null: no upper bound'},
                       'count': COUNT}),
    'MonthFigures': closed({'month': {'type': 'string', 'pattern': '^[0-9]{4}-[0-9]{2}$'},
                            'received': COUNT, 'disposed': COUNT,
                            'pending_at_end': {**COUNT, 'description':
                                               'open at the month\'s end (the current '
                                               'month: now)'}}),
    'DepartmentFigures': closed({
        'id': STRING, 'title': STRING, 'title_ur': STRING, 'as_of': TIME,
        'pending': COUNT, 'age_bands': array(ref('AgeBand')),
        'months': array(ref('MonthFigures'))}),
})
FIGURES = ('A department\'s case files as counts only (never a subject, number, post or '
           'name; files of every classification counted together): received (opened or '
           'reopened) and disposed of (closed) per month (UTC), and those pending now by '
           'whole days since they came. ')
PATHS.update({
    '/api/v1/public/notifications': {'get': op(
        NO_SIGN_IN + 'The notifications issued and published, newest first, a page at a '
        'time ("cursor": the previous page\'s "next_cursor"). The same as the Atom feed at '
        '/public/notifications.atom.', 'A page of notifications', ref('PublicNotifications'),
        (400,), security=[], params=[
            {'name': 'limit', 'in': 'query', 'required': False,
             'schema': {'type': 'integer', 'minimum': 1, 'maximum': 100}},
            CURSOR_PAGE[2]])},
    '/api/v1/public/departments': {'get': op(
        NO_SIGN_IN + 'Every department with its case files pending now, and received and '
        'disposed of this month (counts only).', 'The departments',
        ref('PublicDepartments'), (), security=[])},
    '/api/v1/public/departments/{department_id}': {'get': op(
        NO_SIGN_IN + FIGURES + 'The last 12 months, oldest first.', 'The figures',
        ref('DepartmentFigures'), (404,), security=[], params=DEPT)},
})

# Every operation's stable name (operationId: what a generated client calls its function)
# and its tag (how a generated client groups them).  A new operation without one fails
# tests/api/test_openapi_document.py.
OPERATIONS = {
    'POST /api/v1/auth/token': ('issueToken', 'auth'),
    'DELETE /api/v1/auth/token': ('revokeToken', 'auth'),
    'GET /api/v1/me': ('getMe', 'auth'),
    'POST /api/v1/auth/refresh': ('refreshToken', 'auth'),
    'GET /api/v1/auth/devices': ('listMyDevices', 'auth'),
    'DELETE /api/v1/auth/devices/{id}': ('revokeMyDevice', 'auth'),
    'GET /api/v1/users/{login}/devices': ('listUserDevices', 'users'),
    'DELETE /api/v1/users/{login}/devices/{id}': ('revokeUserDevice', 'users'),
    'GET /api/v1/posts': ('listPosts', 'directory'),
    'POST /api/v1/departments/{department_id}/files': ('openFile', 'files'),
    'GET /api/v1/files/{id}': ('getFile', 'files'),
    'GET /api/v1/files/{id}/notes': ('listFileNotes', 'files'),
    'POST /api/v1/files/{id}/notes': ('writeFileNote', 'files'),
    'PATCH /api/v1/files/{id}/notes/{n}': ('editFileNote', 'files'),
    'POST /api/v1/files/{id}/attachments': ('attachToFile', 'files'),
    'GET /api/v1/files/{id}/attachments/{att_id}': ('getAttachment', 'files'),
    'POST /api/v1/files/{id}/attachments/{att_id}/ocr': ('readAttachmentAgain', 'files'),
    'GET /api/v1/files/{id}/attachments/{att_id}/searchable': ('getSearchableCopy', 'files'),
    'POST /api/v1/files/{id}/actions/{action}': ('runFileAction', 'files'),
    'POST /api/v1/files/{id}/drafts': ('addDraft', 'drafts'),
    'POST /api/v1/files/{id}/links': ('linkFile', 'follow-ups'),
    'DELETE /api/v1/files/{id}/links/{other}': ('unlinkFile', 'follow-ups'),
    'POST /api/v1/files/{id}/park': ('parkFile', 'follow-ups'),
    'POST /api/v1/files/{id}/resume': ('resumeFile', 'follow-ups'),
    'GET /api/v1/files/{id}/pdf': ('getFilePdf', 'files'),
    'POST /api/v1/drafts/{id}/actions/{action}': ('runDraftAction', 'drafts'),
    'GET /api/v1/drafts/{id}/pdf': ('getDraftPdf', 'drafts'),
    'POST /api/v1/drafts/{id}/dispatch': ('dispatchDraft', 'dispatch'),
    'GET /api/v1/departments/{department_id}/dispatch': ('getDispatchRegister', 'dispatch'),
    'POST /api/v1/departments/{department_id}/dispatch/{entry}/acknowledgements':
        ('acknowledgeDispatch', 'dispatch'),
    'POST /api/v1/departments/{department_id}/summaries': ('draftSummary', 'summaries'),
    'GET /api/v1/summaries/{id}': ('getSummary', 'summaries'),
    'GET /api/v1/summaries/{id}/notes': ('listSummaryNotes', 'summaries'),
    'POST /api/v1/summaries/{id}/notes': ('writeSummaryNote', 'summaries'),
    'POST /api/v1/summaries/{id}/actions/{action}': ('runSummaryAction', 'summaries'),
    'GET /api/v1/summaries/{id}/pdf': ('getSummaryPdf', 'summaries'),
    'POST /api/v1/verify': ('verifyPdf', 'signing'),
    'GET /api/v1/inbox': ('getInbox', 'desk'),
    'GET /api/v1/charges': ('listCharges', 'charges'),
    'POST /api/v1/charges': ('giveCharge', 'charges'),
    'POST /api/v1/charges/{id}/actions/{action}': ('runChargeAction', 'charges'),
    'GET /api/v1/departments/{department_id}/receipts': ('getDiary', 'dak'),
    'POST /api/v1/departments/{department_id}/receipts': ('registerReceipt', 'dak'),
    'GET /api/v1/receipts': ('listReceipts', 'dak'),
    'GET /api/v1/receipts/{id}': ('getReceipt', 'dak'),
    'POST /api/v1/receipts/{id}/actions/{action}': ('runReceiptAction', 'dak'),
    'GET /api/v1/receipts/{id}/letter': ('getReceiptLetter', 'dak'),
    'POST /api/v1/receipts/{id}/letter/ocr': ('readLetterAgain', 'dak'),
    'GET /api/v1/alerts': ('listAlerts', 'desk'),
    'POST /api/v1/alerts/read': ('markAlertsRead', 'desk'),
    'GET /api/v1/alerts/changes': ('getAlertChanges', 'desk'),
    'GET /api/v1/search': ('search', 'search'),
    'GET /api/v1/openapi.json': ('getOpenApiDocument', 'meta'),
    'GET /healthz': ('getHealth', 'meta'),
    'GET /api/v1/departments/{department_id}/records/due': ('listFilesDue', 'record room'),
    'GET /api/v1/departments/{department_id}/weeding-lists': ('listWeedingLists',
                                                              'record room'),
    'POST /api/v1/departments/{department_id}/weeding-lists': ('proposeWeedingList',
                                                               'record room'),
    'GET /api/v1/departments/{department_id}/weeding-lists/{list}': ('getWeedingList',
                                                                     'record room'),
    'POST /api/v1/departments/{department_id}/weeding-lists/{list}/actions/{action}':
        ('runWeedingListAction', 'record room'),
    'GET /api/v1/departments/{department_id}/weeding-lists/{list}/pdf':
        ('getWeedingListPdf', 'record room'),
    'GET /api/v1/departments/{department_id}/holds': ('listHolds', 'record room'),
    'POST /api/v1/departments/{department_id}/holds': ('placeHolds', 'record room'),
    'POST /api/v1/departments/{department_id}/holds/{file}/lift': ('liftHold', 'record room'),
    'GET /api/v1/departments/{department_id}/tombstones': ('listTombstones', 'record room'),
    'GET /api/v1/implementation': ('listImplementation', 'cabinet implementation'),
    'POST /api/v1/implementation/{id}/reports': ('reportImplementation',
                                                 'cabinet implementation'),
    'GET /api/v1/public/notifications': ('listPublicNotifications', 'public'),
    'GET /api/v1/public/departments': ('listPublicDepartments', 'public'),
    'GET /api/v1/public/departments/{department_id}': ('getDepartmentFigures', 'public'),
}

# the cabinet's operations (kp_workspace/cabinet/openapi.py, which uses the helpers above)
from ...cabinet import openapi as _cabinet  # noqa: E402
SCHEMAS.update(_cabinet.SCHEMAS)
PATHS.update(_cabinet.PATHS)
OPERATIONS.update(_cabinet.OPERATIONS)


IF_NONE_MATCH = {'name': 'If-None-Match', 'in': 'header', 'required': False,
                 'description': 'The ETag of the copy you have: 304 (no body) if it is '
                                'still current',
                 'schema': {'type': 'string', 'maxLength': 1000}}
NOT_MODIFIED = {'description': 'Not modified: the ETag in If-None-Match is still current '
                               '(no body)'}
ETAG = {'ETag': {'description': 'Send it back in If-None-Match to be told 304 when nothing '
                                'changed', 'schema': {'type': 'string'}}}


def _conditional(path, method, operation):
    """A read under /api/v1 whose body is made in memory (not a stored file streamed):
    an ``ETag``, and ``304`` for ``If-None-Match`` (:mod:`.etags`)."""
    ok = operation['responses'].get('200', {})
    if method != 'get' or not path.startswith('/api/v1/') or '*/*' in ok.get('content', {}):
        return operation
    return {**operation,
            'parameters': [*operation.get('parameters', ()), IF_NONE_MATCH],
            'responses': {**operation['responses'], '200': {**ok, 'headers': ETAG},
                          '304': NOT_MODIFIED}}


# what a member of the cabinet (a role kept to the cabinet's business) may call with a
# token; every other operation answers them 403 (kp_workspace.security.roles.CONFINED_ROLES)
MEMBERS_REACH = ('/api/v1/auth/', '/api/v1/me', '/api/v1/cabinet/')


def _named(paths):
    """``paths`` with each operation's ``operationId`` and ``tags`` from :data:`OPERATIONS`
    (and, for reads, their ETag).  :raises KeyError: an operation has no name there."""
    named = {}
    for path, operations in paths.items():
        named[path] = {}
        for method, operation in operations.items():
            operation_id, tag = OPERATIONS[f'{method.upper()} {path}']
            operation = _conditional(path, method, operation)
            if path.startswith('/api/v1/files/{id}'):
                # (a file destroyed under a weeding list: said to its record room)
                operation = {**operation, 'responses': {**operation['responses'],
                                                        **errors(410)}}
            if operation.get('security') != [] and path.startswith('/api/v1/'):
                # (with a bearer token: its rate limit, where one is set)
                operation = {**operation, 'responses': {**errors(429),
                                                        **operation['responses']}}
                if not path.startswith(MEMBERS_REACH):   # (a member of the cabinet: 403)
                    operation = {**operation, 'responses': {**errors(403),
                                                            **operation['responses']}}
            example = REQUEST_EXAMPLES.get(f'{method.upper()} {path}')
            if example is not None:
                operation = _with_request_example(operation, example)
            named[path][method] = {'operationId': operation_id, 'tags': [tag], **operation}
    return named


def _with_request_example(operation, example):
    body = operation['requestBody']
    media = body['content']['application/json']
    return {**operation, 'requestBody': {
        **body, 'content': {**body['content'], 'application/json': {**media,
                                                                    'example': example}}}}


def _with_examples(schemas):
    """``schemas``, those in :data:`SCHEMA_EXAMPLES` with their example."""
    return {name: {**schema, 'examples': [SCHEMA_EXAMPLES[name]]}
            if name in SCHEMA_EXAMPLES else schema for name, schema in schemas.items()}


def openapi_document(server_url):
    return {
        'openapi': '3.1.0',
        'info': {'title': 'KP Digital Workspace API', 'version': '1',
                 'description': 'JSON API for mobile and other clients. Authenticate with a '
                                'bearer token from POST /api/v1/auth/token; the operations '
                                'whose "security" is empty (those under /api/v1/public, '
                                'verifying a PDF, this document) need none. Errors are '
                                '{"error": "..."} with the status code given for each '
                                'operation.'},
        'servers': [{'url': server_url}],
        'components': {'securitySchemes': {'bearer': {'type': 'http', 'scheme': 'bearer'}},
                       'schemas': _with_examples(SCHEMAS)},
        'security': [{'bearer': []}],
        'paths': _named(PATHS),
    }


@view_config(**api_config(route_name='api_openapi', request_method='GET'))
def openapi(request):
    return openapi_document(request.application_url)
