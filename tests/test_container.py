"""The folder base class: naming rules, location, events, paging."""
import pytest
from pyramid import testing

from kp_workspace.container import Folder, FolderKeyError, ObjectAdded, ObjectRemoved


class Thing:
    pass


@pytest.fixture
def config():
    config = testing.setUp()
    yield config
    testing.tearDown()


def test_add_sets_location_counts_and_notifies(config):
    events = []
    config.add_subscriber(events.append, ObjectAdded)
    config.add_subscriber(events.append, ObjectRemoved)
    folder = Folder()
    thing = folder.add('a-1', Thing())
    assert (thing.__parent__, thing.__name__) == (folder, 'a-1')
    assert len(folder) == 1 and 'a-1' in folder and folder['a-1'] is thing
    assert folder.get('nope') is None and list(folder) == ['a-1']
    assert [type(e) for e in events] == [ObjectAdded]
    assert folder.remove('a-1') is thing
    assert len(folder) == 0 and isinstance(events[-1], ObjectRemoved)


def test_empty_folder_is_still_true():
    assert Folder()


@pytest.mark.parametrize('name', ['', 'Upper', '../x', 'a/b', '-start', 'x' * 101, None, 7,
                                  'has space', '@@view'])
def test_bad_names_are_refused(config, name):
    with pytest.raises(FolderKeyError):
        Folder().add(name, Thing())


def test_taken_name_is_refused(config):
    folder = Folder()
    folder.add('x', Thing())
    with pytest.raises(FolderKeyError, match='already taken'):
        folder.add('x', Thing())


def test_page_walks_in_name_order(config):
    folder = Folder()
    for i in range(7):
        folder.add(f'n{i}', Thing())
    first, cursor = folder.page(limit=3)
    assert [t.__name__ for t in first] == ['n0', 'n1', 'n2'] and cursor == 'n2'
    second, cursor = folder.page(after=cursor, limit=3)
    assert [t.__name__ for t in second] == ['n3', 'n4', 'n5']
    last, cursor = folder.page(after=cursor, limit=3)
    assert [t.__name__ for t in last] == ['n6'] and cursor is None
    assert list(folder.keys()) == [f'n{i}' for i in range(7)]
    assert len(list(folder.values())) == len(list(folder.items())) == 7


# the version: what a cache of a folder's contents is keyed on --------------------------
@pytest.fixture
def db(tmp_path):
    import ZODB
    database = ZODB.DB(str(tmp_path / 'Data.fs'))  # (a FileStorage: it resolves conflicts)
    yield database
    database.close()


def _open(db):
    import transaction
    tm = transaction.TransactionManager()
    return tm, db.open(transaction_manager=tm)


def test_adding_removing_and_saying_so_raise_the_version_once_committed(config, db):
    tm, conn = _open(db)
    folder = conn.root()['f'] = Folder()
    assert folder.version == 0  # (no counter yet: a folder stored before it had none)
    tm.commit()
    folder.add('a', Thing())
    assert folder.version is None  # changed here, not committed: nothing may be keyed on it
    tm.commit()
    assert folder.version == 1
    folder.changed()  # (what renaming an item calls)
    tm.abort()
    assert folder.version == 1  # undone: the number is the committed one again
    folder.remove('a')
    folder.changed()
    tm.commit()
    assert folder.version == 3
    conn.close()


def test_concurrent_changes_both_count_without_a_conflict(config, db):
    tm, conn = _open(db)
    conn.root()['f'] = Folder()
    conn.root()['f'].add('a', Thing())
    tm.commit()
    other_tm, other = _open(db)
    other.root()['f'].add('b', Thing())
    conn.root()['f'].changed()
    other_tm.commit()
    tm.commit()  # (the counter resolves the conflict: both changes are counted)
    tm.begin()
    other_tm.begin()
    assert conn.root()['f'].version == other.root()['f'].version == 3
    conn.close()
    other.close()
