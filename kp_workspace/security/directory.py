"""The post directory: every post, named in one language and grouped by its department's
name, the departments and the posts in each sorted by name.  A post picker offers it,
less the posts its step does not accept (the transition's ``accepts``, which decides).

Making it walks every post (thousands in a province), so it is made once and kept on
the connection's posts folder (a volatile attribute, never stored), one per language,
while the posts and the departments stay as they were.  That is told by their folders'
version counters (:attr:`kp_workspace.container.Folder.version`), which adding or
renaming a post or a department raises in the same transaction, so every process (over
ZEO or RelStorage) sees the new number with the change.  While the present transaction
has changed them, a directory is made fresh and not kept: the change may yet be undone.
"""
from collections import namedtuple

from ..i18n import title_in

# A post as the directory lists it: ``post_id`` and ``department`` (a department's name),
# as on a :class:`~kp_workspace.security.principals.Post`, and ``title`` in the language.
PostEntry = namedtuple('PostEntry', 'post_id department title')


class PostDirectory:
    """``groups``: ``((department title, (PostEntry, ...)), ...)``, by department title,
    the entries of each by title (posts of the same title in the order of their ids)."""

    def __init__(self, key, groups):
        self.key = key
        self.groups = groups
        self._derived = {}

    def choices(self, accepts):
        """The groups with only the posts ``accepts(entry)`` takes, as lists; a group left
        without any is left out: ``[(department title, [PostEntry, ...]), ...]``."""
        found = []
        for title, entries in self.groups:
            taken = [e for e in entries if accepts(e)]
            if taken:
                found.append((title, taken))
        return found

    def derived(self, name, make):
        """``make(self)``, made once for this directory and kept with it (e.g. a page's
        rendering of its groups)."""
        if name not in self._derived:
            self._derived[name] = make(self)
        return self._derived[name]


def post_directory(principals, departments, locale_name):
    """The :class:`PostDirectory` of ``principals``' posts and ``departments`` in the
    language ``locale_name``: the one kept for the present versions of both folders, or a
    new one (kept too, unless this transaction changed them)."""
    posts = principals.posts
    key = (posts.version, departments.version, locale_name)
    if None in key:
        return _make(posts, departments, locale_name, key)
    kept = getattr(posts, '_v_directories', None) or {}
    found = kept.get(locale_name)
    if found is None or found.key != key:
        found = _make(posts, departments, locale_name, key)
        # (a new dict, not changed in place: a reader never sees one half made)
        posts._v_directories = dict(kept, **{locale_name: found})
    return found


def _make(posts, departments, locale_name, key):
    groups = {}
    for post in posts.values():
        dept = departments.get(post.department)
        title = title_in(dept, locale_name) if dept is not None else post.department
        groups.setdefault(title, []).append(
            PostEntry(post.post_id, post.department, title_in(post, locale_name)))
    return PostDirectory(key, tuple((title, tuple(sorted(entries, key=lambda e: e.title)))
                                    for title, entries in sorted(groups.items())))
