"""A phone's terms: a file with only its newest notes and movements, and its notes a
page at a time."""


def auth(token):
    return {'Authorization': f'Bearer {token}'}


def file_with_notes(app, token, notes):
    fid = app.post_json('/api/v1/departments/finance/files', {'subject': 'Long discussion'},
                        headers=auth(token), status=201).json['id']
    for n in range(notes):
        app.post_json(f'/api/v1/files/{fid}/notes', {'text': f'Note number {n + 1}.'},
                      headers=auth(token), status=201)
    return fid


def test_a_compact_file_has_its_newest_notes_and_the_counts(app, tokens):
    token = tokens('so.finance')
    fid = file_with_notes(app, token, 14)
    whole = app.get(f'/api/v1/files/{fid}', headers=auth(token)).json
    assert [n['n'] for n in whole['notes']] == list(range(1, 15))
    assert whole['notes_count'] == 14 and whole['movements_count'] == len(whole['movements'])
    compact = app.get(f'/api/v1/files/{fid}', params={'compact': 'true'},
                      headers=auth(token)).json
    assert [n['n'] for n in compact['notes']] == list(range(5, 15))
    assert compact['notes'][-1] == whole['notes'][-1]
    assert compact['notes_count'] == 14
    assert {k: v for k, v in compact.items() if k != 'notes'} == \
        {k: v for k, v in whole.items() if k != 'notes'}
    assert len(app.get(f'/api/v1/files/{fid}', params={'compact': '1'},
                       headers=auth(token)).body) < len(app.get(
                           f'/api/v1/files/{fid}', headers=auth(token)).body)
    for bad in ('yes', 'maybe', '2'):
        res = app.get(f'/api/v1/files/{fid}', params={'compact': bad}, headers=auth(token),
                      status=400)
        assert 'compact' in res.json['error']


def test_a_compact_file_has_its_newest_movements(app, tokens):
    officer, secretary = tokens('so.finance'), tokens('secretary.finance')
    fid = file_with_notes(app, officer, 0)
    for n in range(6):   # there and back, twelve movements
        app.post_json(f'/api/v1/files/{fid}/actions/forward',
                      {'to_post': 'secretary-finance', 'remarks': f'There {n}'},
                      headers=auth(officer))
        app.post_json(f'/api/v1/files/{fid}/actions/forward',
                      {'to_post': 'so-budget-finance', 'remarks': f'Back {n}'},
                      headers=auth(secretary))
    whole = app.get(f'/api/v1/files/{fid}', headers=auth(officer)).json
    compact = app.get(f'/api/v1/files/{fid}', params={'compact': 'true'},
                      headers=auth(officer)).json
    assert whole['movements_count'] == compact['movements_count'] == 12
    assert compact['movements'] == whole['movements'][-10:]
    assert compact['movements'][-1]['remarks'] == 'Back 5'


def test_the_notes_a_page_at_a_time(app, tokens):
    token = tokens('so.finance')
    fid = file_with_notes(app, token, 12)
    seen, after = [], 0
    for _page in range(10):
        page = app.get(f'/api/v1/files/{fid}/notes', params={'after': str(after), 'limit': '5'},
                       headers=auth(token)).json
        seen += [n['n'] for n in page['items']]
        if not page['more']:
            break
        after = page['items'][-1]['n']
    assert seen == list(range(1, 13))
    assert page['items'][-1]['text'] == 'Note number 12.'
    default = app.get(f'/api/v1/files/{fid}/notes', headers=auth(token)).json
    assert len(default['items']) == 12 and not default['more']
    assert app.get(f'/api/v1/files/{fid}/notes', params={'after': '12'},
                   headers=auth(token)).json == {'items': [], 'more': False}
    for params in ({'after': '-1'}, {'limit': '51'}, {'limit': '0'}, {'after': 'x'}):
        app.get(f'/api/v1/files/{fid}/notes', params=params, headers=auth(token), status=400)
    # a page that has not changed: 304
    res = app.get(f'/api/v1/files/{fid}/notes', headers=auth(token))
    app.get(f'/api/v1/files/{fid}/notes', status=304,
            headers={**auth(token), 'If-None-Match': res.headers['ETag']})


def test_the_notes_are_read_by_the_same_rules_as_the_file(app, tokens):
    fid = file_with_notes(app, tokens('so.finance'), 1)
    # another department's officer: no such file, and so no notes
    app.get(f'/api/v1/files/{fid}', headers=auth(tokens('so.hed')), status=404)
    app.get(f'/api/v1/files/{fid}/notes', headers=auth(tokens('so.hed')), status=404)
    app.get(f'/api/v1/files/{fid}/notes', status=401)
    app.get('/api/v1/files/nosuchfile/notes', headers=auth(tokens('so.finance')), status=404)


def test_a_summary_compact_and_its_notes(app, tokens):
    token = tokens('so.finance')
    sid = app.post_json('/api/v1/departments/finance/summaries', {
        'subject': 'A summary with comments', 'background': 'Why.', 'proposal': 'What.',
        'decision_sought': 'Approve.'}, headers=auth(token), status=201).json['id']
    for n in range(11):
        app.post_json(f'/api/v1/summaries/{sid}/notes', {'text': f'Comment {n + 1}.'},
                      headers=auth(token), status=201)
    compact = app.get(f'/api/v1/summaries/{sid}', params={'compact': 'true'},
                      headers=auth(token)).json
    assert [n['n'] for n in compact['notes']] == list(range(2, 12))
    assert compact['notes_count'] == 11
    page = app.get(f'/api/v1/summaries/{sid}/notes', params={'limit': '3'},
                   headers=auth(token)).json
    assert [n['n'] for n in page['items']] == [1, 2, 3] and page['more']
