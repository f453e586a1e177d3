"""The one container base class: every folderish object is a :class:`Folder`.

Items live in an OOBTree with a conflict-resolving length counter, so adding to
a large folder touches one bucket, not the whole folder.  Naming rules,
``__parent__``/``__name__`` and the added/removed events happen here and
nowhere else.  A folder also counts its changes (:attr:`Folder.version`), in the
database, so that every process knows when what it cached from a folder (the post
directory, from the posts and the departments) is out of date.
"""
import re

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.threadlocal import get_current_registry

NAME_RE = re.compile(r'^[a-z0-9][a-z0-9._-]{0,99}$')


class FolderKeyError(KeyError):
    """A name is already taken, or not a valid name, in a folder."""

    def __str__(self):
        return self.args[0] if self.args else ''


class ObjectAdded:
    """Sent after ``obj`` is added to ``folder`` under ``name``."""

    def __init__(self, obj, folder, name):
        self.object, self.folder, self.name = obj, folder, name


class ObjectRemoved:
    """Sent after ``obj`` is removed from ``folder``."""

    def __init__(self, obj, folder, name):
        self.object, self.folder, self.name = obj, folder, name


class Folder(Persistent):
    """A persistent, ordered-by-name mapping of contained objects."""

    __parent__ = None
    __name__ = None
    _version = None  # a Length, made by the first changed() (no folder has one before)

    def __init__(self):
        super().__init__()
        self._items = OOBTree()
        self._count = Length(0)

    # reading -------------------------------------------------------------
    def __getitem__(self, name):
        return self._items[name]

    def get(self, name, default=None):
        return self._items.get(name, default)

    def __contains__(self, name):
        return name in self._items

    def __len__(self):
        return self._count()

    def __bool__(self):
        # A folder is an object that exists, not a sequence: an empty department
        # must not read as "no department" in `if dept:`.
        return True

    def __iter__(self):
        return iter(self._items.keys())

    def keys(self, min=None, max=None):
        return self._items.keys(min, max)

    def values(self, min=None, max=None):
        return self._items.values(min, max)

    def items(self, min=None, max=None):
        return self._items.items(min, max)

    def page(self, after=None, limit=50):
        """Up to ``limit`` items in name order after the name ``after``.

        :returns: ``(objects, next_after)``; ``next_after`` is None on the last page.
        """
        if after:
            names = self._items.keys(min=after, excludemin=True)
        else:
            names = self._items.keys()
        found = []
        for name in names:
            if len(found) == limit:
                return found, found[-1].__name__
            found.append(self._items[name])
        return found, None

    @property
    def version(self):
        """How many times :meth:`changed` was called: what a reader caching something made
        from this folder keys it on.  Stored and committed with the change, so every process
        (over ZEO or RelStorage too) reads the same number for the same contents.  None
        while the present transaction has changed it: uncommitted, it may yet be undone,
        and another transaction may then commit the same number for other contents."""
        counter = self._version
        if counter is None:
            return 0
        if counter._p_jar is None or counter._p_changed:
            return None
        return counter()

    # writing -------------------------------------------------------------
    def check_name(self, name):
        """Return ``name`` if it may be added here.

        :raises FolderKeyError: the name is malformed or already taken.
        """
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise FolderKeyError(
                'A name uses lower-case letters, digits, ".", "_" and "-", '
                'starts with a letter or digit and has at most 100 characters.')
        if name in self._items:
            raise FolderKeyError(f'The name "{name}" is already taken.')
        return name

    def add(self, name, obj, registry=None):
        """Add ``obj`` under ``name``, set its location and send :class:`ObjectAdded`."""
        self.check_name(name)
        obj.__parent__ = self
        obj.__name__ = name
        self._items[name] = obj
        self._count.change(1)
        self.changed()
        (registry or get_current_registry()).notify(ObjectAdded(obj, self, name))
        return obj

    def remove(self, name, registry=None):
        """Remove and return the object under ``name``; send :class:`ObjectRemoved`."""
        obj = self._items.pop(name)
        self._count.change(-1)
        self.changed()
        (registry or get_current_registry()).notify(ObjectRemoved(obj, self, name))
        return obj

    def changed(self):
        """Say that something readers may cache from this folder changed: raises
        :attr:`version`.  Adding and removing call it; the domain code that renames an
        item calls it too.  Concurrent calls do not conflict (the counter adds them up)."""
        if self._version is None:
            self._version = Length(0)
        self._version.change(1)
