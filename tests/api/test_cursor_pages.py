"""Lists read a page at a time by cursor: what arrives or leaves between two pages
neither repeats a row nor skips one (an offset does both)."""
import base64
import json

import pytest


def inbox(app, token, status=200, **params):
    return app.get('/api/v1/inbox', params=params, status=status,
                   headers={'Authorization': f'Bearer {token}'})


def new_file(app, tokens, subject, to_post='secretary-finance'):
    auth = {'Authorization': f'Bearer {tokens("so.finance")}'}
    fid = app.post_json('/api/v1/departments/finance/files', {'subject': subject},
                        headers=auth, status=201).json['id']
    app.post_json(f'/api/v1/files/{fid}/actions/forward', {'to_post': to_post}, headers=auth)
    return fid


def test_an_inbox_read_by_cursor_while_files_arrive_and_leave(app, tokens):
    secretary = tokens('secretary.finance')
    mine = [new_file(app, tokens, f'Cursor file {n}') for n in range(5)]
    first = inbox(app, secretary, limit='3').json
    assert [r['id'] for r in first['items']] == mine[::-1][:3] and first['more']
    assert first['next_cursor']
    # between the pages a file arrives (at the top): by offset, page 2 repeats a row
    arrived = new_file(app, tokens, 'Arrived between the pages')
    by_offset = inbox(app, secretary, limit='3', offset='3').json
    assert by_offset['items'][0]['id'] == mine[2] == first['items'][-1]['id']
    # and one of page 1 is sent on: by offset, page 2 would now skip a row
    app.post_json(f'/api/v1/files/{mine[4]}/actions/forward', {'to_post': 'so-budget-finance'},
                  headers={'Authorization': f'Bearer {secretary}'})
    app.post_json(f'/api/v1/files/{mine[3]}/actions/forward', {'to_post': 'so-budget-finance'},
                  headers={'Authorization': f'Bearer {secretary}'})
    assert inbox(app, secretary, limit='3', offset='3').json['items'][0]['id'] != mine[1]
    # by cursor, page 2 goes on from the last row of page 1, whatever came and went
    second = inbox(app, secretary, limit='3', cursor=first['next_cursor']).json
    assert [r['id'] for r in second['items']][:2] == [mine[1], mine[0]]
    # and the next reading from the top starts with the newcomer
    assert inbox(app, secretary, limit='1').json['items'][0]['id'] == arrived


@pytest.mark.parametrize('view', ['inbox', 'pending', 'sent'])
def test_every_row_once_whatever_the_page(app, tokens, view):
    for n in range(4):
        new_file(app, tokens, f'Page file {n}')
    token = tokens('so.finance' if view == 'sent' else 'secretary.finance')
    whole = inbox(app, token, view=view, limit='200').json
    ids, cursor, pages = [], None, 0
    while True:
        found = inbox(app, token, view=view, limit='2',
                      **({'cursor': cursor} if cursor else {})).json
        ids += [r['id'] for r in found['items']]
        pages += 1
        assert found['total'] == whole['total']
        if not found['more']:
            assert found['next_cursor'] is None
            break
        cursor = found['next_cursor']
        assert pages < 100
    assert ids == [r['id'] for r in whole['items']] and len(ids) >= 4


def test_the_receipts_list_by_cursor(app, tokens):
    """so.finance's Receipts (the demo marks letters to them), a letter at a time."""
    token = tokens('so.finance')
    whole = app.get('/api/v1/receipts', params={'limit': '200'},
                    headers={'Authorization': f'Bearer {token}'}).json
    assert len(whole['items']) >= 2 and whole['next_cursor'] is None
    ids, cursor = [], None
    for _page in range(100):
        found = app.get('/api/v1/receipts', params={'limit': '1', **(
            {'cursor': cursor} if cursor else {})},
            headers={'Authorization': f'Bearer {token}'}).json
        ids += [r['id'] for r in found['items']]
        if not found['more']:
            break
        cursor = found['next_cursor']
    assert ids == [r['id'] for r in whole['items']]
    # a cursor of the inbox is not one of the receipts
    new_file(app, tokens, 'For a cursor')
    new_file(app, tokens, 'For another cursor')
    cursor = inbox(app, tokens('secretary.finance'), limit='1').json['next_cursor']
    app.get('/api/v1/receipts', params={'cursor': cursor}, status=400,
            headers={'Authorization': f'Bearer {token}'})


def _forged(*parts):
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip('=')


@pytest.mark.parametrize('cursor', [
    'not a cursor', '!!!!', 'eyJ', _forged('inbox', 1.5), _forged('sent', 1.5, 'x'),
    _forged('inbox', 'NaN', 'x'), _forged('inbox', True, 'x'), _forged('inbox', 1.5, 7),
    base64.urlsafe_b64encode(b'["inbox", NaN, "x"]').decode().rstrip('='),
    base64.urlsafe_b64encode(b'\xff\xfe').decode().rstrip('='), 'A' * 401])
def test_a_cursor_the_list_did_not_give_is_a_400(app, tokens, cursor):
    res = inbox(app, tokens('secretary.finance'), status=400, cursor=cursor)
    assert 'cursor' in res.json['error']


def test_offset_and_cursor_together_are_a_400(app, tokens):
    secretary = tokens('secretary.finance')
    new_file(app, tokens, 'One')
    new_file(app, tokens, 'Two')
    cursor = inbox(app, secretary, limit='1').json['next_cursor']
    assert inbox(app, secretary, limit='1', cursor=cursor).json['items']
    res = inbox(app, secretary, status=400, offset='1', cursor=cursor)
    assert 'not both' in res.json['error']
