"""Concurrent writes to the same register merge instead of conflicting.

Every action appends to the audit log; tokens, alerts and sign-in counts are
registers too.  Two requests writing to one of them at the same moment must
both commit (ZODB merges the bucket), or every concurrent write would be retried
and, under load, refused as "busy".
"""
import datetime

import pytest
import transaction
import ZODB
import ZODB.FileStorage

from kp_workspace.alerts import Alert, AlertBox
from kp_workspace.audit import AuditEntry, AuditLog
from kp_workspace.records import Record
from kp_workspace.security.throttle import LoginThrottle, SignInThrottle
from kp_workspace.settings import WorkspaceSettings
from kp_workspace.security.tokens import TokenStore


def now():
    return datetime.datetime.now(datetime.timezone.utc)


class FakeUser:
    def __init__(self, login):
        self.login, self.epoch = login, 1


def one_tree_log():
    """An audit log as an older release kept it: every entry in one tree (so both
    writes below land in the same bucket)."""
    log = AuditLog()
    log._shards = None
    return log


WRITES = {
    'audit log': (one_tree_log, lambda log, n: log.append(
        AuditEntry(now(), f'user{n}', 'note.written', 'file:x', '10.0.0.1', [('n', str(n))]))),
    'alerts': (AlertBox, lambda box, n: box.add(Alert(now(), 'arrived', f'file {n}', 'x'))),
    'tokens': (TokenStore, lambda store, n: store.issue(b'k' * 32, FakeUser(f'u{n}'), 3600, '')),
    'sign-in failures': (LoginThrottle, lambda throttle, n: throttle.failed(
        f'login{n}', now(), 5, 900, 900)),
    'sign-in failures by address': (SignInThrottle, lambda throttle, n: throttle.failed(
        f'login{n}', f'10.0.0.{n}', now(), WorkspaceSettings(var_dir='', secret=''))),
}


@pytest.mark.parametrize('name', sorted(WRITES))
def test_two_concurrent_writes_to_one_register_both_commit(tmp_path, name):
    factory, write = WRITES[name]
    db = ZODB.DB(ZODB.FileStorage.FileStorage(str(tmp_path / 'Data.fs')))
    try:
        with db.transaction() as conn:
            conn.root()['register'] = factory()
            for n in range(5):
                write(conn.root()['register'], 100 + n)
        tm1, tm2 = transaction.TransactionManager(), transaction.TransactionManager()
        first, second = db.open(transaction_manager=tm1), db.open(transaction_manager=tm2)
        tm1.begin()
        tm2.begin()
        write(first.root()['register'], 1)
        write(second.root()['register'], 2)
        tm1.commit()
        tm2.commit()  # merged, not a ConflictError
        first.close()
        second.close()
    finally:
        db.close()


def test_records_are_equal_by_value_and_never_less():
    at = now()
    one, same = Alert(at, 'arrived', 'FD/1', 'x'), Alert(at, 'arrived', 'FD/1', 'x')
    other = Alert(at, 'arrived', 'FD/2', 'x')
    assert one == same and one != other
    assert not one < same and not one < other
    assert isinstance(one, Record) and one != 'FD/1'
    with pytest.raises(TypeError):
        hash(one)
