"""The databases as the app opens them: a commit that fails must not take the blob
files of another commit with it."""
import threading

import pytest
import transaction
from ZODB.blob import Blob
from ZODB.POSException import ConflictError

from tests.conftest import close_app, make_app


class Last:
    """A data manager that votes after the databases (its sort key sorts after any
    storage's) and does ``vote`` then."""

    def __init__(self, vote):
        self.vote = vote

    def sortKey(self):
        return '~'

    def tpc_vote(self, txn):
        self.vote()

    def abort(self, txn):
        pass

    tpc_begin = commit = tpc_finish = tpc_abort = abort


def refuse():
    raise ConflictError('another commit changed it first')


def test_a_failed_commit_leaves_the_blobs_of_the_next_commit_alone(tmp_path):
    """Two requests commit at once.  The first fails after it has begun its commit on
    the main database (a conflict), the other stores an attachment's blob at the
    moment the first lets the database go.  The blob file must stay: it belongs to a
    commit that succeeds.

    With the ``file://`` URI's storage from zodburi (ZODB's BlobStorage proxy around
    a FileStorage) the first commit's abort released the commit lock and only then
    removed "its" blob files: every blob file stored meanwhile, the other commit's
    too, which then committed a blob whose file was gone (POSKeyError "No blob file"
    on reading the attachment).  A FileStorage with its own blob directory removes
    them while it still holds the lock.  The test makes the unlucky moment happen
    every time: the other commit stores its blob inside that window when there is
    one."""
    app = make_app(tmp_path / 'var', **{'kp_workspace.indexer': 'off'})
    storage = app.registry._zodb_databases[''].storage
    db = app.registry._zodb_databases['']
    stored, aborted, committed = threading.Event(), threading.Event(), {}

    def other_commit():
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        try:
            tm.begin()
            blob = conn.root()['attached'] = Blob(b'the attachment of a commit that succeeds')
            tm.get().join(Last(lambda: (stored.set(), aborted.wait(60))))
            tm.commit()
            committed['oid'] = blob._p_oid
        finally:
            tm.abort()
            conn.close()

    other = threading.Thread(target=other_commit)
    failing = threading.current_thread()
    remove_blob_files = storage._blob_tpc_abort

    def remove_blob_files_of_the_aborted_commit():
        if threading.current_thread() is failing and not storage._commit_lock.locked():
            other.start()  # the database is free: the other commit stores its blob now
            assert stored.wait(60)
        remove_blob_files()

    storage._blob_tpc_abort = remove_blob_files_of_the_aborted_commit
    try:
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        tm.begin()
        conn.root()['refused'] = Blob(b'the attachment of a commit that fails')
        tm.get().join(Last(refuse))
        with pytest.raises(ConflictError):
            tm.commit()
        tm.abort()
        conn.close()
        aborted.set()
        if not other.is_alive() and not committed:
            other.start()
        other.join(60)
        assert committed, 'the other commit did not succeed'
        conn = db.open()
        try:
            with conn.get(committed['oid']).open() as f:
                assert f.read() == b'the attachment of a commit that succeeds'
            assert 'refused' not in conn.root()
        finally:
            conn.close()
    finally:
        aborted.set()
        del storage._blob_tpc_abort
        close_app(app)


def test_a_file_uri_with_a_blob_directory_opens_a_filestorage_with_it(tmp_path):
    from ZODB.blob import BlobStorage
    from ZODB.FileStorage import FileStorage

    from kp_workspace.databases import resolve_uri
    uri = (f'file://{tmp_path}/Data.fs?blobstorage_dir={tmp_path}/blobs'
           '&blobstorage_layout=lawn&connection_cache_size=300')
    factory, dbkw = resolve_uri(uri)
    storage = factory()
    try:
        assert type(storage) is FileStorage and storage.fshelper.layout_name == 'lawn'
        assert storage.temporaryDirectory() == f'{tmp_path}/blobs/tmp'
        assert dbkw['cache_size'] == 300
    finally:
        storage.close()
    factory, _dbkw = resolve_uri(f'file://{tmp_path}/Data.fs?blobstorage_dir={tmp_path}/blobs'
                                 '&read_only=1')
    storage = factory()
    try:
        assert storage.isReadOnly() and storage.fshelper.layout_name == 'lawn'
    finally:
        storage.close()
    for other in (f'file://{tmp_path}/Audit.fs', 'memory://',
                  f'file://{tmp_path}/Demo.fs?blobstorage_dir={tmp_path}/blobs&demostorage=1'):
        storage = resolve_uri(other)[0]()
        assert not isinstance(storage, BlobStorage) or 'demostorage' in other
        storage.close()


def test_opening_a_new_database_keeps_the_blob_directory(tmp_path):
    """(A FileStorage that creates its file empties its blob directory; zodburi's did not.)"""
    from kp_workspace.databases import resolve_uri
    kept = tmp_path / 'blobs' / 'kept'
    kept.parent.mkdir()
    kept.write_text('a file of the blob directory')
    for query in ('', '&create=1'):
        storage = resolve_uri(f'file://{tmp_path}/Data.fs?blobstorage_dir={tmp_path}/blobs'
                              + query)[0]()
        storage.close()
        assert kept.read_text() == 'a file of the blob directory'
