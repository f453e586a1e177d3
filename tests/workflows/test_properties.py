"""No sequence of actions breaks the promises of file work (hypothesis, stateful).

Random demo users act on a few case files through the JSON API of a real app on
a real database: open, write and edit notes, forward, send back, recall, close,
reopen, attach, draft, and put drafts through submit / approve / revise / sign /
issue.  Most actions are refused (the wrong user, the wrong state); a refusal is
fine, but must change nothing.  After every step the database is read directly
and checked:

- an open file has exactly one holder, a post in its chain, and only that post's
  desk register lists it; a closed file is listed by no desk;
- the chain only grows (each chain extends the one before), and so does the
  movement register, whose earlier entries never change;
- a frozen note stays frozen, with the same text;
- a refused action changed nothing at all, in any file;
- a closed file does not change, except by being reopened.
"""
import collections

import hypothesis
import transaction
from hypothesis import HealthCheck, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kp_workspace.populate import DEMO_PIN, POSTS
from tests.conftest import CLIENT, Browser, close_app, copy_demo, make_app

USERS = ('so.finance', 'secretary.finance', 'clerk.finance', 'so.hed', 'cs', 'cm')
POST_IDS = tuple(p[0] for p in POSTS)
TARGETS = ('secretary-finance', 'so-budget-finance', 'chief-secretary', 'records-finance',
           'so-general-hed', 'chief-minister', 'no-such-post')
PNG = (b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00'
       b'\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N'
       b'\x00\x00\x00\x00IEND\xaeB`\x82')
MAX_FILES = 4
# no shrinking: every example builds a site, and a failure prints its steps whole
PHASES = (hypothesis.Phase.generate,)

# None: whoever holds the post that holds the file (so that not every action is refused)
# (most of the time: else nearly every action is refused)
users = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(USERS))
slots = st.integers(0, MAX_FILES - 1)
texts = st.one_of(st.sampled_from(['Noted, please.', '  ', '', 'x' * 20001]),
                  st.text(min_size=1, max_size=40).filter(lambda s: '\x00' not in s))
remarks = st.sampled_from(['', 'For approval, please.', 'r' * 2001])


def snapshot_item(item):
    return {
        'holder': item.holder, 'state': item.state, 'chain': tuple(item.chain),
        'movements': tuple((m.n, m.action, m.from_post, m.to_post, m.remarks, m.by,
                            m.at.isoformat()) for m in item.movements),
        'notes': {n.n: (n.text, n.author, item.is_frozen(n)) for n in item.notes.values()},
        'attachments': tuple(sorted((a.id, a.size, a.filename)
                                    for a in item.attachments.values())),
        'drafts': {d.id: (d.state, d.subject, d.body, d.number, len(d.signatures))
                   for d in item.drafts.values()},
        'frozen_through': item.frozen_through,
    }


class FileWork(RuleBasedStateMachine):
    """One fresh copy of the demo site per example."""

    template = None  # set by the test: the demo data directory to copy
    workdir = None
    runs = 0
    done = collections.Counter()  # (rule, status) over every run

    def __init__(self):
        super().__init__()
        type(self).runs += 1
        var = copy_demo(self.template, self.workdir / f'var{type(self).runs}')
        self.wsgi_app = make_app(var)
        self.browser = Browser(self.wsgi_app, extra_environ={'REMOTE_ADDR': CLIENT})
        self.tokens = self._issue_tokens()
        self.files = []
        self.before = self.snapshot()
        for n in range(2):
            self.open_file('so.finance', f'Case number {n}')
        self.draft(None, 0, 'notification')

    def teardown(self):
        transaction.abort()
        close_app(self.wsgi_app)

    # reading the database ------------------------------------------------------------
    def _site(self, fn, commit=False):
        from kp_workspace.site import ROOT_KEY
        db = self.wsgi_app.registry._zodb_databases['']
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        try:
            tm.begin()
            result = fn(conn.root()[ROOT_KEY])
            if commit:
                tm.commit()
            return result
        finally:
            tm.abort()
            conn.close()

    def _issue_tokens(self):
        registry = self.wsgi_app.registry

        def issue(site):
            return {login: site.tokens.issue(registry.kpw_token_key,
                                             site['principals'].users[login], 3600, CLIENT)[0]
                    for login in USERS}
        return self._site(issue, commit=True)

    def snapshot(self):
        """Every file of this run and every desk register."""
        def read(site):
            desk = site.desk
            items = {i: snapshot_item(desk.items[i]) for i in self.files}
            held = {p: frozenset(item_id for _ts, item_id in desk.held([p])
                                 if item_id in items) for p in POST_IDS}
            return {'items': items, 'held': held}
        return self._site(read)

    # acting ---------------------------------------------------------------------------
    def holder_login(self, slot):
        def find(site):
            item = site.desk.items[self.file_id(slot)]
            post = site['principals'].posts[item.holder]
            return next((u for u in USERS if u in post.holders), 'so.finance')
        return self._site(find)

    def call(self, name, login, method, path, slot=None, **kw):
        if login is None:
            login = self.holder_login(slot) if slot is not None else 'so.finance'
        headers = {'Authorization': f'Bearer {self.tokens[login]}'}
        response = getattr(self.browser, method)(path, headers=headers, status='*', **kw)
        assert response.status_int < 500, (method, path, response.status, response.text)
        after = self.snapshot()
        type(self).done[name, response.status_int] += 1
        if response.status_int >= 400:
            assert after == self.before, ('refused, yet something changed', method, path,
                                          response.status, response.text)
        self.check_steps(self.before, after, path)
        self.before = after
        return response

    def on_file(self, name, login, method, slot, suffix, **kw):
        return self.call(name, login, method, f'/api/v1/files/{self.file_id(slot)}{suffix}',
                         slot=slot, **kw)

    def file_id(self, slot):
        return self.files[slot % len(self.files)]

    def check_steps(self, before, after, path):
        """What may change from one step to the next."""
        for item_id, old in before['items'].items():
            new = after['items'][item_id]
            assert new['chain'][:len(old['chain'])] == old['chain'], (old, new)
            assert new['movements'][:len(old['movements'])] == old['movements'], (old, new)
            for n, (text, author, frozen) in old['notes'].items():
                if frozen:
                    assert new['notes'].get(n) == (text, author, True), (n, old, new)
            if old['state'] == 'closed' and not path.endswith('/actions/reopen'):
                assert new == old, ('a closed file changed', path, old, new)

    # rules ------------------------------------------------------------------------------
    @precondition(lambda self: len(self.files) < MAX_FILES)
    @rule(login=users, subject=st.sampled_from(['Budget of 2026-27', 'ab', 'Pension case']))
    def open_file(self, login, subject):
        res = self.call('open_file', login, 'post_json', '/api/v1/departments/finance/files',
                        params={'subject': subject})
        if res.status_int == 201:
            self.files.append(res.json['id'])
            self.before = self.snapshot()  # the new file is watched from now on

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots, text=texts)
    def write_note(self, login, slot, text):
        self.on_file('write_note', login, 'post_json', slot, '/notes',
                     params={'text': text})

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots, n=st.integers(1, 3), text=texts)
    def edit_note(self, login, slot, n, text):
        self.on_file('edit_note', login, 'patch_json', slot, f'/notes/{n}',
                     params={'text': text})

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots, to_post=st.sampled_from(TARGETS), remarks=remarks)
    def forward(self, login, slot, to_post, remarks):
        self.on_file('forward', login, 'post_json', slot, '/actions/forward',
                     params={'to_post': to_post, 'remarks': remarks})

    def act(self, login, slot, action, remarks=''):
        self.on_file(action, login, 'post_json', slot, f'/actions/{action}',
                     params={'remarks': remarks} if remarks else {})

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots, remarks=remarks)
    def send_back(self, login, slot, remarks):
        self.act(login, slot, 'return', remarks)

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots)
    def recall(self, login, slot):
        self.act(login, slot, 'recall')

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots, remarks=remarks)
    def close(self, login, slot, remarks):
        self.act(login, slot, 'close', remarks)

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots)
    def reopen(self, login, slot):
        self.act(login, slot, 'reopen')

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots, action=st.sampled_from(['shred', 'Forward', '']))
    def unknown_action(self, login, slot, action):
        self.act(login, slot, action)

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots,
          upload=st.sampled_from([('dot.png', PNG), ('fake.pdf', b'%PDF-1.4 no'),
                                  ('empty.png', b''), ('n.txt', b'plain text')]))
    def attach(self, login, slot, upload):
        self.on_file('attach', login, 'post', slot, '/attachments',
                     upload_files=[('file', *upload)], params={'title': 'Letter'})

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots, kind=st.sampled_from(['letter', 'notification', 'poem']))
    def draft(self, login, slot, kind):
        self.on_file('draft', login, 'post_json', slot, '/drafts',
                     params={'kind': kind, 'subject': 'Release of funds',
                          'body': 'The competent authority has approved the release.'})

    @precondition(lambda self: self.files)
    @rule(login=users, slot=slots, which=st.integers(0, 3),
          action=st.sampled_from(['submit', 'approve', 'revise', 'sign', 'issue']),
          pin=st.sampled_from([DEMO_PIN, '000000']))
    def draft_action(self, login, slot, which, action, pin):
        file_id = self.file_id(slot)
        drafts = sorted(self.before['items'][file_id]['drafts']) + ['d9']  # (d9: none such)
        body = {'pin': pin} if action == 'sign' else {}
        self.call('draft_action', login, 'post_json',
                  f'/api/v1/drafts/{file_id}-{drafts[which % len(drafts)]}/actions/{action}',
                  slot=slot, params=body)

    # invariants -----------------------------------------------------------------------
    @invariant()
    def one_holder_and_the_desks_agree(self):
        now = self.before  # taken after the last step
        for item_id, item in now['items'].items():
            listed_by = {p for p, ids in now['held'].items() if item_id in ids}
            assert item['holder'] in item['chain'], item
            if item['state'] == 'open':
                assert listed_by == {item['holder']}, (item_id, item, listed_by)
            else:
                assert item['state'] == 'closed' and listed_by == set(), (item, listed_by)


def test_no_sequence_of_actions_breaks_file_work(demo_template, tmp_path):
    FileWork.template, FileWork.workdir, FileWork.runs = demo_template, tmp_path, 0
    FileWork.done.clear()
    # derandomize: the same sequences on every run, so the floor below either always
    # holds or never does (it was met with 7 kinds and 96 successes when it was set;
    # a change to the rules, their strategies or hypothesis draws other sequences).
    hypothesis.stateful.run_state_machine_as_test(FileWork, settings=hypothesis.settings(
        max_examples=15, stateful_step_count=40, deadline=None, database=None,
        derandomize=True, suppress_health_check=list(HealthCheck), phases=PHASES))
    assert FileWork.runs >= 15
    succeeded = collections.Counter()
    for (name, status), count in FileWork.done.items():
        if status < 300:
            succeeded[name] += count
    print(sorted(FileWork.done.items()))
    # the runs did real work, not only refusals
    assert sum(succeeded.values()) >= 40 and len(succeeded) >= 6, FileWork.done
