"""Two holders of one post forward the same file at the same moment."""
import threading

import pytest

from kp_workspace.audit import Actor, ensure_audit_log
from kp_workspace.workflows import casefile as casefile_workflow
from tests.conftest import Browser

pytestmark = pytest.mark.storages


def test_one_forward_wins_the_other_gets_409_and_nothing_is_lost(app, wsgi_app, open_site,
                                                                monkeypatch, audit_entries):
    def second_holder(site, conn):
        p = site['principals']
        p.assign(Actor('test', 'test', ensure_audit_log(conn)), p.posts['so-budget-finance'],
                 p.users['so.hed'])
    open_site(second_holder, commit=True)
    ayesha, bilal = app.token('so.finance'), app.token('so.hed')
    fid = app.api('post_json', '/api/v1/departments/finance/files', ayesha, status=201,
                  params={'subject': 'Contested file'}).json['id']

    # Both requests pass their checks, then wait for each other before writing, so
    # both commits race: one wins, the other conflicts and is retried from scratch.
    barrier = threading.Barrier(2, timeout=30)
    original = casefile_workflow.move
    seen = []

    def move_together(item, officer, *args, **kw):
        if officer.login not in seen:
            seen.append(officer.login)
            barrier.wait()
        return original(item, officer, *args, **kw)
    monkeypatch.setattr(casefile_workflow, 'move', move_together)

    results = {}

    def forward(login, token, to_post):
        browser = Browser(wsgi_app)
        res = browser.api('post_json', f'/api/v1/files/{fid}/actions/forward', token,
                          status='*', params={'to_post': to_post, 'remarks': f'by {login}'})
        results[login] = (res.status_int, res.json)

    threads = [threading.Thread(target=forward, args=('so.finance', ayesha, 'secretary-finance')),
               threading.Thread(target=forward, args=('so.hed', bilal, 'chief-secretary'))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(status for status, _body in results.values())
    assert statuses == [200, 409], results
    loser = [body for status, body in results.values() if status == 409][0]
    assert 'Only the holder' in loser['error']
    winner = [body for status, body in results.values() if status == 200][0]
    data = app.api('get', f'/api/v1/files/{fid}', ayesha).json
    assert data['holder'] == winner['holder']
    assert len(data['movements']) == 1  # exactly one move recorded
    forwards = [e for e in audit_entries(20) if e.action == 'file.forward'
                and e.target == f'file:{fid}']
    assert len(forwards) == 1
