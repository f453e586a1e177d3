"""The life of a case file and of a summary through the API, with every refusal."""
import re

import pytest

from kp_workspace.populate import DEMO_PIN
from tests.conftest import confirm


def call(app, tokens, login, method, path, status=200, **kw):
    return app.api(method, path, tokens(login), status=status, **kw)


def new_file(app, tokens, login='so.finance', dept='finance', **extra):
    body = {'subject': 'Release of funds for college buses', **extra}
    return call(app, tokens, login, 'post_json', f'/api/v1/departments/{dept}/files',
                status=201, params=body).json


def test_posts_list(app, tokens):
    posts = call(app, tokens, 'so.finance', 'get', '/api/v1/posts').json
    assert {'id': 'secretary-finance', 'title': 'Secretary Finance',
            'department': 'finance'} in posts


@pytest.mark.storages
def test_full_life_of_a_file(app, tokens, audit_entries):
    created = new_file(app, tokens, priority='urgent')
    assert created['state'] == 'open' and created['holder'] == 'so-budget-finance'
    # numbers run on from the demo file's FD/YYYY/0001
    assert re.fullmatch(r'FD/20\d\d/0002', created['number'])
    fid = created['id']
    assert new_file(app, tokens)['number'].endswith('/0003')

    n = call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/notes', 201,
             params={'text': 'Funds are available under head A-12.'}).json['n']
    assert n == 1
    call(app, tokens, 'so.finance', 'patch_json', f'/api/v1/files/{fid}/notes/1',
         params={'text': 'Funds are available under head A-12-03.'})
    data = call(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json
    assert data['notes'][0]['text'] == 'Funds are available under head A-12-03.'
    assert data['notes'][0]['frozen'] is False
    assert set(data['actions']) == {'forward', 'close'}

    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
         params={'to_post': 'secretary-finance', 'remarks': 'Put up for approval'})
    # the note is frozen now, even for its author
    res = call(app, tokens, 'so.finance', 'patch_json', f'/api/v1/files/{fid}/notes/1', 409,
               params={'text': 'changed later'})
    assert 'frozen' in res.json['error']
    # the sender still sees it but can no longer act
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/notes', 409,
         params={'text': 'one more thing'})

    # urgent first, then the routine demo file that waits there too
    inbox = call(app, tokens, 'secretary.finance', 'get', '/api/v1/inbox').json
    assert [i['id'] for i in inbox['items']][0] == fid and inbox['total'] == 2
    assert inbox['items'][0]['priority'] == 'urgent' and inbox['items'][0]['age_days'] == 0
    assert inbox['items'][0]['overdue'] is False
    alerts = call(app, tokens, 'secretary.finance', 'get', '/api/v1/alerts').json
    assert alerts['unread'] == 2 and alerts['items'][0]['item_id'] == fid
    call(app, tokens, 'secretary.finance', 'post_json', '/api/v1/alerts/read', params={})
    assert call(app, tokens, 'secretary.finance', 'get', '/api/v1/alerts').json['unread'] == 0

    call(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{fid}/notes', 201,
         params={'text': 'Approved. Issue sanction.'})
    call(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{fid}/actions/return',
         params={'remarks': 'Approved'})
    inbox = call(app, tokens, 'secretary.finance', 'get', '/api/v1/inbox').json
    assert fid not in [i['id'] for i in inbox['items']] and inbox['total'] == 1  # the demo file
    alerts = call(app, tokens, 'so.finance', 'get', '/api/v1/alerts').json
    assert alerts['items'][0]['kind'] == 'returned'

    sent = call(app, tokens, 'secretary.finance', 'get', '/api/v1/inbox',
                params={'view': 'sent'}).json
    assert sent['items'][0]['id'] == fid and sent['items'][0]['holder'] == 'so-budget-finance'

    data = call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/close',
                params={}).json
    assert data['state'] == 'closed'
    assert [m['action'] for m in data['movements']] == ['forward', 'return', 'close']
    assert call(app, tokens, 'so.finance', 'get', '/api/v1/inbox').json['total'] == 1  # the 2nd
    actions = [e.action for e in audit_entries(30)]
    for expected in ('file.opened', 'note.written', 'note.edited', 'file.forward', 'file.return',
                     'file.close'):
        assert expected in actions

    # closed: the records clerk of Finance may read it, nobody may write
    call(app, tokens, 'clerk.finance', 'get', f'/api/v1/files/{fid}')
    call(app, tokens, 'clerk.finance', 'post_json', f'/api/v1/files/{fid}/notes', 409,
         params={'text': 'x'})
    call(app, tokens, 'clerk.finance', 'post_json', f'/api/v1/files/{fid}/actions/reopen', 403,
         params={})
    data = call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/reopen',
                params={}).json
    assert data['state'] == 'open' and data['holder']['id'] == 'so-budget-finance'


def test_who_may_open_files_where(app, tokens):
    call(app, tokens, 'so.hed', 'post_json', '/api/v1/departments/finance/files', 403,
         params={'subject': 'Not my department'})
    call(app, tokens, 'admin', 'post_json', '/api/v1/departments/finance/files', 403,
         params={'subject': 'Administrators do not open files'})
    call(app, tokens, 'clerk.finance', 'post_json', '/api/v1/departments/finance/files', 403,
         params={'subject': 'Clerks do not open files'})
    call(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/nowhere/files', 404,
         params={'subject': 'x'})
    res = call(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/files', 400,
               params={'subject': 'Bad', 'classification': 'top-secret'})
    assert 'Choose one of' in res.json['error']
    call(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/files', 400,
         params={'subject': ''})


def test_invisible_files_are_404_for_everyone_outside_the_chain(app, tokens):
    fid = new_file(app, tokens, classification='confidential')['id']
    for login in ('so.hed', 'admin', 'clerk.finance', 'secretary.finance', 'cm'):
        res = call(app, tokens, login, 'get', f'/api/v1/files/{fid}', 404)
        assert res.json['error'] == 'There is nothing at this address, or you may not see it.'
        call(app, tokens, login, 'post_json', f'/api/v1/files/{fid}/notes', 404,
             params={'text': 'x'})
    call(app, tokens, 'so.finance', 'get', '/api/v1/files/doesnotexist', 404)
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/close', params={})
    # closed but confidential: still not for the records clerk
    call(app, tokens, 'clerk.finance', 'get', f'/api/v1/files/{fid}', 404)


def test_a_former_chain_member_keeps_reading_but_cannot_act(app, tokens):
    fid = new_file(app, tokens)['id']
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
         params={'to_post': 'secretary-finance'})
    call(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
         params={'to_post': 'chief-secretary'})
    assert call(app, tokens, 'cs', 'get', f'/api/v1/files/{fid}').json['holder']['id'] == \
        'chief-secretary'
    call(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}')
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward', 409,
         params={'to_post': 'so-general-hed'})


@pytest.mark.storages
def test_recall_rules(app, tokens):
    fid = new_file(app, tokens)['id']
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/recall', 409,
         params={})  # never sent
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
         params={'to_post': 'secretary-finance'})
    call(app, tokens, 'so.hed', 'post_json', f'/api/v1/files/{fid}/actions/recall', 404,
         params={})  # a stranger cannot even see it
    data = call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/recall',
                params={}).json
    assert data['holder']['id'] == 'so-budget-finance'
    assert data['movements'][-1]['action'] == 'recall'
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
         params={'to_post': 'secretary-finance'})
    call(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{fid}/notes', 201,
         params={'text': 'Seen.'})
    res = call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/recall', 409,
               params={})
    assert 'already acted on it' in res.json['error']


@pytest.mark.parametrize('login, action, body, status', [
    ('secretary.finance', 'forward', {'to_post': 'so-general-hed'}, 404),  # not in its chain
    ('so.finance', 'forward', {}, 400),                                     # no destination
    ('so.finance', 'forward', {'to_post': 'no-such-post'}, 400),
    ('so.finance', 'forward', {'to_post': 'so-budget-finance'}, 409),     # to itself
    ('so.finance', 'return', {}, 409),                                      # nobody sent it
    ('so.finance', 'reopen', {}, 409),                                      # not closed
    ('so.finance', 'fly', {}, 404),                                         # no such action
    ('clerk.finance', 'close', {}, 404),                                    # cannot see it
])
def test_refused_transitions_change_nothing(app, tokens, login, action, body, status):
    fid = new_file(app, tokens)['id']
    before = call(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json
    res = call(app, tokens, login, 'post_json', f'/api/v1/files/{fid}/actions/{action}', status,
               params=body)
    assert 'error' in res.json and 'Traceback' not in res.text
    assert call(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json == before


@pytest.mark.storages
def test_drafts_are_put_up_and_approved_by_the_approver(app, tokens):
    fid = new_file(app, tokens)['id']
    did = call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/drafts', 201,
               params={'kind': 'notification', 'subject': 'Holiday on 1 May',
                       'body': 'It is notified that...'}).json['id']
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/drafts/{did}/actions/approve', 409,
         params={})  # not put up yet
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/drafts/{did}/actions/submit', params={})
    res = call(app, tokens, 'so.finance', 'post_json', f'/api/v1/drafts/{did}/actions/approve',
               403, params={})  # an officer does not approve
    assert 'You may not approve this.' == res.json['error']
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
         params={'to_post': 'secretary-finance'})
    data = call(app, tokens, 'secretary.finance', 'post_json',
                f'/api/v1/drafts/{did}/actions/approve', params={}).json
    assert data['state'] == 'approved' and data['approved_by'] == 'secretary.finance'
    call(app, tokens, 'so.hed', 'post_json', f'/api/v1/drafts/{did}/actions/approve', 404,
         params={})
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/drafts', 409,
         params={'kind': 'letter', 'subject': 'x', 'body': 'y'})  # not the holder now
    call(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{fid}/drafts', 400,
         params={'kind': 'poem', 'subject': 'x', 'body': 'y'})


@pytest.mark.storages
def test_summary_from_finance_to_the_cm_and_back(app, tokens, audit_entries):
    body = {'subject': 'Special grant for flood-affected schools', 'background': 'Floods...',
            'proposal': 'A grant of Rs 500 million.', 'decision_sought': 'Approval of the grant.',
            'financial_implications': 'Rs 500 million from contingency.'}
    created = call(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/summaries',
                   201, params=body).json
    sid = created['id']
    assert created['state'] == 'draft' and '/S/' in created['number']
    base = f'/api/v1/summaries/{sid}/actions'
    # must go to the department's Secretary first
    call(app, tokens, 'so.finance', 'post_json', f'{base}/submit', 409,
         params={'to_post': 'chief-secretary'})
    call(app, tokens, 'so.finance', 'post_json', f'{base}/submit',
         params={'to_post': 'secretary-finance'})
    call(app, tokens, 'secretary.finance', 'post_json', f'{base}/forward',
         params={'to_post': 'secretary-hed', 'remarks': 'For comments'})
    call(app, tokens, 'secretary.hed', 'post_json', f'/api/v1/summaries/{sid}/notes', 201,
         params={'text': 'HED supports the proposal.'})
    call(app, tokens, 'secretary.hed', 'post_json', f'{base}/return', params={})
    call(app, tokens, 'secretary.finance', 'post_json', f'{base}/forward',
         params={'to_post': 'chief-secretary'})
    # only the CM decides; the CS puts it up
    call(app, tokens, 'cs', 'post_json', f'{base}/put_up', 409, params={'to_post': 'so-sports'})
    call(app, tokens, 'cs', 'post_json', f'{base}/put_up', params={'to_post': 'chief-minister'})
    call(app, tokens, 'cs', 'post_json', f'{base}/decide', 403,
         params={'decision': 'approved'})
    call(app, tokens, 'cm', 'post_json', f'{base}/decide', 400,
         params={'decision': 'maybe', 'pin': DEMO_PIN})
    # the decision is signed: no PIN, no decision
    res = call(app, tokens, 'cm', 'post_json', f'{base}/decide', 400,
               params={'decision': 'approved'})
    assert res.json['error'] == 'Enter your signing PIN.'
    data = call(app, tokens, 'cm', 'post_json', f'{base}/decide',
                params={'decision': 'approved_with_changes', 'remarks': 'Rs 400 million.',
                        'pin': DEMO_PIN}).json
    assert [s['login'] for s in data['signatures']] == ['cm']
    assert data['state'] == 'decided' and data['decision'] == 'approved_with_changes'
    assert data['holder']['id'] == 'so-budget-finance'
    alerts = call(app, tokens, 'so.finance', 'get', '/api/v1/alerts').json
    assert alerts['items'][0]['kind'] == 'decided'
    assert 'summary.decided' in [e.action for e in audit_entries(10)]
    # a department not in the chain cannot see it
    call(app, tokens, 'so.sports', 'get', f'/api/v1/summaries/{sid}', 404)


def test_inbox_lists_and_bad_parameters(app, tokens):
    for view in ('inbox', 'pending', 'overdue'):
        res = call(app, tokens, 'so.finance', 'get', '/api/v1/inbox', params={'view': view})
        assert res.json['items'] == []
    # so.finance sent the demo file up to the Secretary
    sent = call(app, tokens, 'so.finance', 'get', '/api/v1/inbox', params={'view': 'sent'}).json
    assert [i['number'] for i in sent['items']] == [sent['items'][0]['number']]
    assert sent['items'][0]['number'].startswith('FD/')
    call(app, tokens, 'so.finance', 'get', '/api/v1/inbox', 400, params={'view': 'x'})
    call(app, tokens, 'so.finance', 'get', '/api/v1/inbox', 400, params={'limit': 'x'})
    call(app, tokens, 'admin', 'get', '/api/v1/inbox')  # no posts: an empty inbox
    app.get('/api/v1/inbox', status=401)


@pytest.mark.storages
def test_transferring_a_post_hands_its_files_to_the_successor(app, tokens, open_site):
    fid = new_file(app, tokens)['id']
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/actions/forward',
         params={'to_post': 'secretary-finance'})
    app.login('admin')
    form = app.get('/admin/posts/secretary-finance').forms['holder-form']
    form['login'] = 'secretary.hed'
    confirm(form.submit('op', value='transfer', status=200))
    # the successor finds the file in the inbox and can act on it
    inbox = call(app, tokens, 'secretary.hed', 'get', '/api/v1/inbox').json
    assert fid in [i['id'] for i in inbox['items']]
    call(app, tokens, 'secretary.hed', 'post_json', f'/api/v1/files/{fid}/notes', 201,
         params={'text': 'Taken over on transfer.'})
    # the predecessor no longer sees it (the post left them; they were never in the chain)
    call(app, tokens, 'secretary.finance', 'get', f'/api/v1/files/{fid}', 404)
    assert call(app, tokens, 'secretary.finance', 'get', '/api/v1/inbox').json['total'] == 0


@pytest.mark.storages
def test_summary_recall_undoes_the_step(app, tokens):
    body = {'subject': 'Recall me', 'background': 'b', 'proposal': 'p', 'decision_sought': 'd'}
    sid = call(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/summaries',
               201, params=body).json['id']
    base = f'/api/v1/summaries/{sid}/actions'
    call(app, tokens, 'so.finance', 'post_json', f'{base}/submit',
         params={'to_post': 'secretary-finance'})
    data = call(app, tokens, 'so.finance', 'post_json', f'{base}/recall', params={}).json
    assert data['state'] == 'draft' and data['holder']['id'] == 'so-budget-finance'
    call(app, tokens, 'so.finance', 'post_json', f'{base}/submit',
         params={'to_post': 'secretary-finance'})
    call(app, tokens, 'secretary.finance', 'post_json', f'{base}/put_up',
         params={'to_post': 'chief-minister'})
    data = call(app, tokens, 'secretary.finance', 'post_json', f'{base}/recall', params={}).json
    assert data['state'] == 'submitted' and data['holder']['id'] == 'secretary-finance'
    call(app, tokens, 'so.hed', 'post_json', '/api/v1/departments/finance/summaries', 403,
         params=body)


@pytest.mark.storages
def test_drafts_can_be_edited_only_while_being_written(app, tokens):
    fid = new_file(app, tokens)['id']
    app.login('so.finance')
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/drafts', 201,
         params={'kind': 'memorandum', 'subject': 'Memo', 'body': 'Text'})
    csrf = app.csrf()
    app.post(f'/files/{fid}/drafts/d1/actions/edit',
             {'csrf_token': csrf, 'subject': 'Memo, revised', 'body': 'New text'}, status=303)
    data = call(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json
    assert data['drafts'][0]['subject'] == 'Memo, revised'
    app.post(f'/files/{fid}/drafts/d1/actions/submit', {'csrf_token': csrf}, status=303)
    res = app.post(f'/files/{fid}/drafts/d1/actions/edit',
                   {'csrf_token': csrf, 'subject': 'Late', 'body': 'Late'}, status=409)
    assert 'Only a draft being written can be changed' in res.text
    app.post(f'/files/{fid}/drafts/d9/actions/submit', {'csrf_token': csrf}, status=404)
    call(app, tokens, 'so.finance', 'post_json', '/api/v1/drafts/nonsense/actions/submit', 404,
         params={})


@pytest.mark.storages
def test_a_refusal_shown_on_the_page_keeps_nothing_the_request_wrote(app, tokens,
                                                                        monkeypatch):
    """A browser refusal is answered with the page again (not raised): whatever the
    request changed before the domain said no must not be committed with it."""
    from kp_workspace.errors import DomainError
    from kp_workspace.views import files as views
    fid = new_file(app, tokens)['id']
    call(app, tokens, 'so.finance', 'post_json', f'/api/v1/files/{fid}/drafts', 201,
         params={'kind': 'memorandum', 'subject': 'Memo', 'body': 'Text'})
    # a draft's body with a direction override is refused after its subject was checked
    app.login('so.finance')
    csrf = app.csrf()
    res = app.post(f'/files/{fid}/drafts/d1/actions/edit',
                   {'csrf_token': csrf, 'subject': 'Changed', 'body': 'a \u202e b'}, status=400)
    assert 'changes the direction' in res.text

    def half_then_refuse(draft, officer, subject, body, **kw):
        draft.subject = subject  # written, then refused
        raise DomainError('Refused half way.')
    monkeypatch.setattr(views, 'edit_draft', half_then_refuse)
    app.post(f'/files/{fid}/drafts/d1/actions/edit',
             {'csrf_token': csrf, 'subject': 'Half written', 'body': 'x'}, status=400)
    data = call(app, tokens, 'so.finance', 'get', f'/api/v1/files/{fid}').json
    assert data['drafts'][0]['subject'] == 'Memo'
