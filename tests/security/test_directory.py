"""The post directory: the same choices as walking every post, kept while the posts and
departments stay as they were, made again after a change committed by any connection."""
from html import escape
from types import SimpleNamespace

import pytest
import transaction

from kp_workspace.access import Officer
from kp_workspace.audit import Actor, ensure_audit_log
from kp_workspace.i18n import title_in
from kp_workspace.security.directory import post_directory
from kp_workspace.security.principals import Post
from kp_workspace.site import ROOT_KEY
from kp_workspace.views.files import post_choices
from kp_workspace.workflows.casefile import another_post
from kp_workspace.workflows.summary import a_secretary, the_chief_minister


class Connection:
    """A connection of its own to the app's database (as another request or process has)."""

    def __init__(self, wsgi_app):
        self.tm = transaction.TransactionManager()
        self.conn = wsgi_app.registry._zodb_databases[''].open(transaction_manager=self.tm)
        self.tm.begin()

    @property
    def site(self):
        return self.conn.root()[ROOT_KEY]

    def directory(self, locale='en'):
        return post_directory(self.site['principals'], self.site['departments'], locale)

    def actor(self):
        return Actor('test', '127.0.0.1', ensure_audit_log(self.conn))

    def commit(self):
        self.tm.commit()
        self.tm.begin()

    def abort(self):
        self.tm.abort()
        self.tm.begin()

    def close(self):
        self.tm.abort()
        self.conn.close()


@pytest.fixture
def connect(wsgi_app):
    opened = []

    def connect():
        opened.append(Connection(wsgi_app))
        return opened[-1]
    yield connect
    for c in opened:
        c.close()


def offered_before(site, locale, accepts):
    """What the post picker offered before the directory: every post walked on every page."""
    departments = site['departments']
    groups = {}
    for post in site['principals'].posts.values():
        if not accepts(post):
            continue
        dept = departments.get(post.department)
        groups.setdefault(title_in(dept, locale) if dept is not None else post.department,
                          []).append((post.post_id, title_in(post, locale)))
    return [(title, sorted(posts, key=lambda p: p[1])) for title, posts in sorted(groups.items())]


def offered(directory, accepts):
    return [(title, [(e.post_id, e.title) for e in entries])
            for title, entries in directory.choices(accepts)]


def ids(directory):
    return [e.post_id for _title, entries in directory.groups for e in entries]


def titles(directory):
    return {e.post_id: e.title for _title, entries in directory.groups for e in entries}


def test_the_choices_are_those_of_walking_every_post(connect):
    c = connect()
    site, actor = c.site, c.actor()
    principals, departments = site['principals'], site['departments']
    names = sorted(departments)
    for n in range(120):  # in every department; some in Urdu too, some of the same title
        principals.add_post(actor, departments, f'extra-{n}',
                            f'Assistant {n % 7}, {names[n % len(names)]}', names[n % len(names)],
                            ('approver',) if n % 25 == 0 else ('officer',),
                            title_ur=f'اسسٹنٹ {n}' if n % 3 == 0 else '')
    principals.posts.add('orphan', Post('orphan', 'Post of a department gone', 'gone'))
    c.commit()
    officer = Officer(principals.users['so.finance'], site, None)
    rules = {'any': lambda item, officer, post: True, 'another_post': another_post,
             'a_secretary': a_secretary, 'the_chief_minister': the_chief_minister}
    items = [SimpleNamespace(holder=holder, department=dept)
             for holder, dept in (('so-budget-finance', 'finance'), ('secretary-hed', 'hed'),
                                  ('extra-0', names[0]), ('nowhere', 'finance'))]
    for locale in ('en', 'ur'):
        directory = c.directory(locale)
        for name, rule in rules.items():
            for item in items:
                expected = offered_before(site, locale, lambda p: rule(item, officer, p))
                assert offered(directory, lambda e: rule(item, officer, e)) == expected, \
                    (locale, name, item)
                # the picker's HTML: each department's options, whole or with some left out
                assert post_choices(SimpleNamespace(locale_name=locale), site,
                                    lambda e: rule(item, officer, e)) == [
                    (title, '\n'.join(f'<option value="{escape(post_id)}">'
                                      f'{escape(post_title, quote=False)}</option>'
                                      for post_id, post_title in posts))
                    for title, posts in expected], (locale, name, item)
    urdu = titles(c.directory('ur'))
    assert urdu['extra-3'] == 'اسسٹنٹ 3' and urdu['extra-1'] == 'Assistant 1, ' + names[1]
    assert ('Post of a department gone' in titles(c.directory('en')).values()
            and 'gone' in dict(c.directory('en').groups))


def test_it_is_kept_per_language_and_made_again_after_a_change_elsewhere(connect):
    reader, writer = connect(), connect()
    first = reader.directory()
    assert reader.directory() is first  # kept: not made for every page
    urdu = reader.directory('ur')
    assert urdu is not first and reader.directory('ur') is urdu
    assert reader.directory() is first

    # added, in another connection (another request, or another process on the database)
    site, actor = writer.site, writer.actor()
    site['principals'].add_post(actor, site['departments'], 'new-post', 'A New Post',
                                'finance', ('officer',), title_ur='نئی پوسٹ')
    writer.commit()
    assert reader.directory() is first  # (its transaction has not seen the change yet)
    reader.abort()  # (a new transaction: the next request)
    added = reader.directory()
    assert 'new-post' in ids(added) and 'new-post' not in ids(first)
    assert titles(reader.directory('ur'))['new-post'] == 'نئی پوسٹ'
    assert reader.directory() is added

    # renamed, in English and in Urdu
    post = site['principals'].posts['new-post']
    site['principals'].update_post(actor, site['departments'], post, 'A Renamed Post',
                                   ('officer',), title_ur='بدلی پوسٹ')
    writer.commit()
    reader.abort()
    assert titles(reader.directory())['new-post'] == 'A Renamed Post'
    assert titles(reader.directory('ur'))['new-post'] == 'بدلی پوسٹ'

    # a department renamed: its group's title
    from kp_workspace.content_types.department import update_department
    finance = site['departments']['finance']
    update_department(finance, actor, 'Finance and Planning', finance.code, finance.title_ur)
    writer.commit()
    reader.abort()
    groups = dict(reader.directory().groups)
    assert 'Finance Department' not in groups
    assert 'new-post' in [e.post_id for e in groups['Finance and Planning']]

    # removed
    site['principals'].posts.remove('new-post')
    writer.commit()
    reader.abort()
    assert 'new-post' not in ids(reader.directory())
    assert 'new-post' not in ids(reader.directory('ur'))
    # the roles of a post are not in it: they are asked for on every page (the rule decides)
    kept = reader.directory()
    site['principals'].update_post(actor, site['departments'], site['principals'].posts[
        'so-sports'], site['principals'].posts['so-sports'].title, ('approver',))
    writer.commit()
    reader.abort()
    assert reader.directory() is kept


def test_a_change_not_yet_committed_is_seen_by_its_transaction_only_and_not_kept(connect):
    c = connect()
    kept = c.directory()
    site, actor = c.site, c.actor()
    site['principals'].add_post(actor, site['departments'], 'maybe', 'Maybe A Post', 'finance')
    seen = c.directory()
    assert 'maybe' in ids(seen) and c.directory() is not seen  # made afresh, not kept
    c.abort()
    assert c.directory() is kept and 'maybe' not in ids(kept)
    # a rename undone leaves the kept one right too
    post = site['principals'].posts['so-sports']
    site['principals'].update_post(actor, site['departments'], post, 'Renamed For Now',
                                   ('officer',))
    assert titles(c.directory())['so-sports'] == 'Renamed For Now'
    c.abort()
    assert c.directory() is kept and titles(kept)['so-sports'] != 'Renamed For Now'
    # another connection committing the same number of changes is not taken for this one
    other = connect()
    o_site = other.site
    o_site['principals'].add_post(other.actor(), o_site['departments'], 'other', 'Other Post',
                                  'finance')
    other.commit()
    c.abort()
    assert 'other' in ids(c.directory()) and 'maybe' not in ids(c.directory())
