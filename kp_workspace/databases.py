"""Opening the databases the settings name (``zodbconn.uri``, ``zodbconn.uri.audit``).

zodburi reads every URI but one way: a ``file://`` URI with a ``blobstorage_dir``,
the data directory's own main database.  For it zodburi wraps a FileStorage in
ZODB's ``BlobStorage`` proxy, whose ``tpc_abort`` lets the storage release its
commit lock and only then removes the blob files of the transaction it aborts --
every blob file stored since, including those of the next transaction, which by
then may be storing its own: that transaction then commits records whose blob
files are gone (``POSKeyError: No blob file``, an attachment lost).  A FileStorage
given its blob directory itself (as ZODB's own configuration, and the ZEO server
of ``kpw serve``, open it) removes them while it still holds the lock.  So that
URI opens such a FileStorage here, and every other URI is zodburi's.
"""
import os
from urllib.parse import parse_qsl

import pyramid_zodbconn
import zodburi
from ZODB.blob import FilesystemHelper
from ZODB.FileStorage import FileStorage
from zodburi.resolvers import FileStorageURIResolver


def resolve_uri(uri):
    """Like :func:`zodburi.resolve_uri`: ``(storage factory, keyword arguments of
    ZODB.DB)``; a ``file://`` URI with a ``blobstorage_dir`` gives a FileStorage with
    that blob directory (its layout: ``blobstorage_layout``, or as found there), which
    opening it never empties."""
    factory, dbkw = zodburi.resolve_uri(uri)
    if not uri.startswith('file://'):
        return factory, dbkw
    path, _, query = uri[len('file://'):].partition('?')
    kw, _unused = FileStorageURIResolver().interpret_kwargs(dict(parse_qsl(query)))
    blob_dir = kw.pop('blobstorage_dir', None)
    layout = kw.pop('blobstorage_layout', 'automatic')
    if blob_dir is None or kw.get('demostorage'):
        return factory, dbkw

    path = os.path.normpath(path)
    create = kw.pop('create', 0)

    def native():
        if create or not (kw.get('read_only') or os.path.exists(path)):
            # A new database: created apart, because a FileStorage that creates its
            # file empties its blob directory, and zodburi's never did.  (The index
            # of an empty file only makes the next opening warn that it ignores it.)
            FileStorage(path, create=True).close()
            os.remove(path + '.index')
        FilesystemHelper(blob_dir, layout).create()  # (the layout marker, when new)
        return FileStorage(path, blob_dir=blob_dir, **kw)
    return native, dbkw


def open_database(uri, name, databases):
    """The ZODB.DB of ``uri``, joined to ``databases`` under ``name`` (for pyramid_zodbconn)."""
    return pyramid_zodbconn.db_from_uri(uri, name, databases, resolve_uri=resolve_uri)


def includeme(config):
    """pyramid_zodbconn, opening the databases through :func:`resolve_uri`."""
    pyramid_zodbconn.includeme(config, db_from_uri=open_database)
