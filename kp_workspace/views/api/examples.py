"""Examples for the OpenAPI document: what an app developer sees before writing a line.

Each is a whole body as the API gives or takes it (the objects are closed, so an
example must carry every required field).  ``tests/api/test_openapi_examples.py``
checks every one against its schema: an example that no longer fits fails there.
"""
NOW = '2026-12-07T09:30:12.512000+00:00'
LATER = '2026-12-07T21:30:12.512000+00:00'
FILE_ID = '7a7415c16e'
HOLDER = {'id': 'secretary-finance', 'title': 'Secretary, Finance'}

NOTE = {'n': 1, 'text': 'Quotations from three vendors are placed below. The lowest, '
                        'at F/A, is within the budget of the Wing.',
        'author': 'so.finance', 'author_name': 'Ayesha Khan', 'post': 'so-budget-finance',
        'at': NOW, 'edited_at': None, 'frozen': True}
MOVEMENT = {'from': 'so-budget-finance', 'to': 'secretary-finance', 'action': 'forward',
            'remarks': 'For approval, please.', 'at': NOW, 'by': 'so.finance'}
ATTACHMENT = {'id': 'a1', 'title': 'Quotations', 'filename': 'quotations.pdf',
              'content_type': 'application/pdf', 'size': 48213, 'flag': 'A', 'pages': 3,
              'diary_number': None, 'ocr': None}
INBOX_ITEM = {'id': FILE_ID, 'kind': 'file', 'number': 'FD/2026/0002',
              'subject': 'Purchase of laptops for the Budget Wing', 'priority': 'routine',
              'classification': 'routine', 'state': 'open', 'holder': 'secretary-finance',
              'received_at': NOW, 'age_days': 0, 'overdue': False}
ALERT = {'at': NOW, 'kind': 'arrived', 'item_id': FILE_ID, 'unread': True,
         'text': 'FD/2026/0002 — Purchase of laptops for the Budget Wing (from Section '
                 'Officer (Budget), Finance)'}

#: response and shared bodies, by component schema
SCHEMA_EXAMPLES = {
    'Error': {'error': 'Only the holder of the file may do that.'},
    'Token': {'token': 'kpw_QqDYV27c2LsaY0z0Y5XqtjKJDJH8DKpZZOykcwqeFyw', 'expires_at': LATER,
              'device_id': 'd69fe409d092f93b',
              'refresh_token': 'kpwr_m_64tUgve015CsrXYxb6yybLMC3KEN3xS8CtJYvc-1E',
              'refresh_expires_at': '2027-01-06T09:30:12.512000+00:00'},
    'Device': {'id': 'd69fe409d092f93b', 'name': "Ayesha's phone", 'created': NOW,
               'last_used': NOW, 'client': '10.20.30.40', 'current': True},
    'Me': {'login': 'so.finance', 'name': 'Ayesha Khan', 'roles': ['officer'],
           'posts': [{'id': 'so-budget-finance', 'title': 'Section Officer (Budget), Finance',
                      'department': 'finance', 'department_title': 'Finance Department'}]},
    'Note': NOTE,
    'Movement': MOVEMENT,
    'Attachment': ATTACHMENT,
    'File': {'id': FILE_ID, 'kind': 'file', 'number': 'FD/2026/0002',
             'subject': 'Purchase of laptops for the Budget Wing', 'state': 'open',
             'classification': 'routine', 'priority': 'routine', 'department': 'finance',
             'holder': HOLDER, 'notes': [NOTE], 'notes_count': 1, 'movements': [MOVEMENT],
             'movements_count': 1, 'actions': ['forward', 'close'], 'links': [],
             'referred_in': [], 'parked': None, 'attachments': [ATTACHMENT], 'drafts': [],
             'implements': None, 'record_class': None, 'weed_from': None,
             'legal_hold': None},
    'Notes': {'items': [NOTE], 'more': False},
    'InboxItem': INBOX_ITEM,
    'Inbox': {'items': [INBOX_ITEM], 'total': 2, 'more': True,
              'next_cursor': 'WyJpbmJveCIsMTc5NjY1MDQ1OS4wNTIzMTcsIjdhNzQxNWMxNmUiXQ'},
    'Alert': ALERT,
    'AlertChanges': {'items': [ALERT], 'cursor': '42', 'more': False},
    'SearchResults': {'items': [{'id': FILE_ID, 'kind': 'file', 'number': 'FD/2026/0002',
                                 'title': 'Purchase of laptops for the Budget Wing',
                                 'snippet': 'Purchase of laptops for the <mark class="match '
                                            'term0">Budget</mark> Wing',
                                 'url': f'https://workspace.example.gov.pk/files/{FILE_ID}'}],
                      'total': 1, 'page': 1, 'pages': 1, 'facets': {'file': 1},
                      'index_lag_seconds': 0.1},
}

#: request bodies, by operation
REQUEST_EXAMPLES = {
    'POST /api/v1/auth/token': {'login': 'so.finance', 'password': 'correct horse battery',
                                'device': "Ayesha's phone"},
    'POST /api/v1/auth/refresh': {
        'refresh_token': 'kpwr_m_64tUgve015CsrXYxb6yybLMC3KEN3xS8CtJYvc-1E'},
    'POST /api/v1/departments/{department_id}/files': {
        'subject': 'Purchase of laptops for the Budget Wing', 'priority': 'routine'},
    'POST /api/v1/files/{id}/notes': {'text': 'Quotations from three vendors are placed '
                                              'below.'},
    'POST /api/v1/files/{id}/actions/{action}': {'to_post': 'secretary-finance',
                                                 'remarks': 'For approval, please.'},
    'POST /api/v1/drafts/{id}/actions/{action}': {'pin': '123456'},
}
