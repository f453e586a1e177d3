"""ETags on the API's reads: an unchanged file, summary or list answers 304 with no body
to a client that sends its ETag; any change (a note, a move) gives a new one; writes
and refusals carry none."""


def get(app, token, path, status=200, etag=None):
    headers = {'Authorization': f'Bearer {token}'}
    if etag:
        headers['If-None-Match'] = etag
    return app.get(path, headers=headers, status=status)


def test_an_unchanged_file_is_not_sent_again(app, tokens):
    officer = tokens('so.finance')
    fid = app.post_json('/api/v1/departments/finance/files', {'subject': 'Phone network'},
                        headers={'Authorization': f'Bearer {officer}'}, status=201).json['id']
    first = get(app, officer, f'/api/v1/files/{fid}')
    etag = first.headers['ETag']
    assert etag.startswith('"') and len(etag) > 10
    again = get(app, officer, f'/api/v1/files/{fid}', status=304, etag=etag)
    assert again.body == b''
    assert again.headers['ETag'] == etag
    # a note changes it
    app.post_json(f'/api/v1/files/{fid}/notes', {'text': 'A note.'},
                  headers={'Authorization': f'Bearer {officer}'}, status=201)
    changed = get(app, officer, f'/api/v1/files/{fid}', etag=etag)
    assert changed.headers['ETag'] != etag and changed.json['notes'][0]['text'] == 'A note.'
    # a list too: the inbox, until something arrives
    inbox = get(app, tokens('secretary.finance'), '/api/v1/inbox')
    get(app, tokens('secretary.finance'), '/api/v1/inbox', status=304,
        etag=inbox.headers['ETag'])
    app.post_json(f'/api/v1/files/{fid}/actions/forward', {'to_post': 'secretary-finance'},
                  headers={'Authorization': f'Bearer {officer}'})
    get(app, tokens('secretary.finance'), '/api/v1/inbox', status=200,
        etag=inbox.headers['ETag'])
    # an ETag from another reader is not this reader's (their answers differ)
    seen = get(app, tokens('secretary.finance'), f'/api/v1/files/{fid}')
    assert seen.headers['ETag'] != get(app, officer, f'/api/v1/files/{fid}').headers['ETag']
    # a list of ETags, and "*"
    get(app, officer, f'/api/v1/files/{fid}', status=304,
        etag=f'"nope", {get(app, officer, f"/api/v1/files/{fid}").headers["ETag"]}')
    get(app, officer, f'/api/v1/files/{fid}', status=304, etag='*')


def test_writes_refusals_and_pages_carry_no_etag(app, tokens):
    officer = tokens('so.finance')
    res = app.post_json('/api/v1/departments/finance/files', {'subject': 'No tag here'},
                        headers={'Authorization': f'Bearer {officer}'}, status=201)
    assert 'ETag' not in res.headers
    assert 'ETag' not in get(app, officer, '/api/v1/files/nothing', status=404).headers
    app.login('so.finance')
    assert 'ETag' not in app.get('/inbox').headers
