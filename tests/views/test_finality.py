"""Closed means final; roles are checked on every write; what may not be seen answers
exactly like what does not exist.

Every write path is tried through the browser and through the API, and a refusal
is checked to have changed nothing: not the notes, the attachments, the drafts, the
movements, nor the audit log's record of changes.
"""
import html
import re
from urllib.parse import quote

import pytest

from kp_workspace.populate import DEMO_PIN
from tests.conftest import Browser
from tests.views.test_api_attachments import pdf_bytes

# audit actions that record a change (refusals may be recorded too; they change nothing)
CHANGES = ('note.written', 'note.edited', 'attachment.added', 'draft.created', 'draft.edited',
           'draft.submitted', 'draft.approved', 'draft.revised', 'draft.signed', 'draft.issued',
           'file.forward', 'file.return', 'file.recall', 'file.close', 'file.reopen',
           'summary.signed', 'summary.decided')
CLOSED = 'is closed: nothing in it can change until it is reopened.'


class Desk:
    """The people of the Finance department, each through the API and the browser."""

    def __init__(self, app, wsgi_app, tokens, open_site, audit_entries):
        self.app, self.wsgi_app, self.tokens = app, wsgi_app, tokens
        self.open_site, self.audit_entries = open_site, audit_entries
        self._browsers = {}

    def api(self, login, method, path, status=200, **kw):
        return self.app.api(method, path, self.tokens(login), status=status, **kw)

    def browser(self, login):
        """A signed-in browser of ``login`` and its CSRF token."""
        if login not in self._browsers:
            b = Browser(self.wsgi_app, extra_environ={'REMOTE_ADDR': '10.1.2.3'})
            b.login(login)
            self._browsers[login] = (b, b.csrf())
        return self._browsers[login]

    def post(self, login, path, status, upload=None, **fields):
        """A browser form post (with the CSRF token)."""
        b, token = self.browser(login)
        kw = {'upload_files': [('file', *upload)]} if upload else {}
        return b.post(path, params={**fields, 'csrf_token': token}, status=status, **kw)

    def new_file(self, login='so.finance', subject='Purchase of two buses', **extra):
        return self.api(login, 'post_json', '/api/v1/departments/finance/files', 201,
                        params={'subject': subject, **extra}).json['id']

    def draft(self, fid, login='so.finance', subject='Supply order'):
        return self.api(login, 'post_json', f'/api/v1/files/{fid}/drafts', 201,
                        params={'kind': 'letter', 'subject': subject,
                                'body': 'You are requested to supply...'}).json['id']

    def act(self, login, fid, action, status=200, **params):
        return self.api(login, 'post_json', f'/api/v1/files/{fid}/actions/{action}', status,
                        params=params)

    def draft_act(self, login, did, action, status=200, **params):
        return self.api(login, 'post_json', f'/api/v1/drafts/{did}/actions/{action}', status,
                        params=params)

    def snapshot(self, item_id):
        """What a refusal must not change: the item as stored, and the changes recorded."""
        def read(site, _conn):
            item = site.desk.items[item_id]
            data = {
                'state': item.state, 'holder': item.holder, 'chain': item.chain,
                'activity': item.activity, 'frozen_through': item.frozen_through,
                'notes': [(n.n, n.text, n.edited_at) for n in item.notes.values()],
                'movements': len(item.movements),
            }
            if item.kind == 'file':
                data['attachments'] = [(a.id, a.diary_number) for a in item.attachments.values()]
                data['drafts'] = [(d.id, d.state, d.subject, d.body, d.number)
                                  for d in item.drafts.values()]
            return data
        changes = [(e.action, e.target, e.details) for e in self.audit_entries(200)
                   if e.action in CHANGES]
        return self.open_site(read), changes


@pytest.fixture
def desk(app, wsgi_app, tokens, open_site, audit_entries):
    return Desk(app, wsgi_app, tokens, open_site, audit_entries)


# every write on a file, through each door: (name, browser, api); each is
# fn(desk, login, fid, status) -> response
def _b_note(d, login, fid, status):
    return d.post(login, f'/files/{fid}/notes', status, text='Written after closing.')


def _a_note(d, login, fid, status):
    return d.api(login, 'post_json', f'/api/v1/files/{fid}/notes', status,
                 params={'text': 'Written after closing.'})


def _b_note_edit(d, login, fid, status):
    return d.post(login, f'/files/{fid}/notes/1/edit', status, text='Changed after closing.')


def _a_note_edit(d, login, fid, status):
    return d.api(login, 'patch_json', f'/api/v1/files/{fid}/notes/1', status,
                 params={'text': 'Changed after closing.'})


def _b_attach(d, login, fid, status, **extra):
    return d.post(login, f'/files/{fid}/attachments', status, upload=('late.pdf', pdf_bytes()),
                  title='Late letter', **extra)


def _a_attach(d, login, fid, status, **extra):
    return d.api(login, 'post', f'/api/v1/files/{fid}/attachments', status,
                 params={'title': 'Late letter', **extra},
                 upload_files=[('file', 'late.pdf', pdf_bytes())])


def _b_receipt(d, login, fid, status):
    return _b_attach(d, login, fid, status, receipt='1')


def _a_receipt(d, login, fid, status):
    return _a_attach(d, login, fid, status, receipt='1')


def _b_draft(d, login, fid, status):
    return d.post(login, f'/files/{fid}/drafts', status, kind='letter', subject='Late letter',
                  body='Written after closing.')


def _a_draft(d, login, fid, status):
    return d.api(login, 'post_json', f'/api/v1/files/{fid}/drafts', status,
                 params={'kind': 'letter', 'subject': 'Late letter',
                         'body': 'Written after closing.'})


def _b_draft_edit(d, login, fid, status):
    return d.post(login, f'/files/{fid}/drafts/d1/actions/edit', status, subject='Changed',
                  body='Changed after closing.')


def _b_draft_submit(d, login, fid, status):
    return d.post(login, f'/files/{fid}/drafts/d1/actions/submit', status)


def _a_draft_submit(d, login, fid, status):
    return d.draft_act(login, f'{fid}-d1', 'submit', status)


def _b_forward(d, login, fid, status):
    return d.post(login, f'/files/{fid}/actions/forward', status, to_post='secretary-finance')


def _a_forward(d, login, fid, status):
    return d.act(login, fid, 'forward', status, to_post='secretary-finance')


WRITES = [
    ('note', _b_note, _a_note),
    ('note edit', _b_note_edit, _a_note_edit),
    ('attachment', _b_attach, _a_attach),
    ('receipt', _b_receipt, _a_receipt),
    ('draft', _b_draft, _a_draft),
    ('draft edit', _b_draft_edit, None),      # the API has no way to edit a draft
    ('draft submit', _b_draft_submit, _a_draft_submit),
    ('forward', _b_forward, _a_forward),
]
WRITE_CASES = [pytest.param(fn, id=f'{name}-{door}') for name, b, a in WRITES
               for door, fn in (('browser', b), ('api', a)) if fn is not None]


def _text(res):
    """The error message of an API answer, or of a page (its error box, if it has one)."""
    if res.content_type == 'application/json':
        return res.json['error']
    box = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', res.text, re.S)
    return html.unescape(box.group(1) if box else res.text)


@pytest.fixture
def closed_file(desk):
    """A file its last holder (so.finance) wrote on, attached to, drafted on, then closed."""
    fid = desk.new_file()
    desk.api('so.finance', 'post_json', f'/api/v1/files/{fid}/notes', 201,
             params={'text': 'Quotations are placed below.'})
    _a_attach(desk, 'so.finance', fid, 201)
    desk.draft(fid)  # d1, still being drafted: it does not stop the closing
    desk.act('so.finance', fid, 'close', remarks='Done')
    return fid


@pytest.mark.parametrize('write', WRITE_CASES)
def test_a_closed_file_refuses_every_change(desk, closed_file, write):
    before = desk.snapshot(closed_file)
    res = write(desk, 'so.finance', closed_file, 409)
    assert 'closed' in _text(res) and 'Traceback' not in res.text
    assert desk.snapshot(closed_file) == before


def test_the_closing_message_is_plain(desk, closed_file):
    res = _a_note(desk, 'so.finance', closed_file, 409)
    assert re.fullmatch(r'FD/\d{4}/\d{4} ' + re.escape(CLOSED), res.json['error'])
    res = _b_note(desk, 'so.finance', closed_file, 409)
    assert CLOSED in res.text
    # the page of a closed file offers no writing, and its notes show frozen
    page = desk.browser('so.finance')[0].get(f'/files/{closed_file}')
    assert 'New note' not in page.text and 'Edit</a>' not in page.text
    data = desk.api('so.finance', 'get', f'/api/v1/files/{closed_file}').json
    assert [n['frozen'] for n in data['notes']] == [True]
    assert data['actions'] == ['reopen']
    assert [d['state'] for d in data['drafts']] == ['draft']


def test_nobody_changes_a_closed_file(desk, closed_file):
    """Not the records clerk who may read it, nor the Secretary, nor anyone else."""
    before = desk.snapshot(closed_file)
    desk.api('clerk.finance', 'get', f'/api/v1/files/{closed_file}')
    for login in ('clerk.finance', 'secretary.finance', 'diary.finance'):
        status = 409 if login == 'clerk.finance' else 404  # the others cannot see it
        _a_note(desk, login, closed_file, status)
        _a_attach(desk, login, closed_file, status)
        _a_draft(desk, login, closed_file, status)
    assert desk.snapshot(closed_file) == before


@pytest.mark.storages
@pytest.mark.parametrize('door', ['browser', 'api'])
def test_reopened_it_can_be_changed_again(desk, closed_file, door):
    if door == 'api':
        desk.act('so.finance', closed_file, 'reopen', remarks='Audit para received')
    else:
        desk.post('so.finance', f'/files/{closed_file}/actions/reopen', 303, remarks='Audit')
    ok = 303 if door == 'browser' else None
    calls = _writes(door)
    fid = closed_file
    calls['note'](desk, 'so.finance', fid, ok or 201)
    calls['attachment'](desk, 'so.finance', fid, ok or 201)
    calls['draft'](desk, 'so.finance', fid, ok or 201)
    if door == 'browser':
        calls['draft edit'](desk, 'so.finance', fid, 303)
    calls['draft submit'](desk, 'so.finance', fid, ok or 200)
    # the note written before closing stays frozen, even for its author
    res = calls['note edit'](desk, 'so.finance', fid, 409)
    assert 'is frozen' in _text(res)
    # a new note is the author's to change until the file moves on
    if door == 'api':
        desk.api('so.finance', 'patch_json', f'/api/v1/files/{fid}/notes/2',
                 params={'text': 'Changed while it is still here.'})
    else:
        desk.post('so.finance', f'/files/{fid}/notes/2/edit', 303, text='Changed here.')
    calls['forward'](desk, 'so.finance', fid, ok or 200)
    data = desk.api('so.finance', 'get', f'/api/v1/files/{fid}').json
    assert data['state'] == 'open' and data['holder']['id'] == 'secretary-finance'
    assert len(data['notes']) == 2 and len(data['attachments']) == 2
    assert [d['state'] for d in data['drafts']] == ['pending', 'draft']
    assert [m['action'] for m in data['movements']] == ['close', 'reopen', 'forward']
    # the receipt path is open again too, for the diary
    desk.act('secretary.finance', fid, 'forward', to_post='diary-finance')
    calls['receipt'](desk, 'diary.finance', fid, ok or 201)


# drafts on a closed file: a file closed before this rule may carry drafts that await
# approval, signature or issue; none of them moves until the file is reopened ---------
@pytest.fixture
def drafts_in_every_state(desk):
    """A file with the Secretary: d1 put up, d2 approved, d3 signed, d4 being drafted."""
    fid = desk.new_file()
    for n in range(1, 5):
        desk.draft(fid, subject=f'Letter {n}')
    for n in (1, 2, 3):
        desk.draft_act('so.finance', f'{fid}-d{n}', 'submit')
    desk.act('so.finance', fid, 'forward', to_post='secretary-finance')
    for n in (2, 3):
        desk.draft_act('secretary.finance', f'{fid}-d{n}', 'approve')
    desk.draft_act('secretary.finance', f'{fid}-d3', 'sign', pin=DEMO_PIN)
    return fid


def close_as_an_older_release_did(desk, fid):
    """Close ``fid`` without today's checks (as the data of an older release may be)."""
    def close(site, _conn):
        item = site.desk.items[fid]
        site.desk.state_changing(item)
        item.state = 'closed'
        site.desk.state_changed(item)
    desk.open_site(close, commit=True)


DRAFT_MOVES = [('d1', 'approve', {}), ('d1', 'revise', {}), ('d2', 'sign', {'pin': DEMO_PIN}),
               ('d2', 'revise', {}), ('d3', 'issue', {}), ('d4', 'submit', {}),
               ('d4', 'edit', {'subject': 'Changed', 'body': 'Changed'})]


@pytest.mark.parametrize('door', ['browser', 'api'])
def test_drafts_on_a_closed_file_do_not_move(desk, drafts_in_every_state, door):
    fid = drafts_in_every_state
    close_as_an_older_release_did(desk, fid)
    before = desk.snapshot(fid)
    for draft, action, params in DRAFT_MOVES:
        if door == 'browser':
            res = desk.post('secretary.finance', f'/files/{fid}/drafts/{draft}/actions/{action}',
                            409, **params)
        elif action == 'edit':
            continue  # (no API for editing a draft)
        else:
            res = desk.draft_act('secretary.finance', f'{fid}-{draft}', action, 409, **params)
        assert CLOSED in _text(res), (draft, action)
    assert desk.snapshot(fid) == before
    # nor does any draft offer an action while the file is closed
    data = desk.api('secretary.finance', 'get', f'/api/v1/files/{fid}').json
    assert data['state'] == 'closed' and data['actions'] == ['reopen']
    page = desk.browser('secretary.finance')[0].get(f'/files/{fid}')
    assert '/actions/' not in page.text.replace('/actions/reopen', '')  # nothing else offered


@pytest.mark.storages
def test_a_signed_draft_must_be_issued_before_the_file_closes(desk, drafts_in_every_state):
    fid = drafts_in_every_state
    for n in (1, 2):  # back for changes: nothing awaits approval or signature now
        desk.draft_act('secretary.finance', f'{fid}-d{n}', 'revise')
    res = desk.act('secretary.finance', fid, 'close', 409)  # the signed one is not out yet
    assert 'd3 "Letter 3"' in res.json['error'] and 'issue' in res.json['error']
    assert desk.draft_act('secretary.finance', f'{fid}-d3', 'issue').json['state'] == 'issued'
    desk.act('secretary.finance', fid, 'close')


# closing over drafts that wait -----------------------------------------------------
@pytest.mark.parametrize('door', ['browser', 'api'])
def test_closing_is_refused_while_drafts_await_approval_or_signature(desk, door):
    fid = desk.new_file()
    desk.draft(fid, subject='Sanction letter')            # d1: being drafted, no matter
    desk.draft(fid, subject='Release order')              # d2: put up
    desk.draft_act('so.finance', f'{fid}-d2', 'submit')
    desk.act('so.finance', fid, 'forward', to_post='secretary-finance')
    desk.draft(fid, login='secretary.finance', subject='Office order')  # d3: approved
    desk.draft_act('secretary.finance', f'{fid}-d3', 'submit')
    desk.draft_act('secretary.finance', f'{fid}-d3', 'approve')

    def close(status):
        # (refused before the browser asks for confirmation; asked and confirmed once allowed)
        if door == 'browser':
            return desk.post('secretary.finance', f'/files/{fid}/actions/close', status,
                             **({'confirmed': '1'} if status == 303 else {}))
        return desk.act('secretary.finance', fid, 'close', status)

    before = desk.snapshot(fid)
    text = _text(close(409))
    assert 'cannot be closed' in text and 'still await approval, signature or issue' in text
    for named in ('d2', 'Release order', 'd3', 'Office order'):
        assert named in text
    assert 'd1' not in text and 'Sanction letter' not in text
    assert desk.snapshot(fid) == before
    # the button stays, so that pressing it can say why
    assert 'close' in desk.api('secretary.finance', 'get', f'/api/v1/files/{fid}').json['actions']
    desk.draft_act('secretary.finance', f'{fid}-d2', 'approve')
    desk.draft_act('secretary.finance', f'{fid}-d3', 'sign', pin=DEMO_PIN)
    text = _text(close(409))
    assert 'd2' in text and 'd3' in text   # d3 is signed: it waits to be issued
    desk.draft_act('secretary.finance', f'{fid}-d3', 'issue')
    text = _text(close(409))
    assert 'd2' in text and 'd3' not in text   # d3 has gone out: it waits for nothing more
    desk.draft_act('secretary.finance', f'{fid}-d2', 'revise')
    close(303 if door == 'browser' else 200)
    assert desk.api('secretary.finance', 'get', f'/api/v1/files/{fid}').json['state'] == 'closed'


# a decided summary is final ---------------------------------------------------------
@pytest.mark.parametrize('door', ['browser', 'api'])
def test_a_decided_summary_refuses_every_change(desk, door):
    sid = desk.api('so.finance', 'post_json', '/api/v1/departments/finance/summaries', 201,
                   params={'subject': 'Grant for schools', 'background': 'Floods.',
                           'proposal': 'A grant.', 'decision_sought': 'Approval.'}).json['id']
    base = f'/api/v1/summaries/{sid}/actions'
    desk.api('so.finance', 'post_json', f'{base}/submit', params={'to_post': 'secretary-finance'})
    desk.api('secretary.finance', 'post_json', f'{base}/put_up',
             params={'to_post': 'chief-minister'})
    data = desk.api('cm', 'post_json', f'{base}/decide',
                    params={'decision': 'approved', 'pin': DEMO_PIN}).json
    assert data['state'] == 'decided' and data['holder']['id'] == 'so-budget-finance'
    before = desk.snapshot(sid)
    if door == 'browser':
        res = desk.post('so.finance', f'/summaries/{sid}/notes', 409, text='After the decision')
        assert 'has been decided: nothing in it can change any more.' in res.text
        for action in ('submit', 'forward', 'sign', 'decide'):
            desk.post('so.finance', f'/summaries/{sid}/actions/{action}', 409,
                      to_post='secretary-finance', pin=DEMO_PIN, decision='seen')
    else:
        res = desk.api('so.finance', 'post_json', f'/api/v1/summaries/{sid}/notes', 409,
                       params={'text': 'After the decision'})
        assert res.json['error'].endswith('has been decided: nothing in it can change any more.')
        for action in ('submit', 'forward', 'sign', 'decide'):
            desk.api('so.finance', 'post_json', f'{base}/{action}', 409,
                     params={'to_post': 'secretary-finance', 'pin': DEMO_PIN,
                             'decision': 'seen'})
    assert desk.snapshot(sid) == before


# roles on writes ------------------------------------------------------------------
def held_by(desk, post):
    """A new Finance file with a note by so.finance, forwarded to ``post``."""
    fid = desk.new_file()
    desk.api('so.finance', 'post_json', f'/api/v1/files/{fid}/notes', 201,
             params={'text': 'For your action.'})
    desk.draft(fid)
    if post != 'so-budget-finance':
        desk.act('so.finance', fid, 'forward', to_post=post)
    return fid


DOORS = {'browser': 1, 'api': 2}
ROLE_WRITES = ('note', 'attachment', 'receipt', 'draft')


def _writes(door):
    return {w[0]: w[DOORS[door]] for w in WRITES}


@pytest.mark.storages
@pytest.mark.parametrize('door', list(DOORS))
@pytest.mark.parametrize('login, post, allowed', [
    ('so.finance', 'so-budget-finance', {'note', 'attachment', 'draft'}),          # officer
    ('secretary.finance', 'secretary-finance', {'note', 'attachment', 'draft'}),   # approver
    ('clerk.finance', 'records-finance', set()),                                   # records
    ('diary.finance', 'diary-finance', {'receipt'}),                               # diary
])
def test_each_role_writes_only_what_it_may(desk, door, login, post, allowed):
    fid = held_by(desk, post)
    writes = _writes(door)
    for name in ROLE_WRITES:
        if name in allowed:
            continue
        before = desk.snapshot(fid)
        res = writes[name](desk, login, fid, 403)
        assert 'Your role does not' in _text(res) or 'Only the diary' in _text(res), name
        assert desk.snapshot(fid) == before, name
    for name in ROLE_WRITES:
        if name in allowed:
            writes[name](desk, login, fid, 303 if door == 'browser' else 201)
    data = desk.api(login, 'get', f'/api/v1/files/{fid}').json
    assert len(data['notes']) == 1 + ('note' in allowed)
    assert len(data['attachments']) == ('attachment' in allowed) + ('receipt' in allowed)
    assert len(data['drafts']) == 1 + ('draft' in allowed)
    diaries = [a['diary_number'] for a in data['attachments'] if a['diary_number']]
    assert len(diaries) == ('receipt' in allowed)


@pytest.mark.parametrize('door', list(DOORS))
def test_an_officer_cannot_give_a_diary_number(desk, door):
    fid = held_by(desk, 'so-budget-finance')
    before = desk.snapshot(fid)
    res = _writes(door)['receipt'](desk, 'so.finance', fid, 403)
    assert 'Only the diary registers receipts' in _text(res)
    assert desk.snapshot(fid) == before
    # the diary's numbers did not move either: its first receipt is number 1
    desk.act('so.finance', fid, 'forward', to_post='diary-finance')
    number = _a_receipt(desk, 'diary.finance', fid, 201).json['diary_number']
    assert re.fullmatch(r'FD/D/\d{4}/\d{4}', number)   # (the diary's next number)


@pytest.mark.parametrize('door', list(DOORS))
def test_a_records_clerk_cannot_change_notes_or_drafts_or_move_on(desk, door):
    fid = held_by(desk, 'records-finance')
    before = desk.snapshot(fid)
    writes = _writes(door)
    for name in ('note edit', 'draft submit', 'forward'):
        fn = writes[name]
        res = fn(desk, 'clerk.finance', fid, 403)
        assert 'Traceback' not in res.text, name
    assert desk.snapshot(fid) == before


# existence leaks ------------------------------------------------------------------
@pytest.fixture
def secret_file(desk):
    """A confidential Finance file with a note, an attachment and a draft, which
    so.hed (Higher Education) may not see."""
    fid = desk.new_file(classification='confidential')
    desk.api('so.finance', 'post_json', f'/api/v1/files/{fid}/notes', 201,
             params={'text': 'Confidential.'})
    _a_attach(desk, 'so.finance', fid, 201)
    desk.draft(fid)
    desk.draft_act('so.finance', f'{fid}-d1', 'submit')
    return fid


def _summary_for_finance(desk):
    return desk.api('so.finance', 'post_json', '/api/v1/departments/finance/summaries', 201,
                    params={'subject': 'Secret grant', 'background': 'b', 'proposal': 'p',
                            'decision_sought': 'd', 'classification': 'secret'}).json['id']


# (method, path with {f}: file, {s}: summary, {d}: draft address, body kind)
LEAK_ROUTES = [
    ('get', '/files/{f}', None), ('get', '/files/{f}/pdf', None),
    ('post', '/files/{f}/notes', 'form'), ('get', '/files/{f}/notes/1/edit', None),
    ('post', '/files/{f}/notes/1/edit', 'form'), ('post', '/files/{f}/attachments', 'upload'),
    ('get', '/files/{f}/attachments/a1', None), ('post', '/files/{f}/actions/forward', 'form'),
    ('post', '/files/{f}/drafts', 'form'), ('post', '/files/{f}/drafts/d1/actions/approve', 'form'),
    ('post', '/files/{f}/drafts/d1/actions/edit', 'form'),
    ('get', '/files/{f}/drafts/d1/pdf', None),
    ('get', '/summaries/{s}', None), ('get', '/summaries/{s}/pdf', None),
    ('post', '/summaries/{s}/notes', 'form'), ('post', '/summaries/{s}/actions/forward', 'form'),
    ('get', '/api/v1/files/{f}', None), ('get', '/api/v1/files/{f}/pdf', None),
    ('post', '/api/v1/files/{f}/notes', 'json'), ('patch', '/api/v1/files/{f}/notes/1', 'json'),
    ('post', '/api/v1/files/{f}/attachments', 'upload'),
    ('get', '/api/v1/files/{f}/attachments/a1', None),
    ('post', '/api/v1/files/{f}/actions/forward', 'json'),
    ('post', '/api/v1/files/{f}/drafts', 'json'),
    ('post', '/api/v1/drafts/{d}/actions/approve', 'json'),
    ('post', '/api/v1/drafts/{d}/actions/submit', 'json'),
    ('get', '/api/v1/drafts/{d}/pdf', None),
    ('get', '/api/v1/summaries/{s}', None), ('get', '/api/v1/summaries/{s}/pdf', None),
    ('post', '/api/v1/summaries/{s}/notes', 'json'),
    ('post', '/api/v1/summaries/{s}/actions/forward', 'json'),
]
BODY = {'text': 'x', 'to_post': 'so-general-hed', 'kind': 'letter', 'subject': 'x',
        'body': 'y', 'pin': DEMO_PIN}


def _ask(desk, login, method, path, kind):
    """One request as ``login`` to ``path``: the browser's or the API's, with a body."""
    if path.startswith('/api/'):
        headers = {'Authorization': f'Bearer {desk.tokens(login)}'}
        b = desk.app
    else:
        b, token = desk.browser(login)
        headers = {}
    kw = {'headers': headers, 'status': '*'}
    if kind == 'json':
        return getattr(b, f'{method}_json')(path, BODY, **kw)
    params = dict(BODY)
    if not path.startswith('/api/'):
        params['csrf_token'] = token
    if kind == 'upload':
        return getattr(b, method)(path, params=params,
                                  upload_files=[('file', 'x.pdf', pdf_bytes())], **kw)
    if kind == 'form':
        return getattr(b, method)(path, params=params, **kw)
    return getattr(b, method)(path, **kw)


def _same_answer(res, path):
    """Status, type and body, with the address asked for (echoed in the page's language
    links) taken out."""
    body = res.text.replace(quote(path, safe=''), '{path}').replace(path, '{path}')
    return res.status_int, res.content_type, body


@pytest.mark.parametrize('method, path, kind', LEAK_ROUTES,
                         ids=[f'{m} {p}' for m, p, _k in LEAK_ROUTES])
def test_what_may_not_be_seen_answers_like_what_does_not_exist(desk, secret_file, method, path,
                                                               kind):
    fid = secret_file
    sid = _summary_for_finance(desk)
    before = desk.snapshot(fid), desk.snapshot(sid)
    asks = {
        'hidden': path.format(f=fid, s=sid, d=f'{fid}-d1'),
        'no such item': path.format(f='f000000000', s='s000000000', d='f000000000-d1'),
    }
    if '{d}' in path:
        asks['no such draft on it'] = path.format(d=f'{fid}-d9')
        asks['not a draft address'] = path.format(d=f'{sid}-d1')
        asks['no dash'] = path.format(d=fid)
    answers = {name: _same_answer(_ask(desk, 'so.hed', method, p, kind), p)
               for name, p in asks.items()}
    first = answers['no such item']
    assert first[0] == 404, first
    for name, answer in answers.items():
        assert answer == first, name
    assert (desk.snapshot(fid), desk.snapshot(sid)) == before


def test_a_missing_draft_on_a_visible_file_answers_the_same_404(desk, secret_file):
    """The owner asking for a draft that is not there gets the one 404 too."""
    hidden = _ask(desk, 'so.hed', 'get', f'/api/v1/drafts/{secret_file}-d1/pdf', None)
    missing = _ask(desk, 'so.finance', 'get', f'/api/v1/drafts/{secret_file}-d9/pdf', None)
    assert (hidden.status_int, hidden.json) == (missing.status_int, missing.json)
    assert missing.json == {'error': 'There is nothing at this address, or you may not see it.'}


def test_the_refusals_speak_urdu(desk, closed_file):
    ur = {'Accept-Language': 'ur'}
    res = desk.app.post_json(f'/api/v1/files/{closed_file}/notes', {'text': 'x'}, status=409,
                             headers={'Authorization': f'Bearer {desk.tokens("so.finance")}',
                                      **ur})
    assert res.json['error'].endswith('بند ہو چکی ہے: دوبارہ کھولے جانے تک اس میں کوئی تبدیلی '
                                      'نہیں ہو سکتی۔')
    fid = desk.new_file()
    desk.draft(fid, subject='Release order')
    desk.draft_act('so.finance', f'{fid}-d1', 'submit')
    res = desk.app.post_json(f'/api/v1/files/{fid}/actions/close', {}, status=409,
                             headers={'Authorization': f'Bearer {desk.tokens("so.finance")}',
                                      **ur})
    assert 'بند نہیں کی جا سکتی' in res.json['error'] and 'd1 "Release order"' in res.json['error']
    res = desk.app.post_json(f'/api/v1/files/{fid}/attachments', {}, status='*',
                             headers={'Authorization': f'Bearer {desk.tokens("clerk.finance")}',
                                      **ur})
    assert res.status_int == 404  # not in its chain: not seen, not told


def test_a_route_for_files_does_not_reach_a_summary_nor_the_other_way(desk):
    fid = desk.new_file()
    sid = _summary_for_finance(desk)
    before = desk.snapshot(fid), desk.snapshot(sid)
    for method, path, kind in [('post', f'/api/v1/summaries/{fid}/notes', 'json'),
                               ('post', f'/api/v1/files/{sid}/notes', 'json'),
                               ('post', f'/api/v1/summaries/{fid}/actions/forward', 'json'),
                               ('post', f'/api/v1/files/{sid}/actions/forward', 'json'),
                               ('post', f'/summaries/{fid}/notes', 'form'),
                               ('post', f'/files/{sid}/notes', 'form'),
                               ('post', f'/files/{sid}/actions/forward', 'form')]:
        res = _ask(desk, 'so.finance', method, path, kind)
        assert res.status_int == 404, path
    assert (desk.snapshot(fid), desk.snapshot(sid)) == before


@pytest.mark.parametrize('login, post, shown', [
    ('so.finance', 'so-budget-finance', {'New note', 'Attach', 'Write a draft'}),
    ('clerk.finance', 'records-finance', set()),
    ('diary.finance', 'diary-finance', {'Attach', 'Inward letter'}),
])
def test_the_page_offers_only_the_writes_the_role_may(desk, login, post, shown):
    fid = held_by(desk, post)
    page = desk.browser(login)[0].get(f'/files/{fid}')
    for label in ('New note', 'Attach</button>', 'Write a draft', 'Inward letter'):
        assert (label in page.text) == (label.replace('</button>', '') in shown), label
    if login == 'diary.finance':  # a diary clerk attaches receipts only: ticked already
        box = page.forms[[k for k, f in page.forms.items()
                          if f.action.endswith('/attachments')][0]]['receipt']
        assert box.checked
