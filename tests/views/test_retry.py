"""ZODB conflicts are retried, never swallowed, and the audit log stays exact."""
import pytest
import transaction

from kp_workspace.security.principals import Principals
from kp_workspace.site import ROOT_KEY

pytestmark = pytest.mark.storages


def test_conflicting_write_is_retried_and_both_changes_survive(app, wsgi_app, monkeypatch,
                                                                 open_site, audit_entries):
    from kp_workspace.views import errors
    pauses = []
    monkeypatch.setattr(errors, 'sleep', pauses.append)
    original = Principals.update_user
    calls = []

    def update_with_a_concurrent_writer(self, actor, user, *args):
        calls.append(1)
        if len(calls) == 1:
            # Someone else changes the same user and commits first.
            db = wsgi_app.registry._zodb_databases['']
            tm = transaction.TransactionManager()
            conn = db.open(transaction_manager=tm)
            with tm:
                conn.root()[ROOT_KEY]['principals'].users['so.hed'].password_changed = 'marker'
            conn.close()
        return original(self, actor, user, *args)

    monkeypatch.setattr(Principals, 'update_user', update_with_a_concurrent_writer)
    app.login('admin')
    form = app.get('/admin/users/so.hed').forms['kpw-form']
    form['name'] = 'Bilal Afridi Khan'
    res = form.submit('save', status=303)
    assert 'Saved.' in res.follow().text
    assert len(calls) == 2  # the first attempt hit a ConflictError and was retried
    # after a random pause, so that requests that collided do not collide again in step
    assert len(pauses) == 1 and 0 <= pauses[0] <= errors.RETRY_PAUSE

    def read(site, conn):
        user = site['principals'].users['so.hed']
        return user.name, user.password_changed
    assert open_site(read) == ('Bilal Afridi Khan', 'marker')
    updates = [e for e in audit_entries(10) if e.action == 'user.updated']
    assert len(updates) == 1  # the aborted attempt left no entry


def test_conflict_on_every_attempt_is_a_clear_503_and_saves_nothing(app, wsgi_app, monkeypatch,
                                                                     open_site):
    from ZODB.POSException import ConflictError

    def always_conflicts(self, *args):
        raise ConflictError()

    monkeypatch.setattr(Principals, 'update_user', always_conflicts)
    app.login('admin')
    form = app.get('/admin/users/so.hed').forms['kpw-form']
    form['name'] = 'Never Saved'
    res = form.submit('save', status=503)
    assert 'nothing was saved' in res.text
    assert open_site(lambda site, conn: site['principals'].users['so.hed'].name) == 'Bilal Afridi'


def test_audit_log_survives_undo_and_pack_of_the_main_database(app, wsgi_app, audit_entries,
                                                                 open_site, storage):
    app.login('admin')
    form = app.get('/admin/departments/+add').forms['kpw-form']
    form['name'], form['title'], form['code'] = 'health', 'Health Department', 'HD'
    form.submit('create_department', status=303)
    before = len(audit_entries(1000))
    db = wsgi_app.registry._zodb_databases['']
    # RelStorage as we deploy it keeps no history: nothing to undo, and packing
    # collects the garbage of the main database (which must not reach the audit log).
    undoable = storage != 'postgresql'
    assert bool(db.supportsUndo()) is undoable
    if undoable:
        db.undo(db.undoLog(0, 1)[0]['id'])  # undo the department's creation
        transaction.commit()
    db.pack()
    assert open_site(lambda site, conn: 'health' in site['departments']) is not undoable
    entries = audit_entries(1000)
    assert len(entries) == before
    assert 'department.created' in [e.action for e in entries]
