"""Signed-out sessions are remembered only while they could still be used."""
from kp_workspace.security.revocation import RevokedSessions


def test_revoked_ids_expire_and_are_purged():
    store = RevokedSessions()
    store.revoke('a', until=100, now=0)
    store.revoke('b', until=200, now=0)
    store.revoke('', until=200, now=0)  # no id: nothing to remember
    assert 'a' in store and 'b' in store and len(store) == 2
    store.revoke('c', until=300, now=150)  # purges what expired before 150
    assert 'a' not in store and 'b' in store and 'c' in store
    assert store.purge(now=1000) == 2 and len(store) == 0
