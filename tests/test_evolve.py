"""Evolve steps: a database made by an older release is brought up to date."""
import datetime

import pytest
import transaction
import ZODB
import ZODB.FileStorage
from persistent.list import PersistentList

from kp_workspace import evolve
from kp_workspace.audit import SHARDS, Actor, AuditLog
from kp_workspace.site import ROOT_KEY, Site
from tests.conftest import Browser, close_app, make_app, set_generation, token_getter


def make_generation_1_database(var_dir):
    """A database as the first release left it: layout only, one user, no token store."""
    var_dir.mkdir(parents=True)
    storage = ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs'))
    db = ZODB.DB(storage)
    with db.transaction() as conn:
        site = conn.root()[ROOT_KEY] = Site()
        evolve.step_1_layout(site, None)
        site.generation = 1
        actor = Actor('test', 'test', AuditLog())
        site['principals'].add_user(actor, 'old.timer', 'Old Timer', 'an-old-password-1',
                                    roles=('administrator',))
    db.close()


def test_older_database_is_evolved_at_start_up(tmp_path):
    var = tmp_path / 'var'
    make_generation_1_database(var)
    app = make_app(var)
    try:
        assert app.registry.kpw_generations == (1, evolve.GENERATION)
        browser = Browser(app)
        browser.login('old.timer', 'an-old-password-1')  # needs the throttle store from step 2
        browser.post('/logout', {'csrf_token': browser.csrf()}, status=303)  # step 3
        token = browser.token('old.timer', 'an-old-password-1')  # token store from step 2
        assert browser.api('get', '/api/v1/me', token).json['login'] == 'old.timer'
    finally:
        close_app(app)
    # a second start has nothing left to do
    app = make_app(var)
    try:
        assert app.registry.kpw_generations == (evolve.GENERATION, evolve.GENERATION)
    finally:
        close_app(app)


def test_start_up_without_evolving_leaves_the_generation(tmp_path):
    var = tmp_path / 'var'
    make_generation_1_database(var)
    app = make_app(var, **{'kp_workspace.evolve_on_start': 'false'})
    try:
        assert app.registry.kpw_generations == (1, 1)
    finally:
        close_app(app)


def test_steps_run_in_order_and_record_each_generation():
    site = Site()
    ran = []
    steps = ((1, lambda s, r: ran.append((1, s.generation))),
             (2, lambda s, r: ran.append((2, s.generation))),
             (5, lambda s, r: ran.append((5, s.generation))))
    assert evolve.evolve_site(site, None, steps) == 5
    assert ran == [(1, 0), (2, 1), (5, 2)]
    site.generation = 2
    ran.clear()
    evolve.evolve_site(site, None, steps)
    assert ran == [(5, 2)]


def test_a_failing_step_leaves_the_database_untouched(tmp_path):
    storage = ZODB.FileStorage.FileStorage(str(tmp_path / 'Data.fs'))
    db = ZODB.DB(storage)
    with db.transaction() as conn:
        conn.root()[ROOT_KEY] = site = Site()
        site.generation = 1

    def broken(site, registry):
        site.partial = True
        raise RuntimeError('step failed')
    steps = evolve.STEPS[:1] + ((2, broken),)
    with pytest.raises(RuntimeError):
        with db.transaction() as conn:
            evolve.evolve_site(conn.root()[ROOT_KEY], None, steps)
    with db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        assert site.generation == 1 and not hasattr(site, 'partial')
    db.close()
    transaction.abort()


def test_newer_database_is_refused():
    site = Site()
    site.generation = evolve.GENERATION + 1
    with pytest.raises(evolve.EvolveError, match='newer than this release'):
        evolve.evolve_site(site, None)


def test_a_newer_database_is_refused_at_start_up_even_without_evolving(tmp_path):
    """Production starts without evolving (evolve_on_start = false): an older release
    must still refuse a database a newer one wrote (it may not read its files)."""
    var = tmp_path / 'var'
    make_generation_1_database(var)
    set_generation(var, evolve.GENERATION + 1)
    for evolving in ('false', 'true'):
        with pytest.raises(evolve.EvolveError, match='newer than this release'):
            make_app(var, **{'kp_workspace.evolve_on_start': evolving})


def test_steps_are_numbered_upwards_and_documented():
    gens = [gen for gen, _step in evolve.STEPS]
    assert gens == sorted(set(gens)) and gens[0] >= 1
    assert all(step.__doc__ for _gen, step in evolve.STEPS)


def test_step_7_spreads_an_older_audit_log_and_keeps_its_entries(var_dir):
    from kp_workspace.audit import ROOT_KEY as AUDIT_KEY
    main_db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs')))
    audit_db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Audit.fs')))
    with main_db.transaction() as conn:
        conn.root()[ROOT_KEY].generation = 6
    with audit_db.transaction() as conn:  # the log as release 6 left it: one tree
        entries = conn.root()[AUDIT_KEY].page(limit=1000)[0]
        before = [e.action for e in entries]
        log = conn.root()[AUDIT_KEY] = AuditLog()
        log._shards = None
        for entry in reversed(entries):
            log.append(entry)
    main_db.close()
    audit_db.close()
    app = make_app(var_dir)
    try:
        assert app.registry.kpw_generations == (6, evolve.GENERATION)
        conn = app.registry._zodb_databases['audit'].open()
        log = conn.root()[AUDIT_KEY]
        assert len(log._shards) == SHARDS and log._shards[0] is log._entries
        assert [e.action for e in log.page(limit=1000)[0]] == before
        conn.close()
    finally:
        close_app(app)


def test_step_6_queues_the_items_an_older_release_failed_to_index(var_dir):
    main_db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs')))
    with main_db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        site.generation = 5
        del site.index_queue  # as release 5 left it
        item_id = next(iter(site.desk.items))
    main_db.close()
    retry_file = var_dir / 'search-queue.txt'
    retry_file.write_text(f'{item_id}\nnot-an-item\n{item_id}\n')
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        assert app.registry.kpw_generations[0] == 5
        conn = app.registry._zodb_databases[''].open()
        assert [key[1] for key in conn.root()[ROOT_KEY].index_queue.oldest(10)] == [item_id]
        conn.close()
        assert not retry_file.exists()
    finally:
        close_app(app)


def test_step_10_indexes_unread_alerts_by_item_and_keeps_what_was_read(var_dir):
    import datetime

    from kp_workspace.alerts import Alert
    main_db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs')))
    at = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)
    with main_db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        site.generation = 9
        box = site.alerts.box('so.hed', create=True)
        for n, item_id in enumerate(('old', 'a', 'b', 'a')):
            box.add(Alert(at + datetime.timedelta(minutes=n), 'arrived', f'alert {n}', item_id))
            if n == 0:
                box.mark_read()
        # as release 9 left it: no index, a mark for "read through the oldest"
        del box._unread
        box.unread.set(3)
    main_db.close()
    app = make_app(var_dir)
    try:
        assert app.registry.kpw_generations == (9, evolve.GENERATION)
        conn = app.registry._zodb_databases[''].open()
        box = conn.root()[ROOT_KEY].alerts.box('so.hed')
        assert [(a.text, unread) for a, unread in box.newest()] == [
            ('alert 3', True), ('alert 2', True), ('alert 1', True), ('alert 0', False)]
        assert box.unread() == 3 and len(box.unread_about('a')) == 2
        conn.transaction_manager.abort()
        conn.close()
    finally:
        close_app(app)


def test_step_11_flags_older_attachments_in_the_order_attached_and_counts_pdf_pages(var_dir):
    from tests.views.test_api_attachments import api_file, pdf_bytes, upload
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        browser = Browser(app)
        token = browser.token('so.finance')
        fid = api_file(browser, token, 'Older correspondence')
        for name, data in (('one.pdf', pdf_bytes(2)),
                           ('two.png', b'\x89PNG\r\n\x1a\n' + b'\0' * 64),
                           ('three.pdf', pdf_bytes(5))):
            upload(browser, token, fid, name, data)
    finally:
        close_app(app)
    storage = ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs'),
                                           blob_dir=str(var_dir / 'blobs'))
    main_db = ZODB.DB(storage)
    with main_db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        site.generation = 10
        atts = site.desk.items[fid].attachments
        same_time = atts['a1'].at
        for name in ('a3', 'a1', 'a2'):  # as release 10 left them: no flag, maybe no count
            del atts[name].seq
            atts[name].pages = None
        atts['a2'].at = atts['a3'].at = same_time  # attached in the same second
    main_db.close()
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        assert app.registry.kpw_generations == (10, evolve.GENERATION)
        browser = Browser(app)
        token = browser.token('so.finance')
        atts = browser.api('get', f'/api/v1/files/{fid}', token).json['attachments']
        assert [(a['id'], a['flag'], a['pages']) for a in atts] == \
            [('a1', 'A', 2), ('a2', 'B', None), ('a3', 'C', 5)]
        # the next one attached continues the letters
        res = upload(browser, token, fid, 'four.pdf', pdf_bytes(1))
        atts = browser.api('get', f'/api/v1/files/{fid}', token).json['attachments']
        assert (atts[-1]['id'], atts[-1]['flag'], atts[-1]['pages']) == (res.json['id'], 'D', 1)
    finally:
        close_app(app)


def test_step_11_leaves_a_pdf_it_cannot_read_without_a_count(tmp_path):
    broken = tmp_path / 'broken.pdf'
    broken.write_bytes(b'%PDF-1.4 broken')

    class Att:
        content_type, pages, at = 'application/pdf', None, 0

        def __init__(self, att_id, seq=None):
            self.id, self.seq = att_id, seq

        class blob:
            @staticmethod
            def committed():
                raise AssertionError('not reached')

    class Broken(Att):
        class blob:
            @staticmethod
            def committed():
                return str(broken)

    class Item:
        kind = 'file'
        attachments = {'a1': Att('a1', seq=1), 'a10': Broken('a10'), 'a2': Broken('a2')}
    Item.attachments['a1'].pages = 4

    class Site:
        class desk:
            items = {'f': Item, 's': type('Summary', (), {'kind': 'summary'})}
    evolve.step_11_attachment_flags(Site, None)
    atts = Item.attachments
    assert (atts['a1'].seq, atts['a2'].seq, atts['a10'].seq) == (1, 2, 3)  # a2 before a10
    assert (atts['a1'].pages, atts['a2'].pages, atts['a10'].pages) == (4, None, None)


def test_step_12_fills_the_desk_stays_from_the_movement_registers(var_dir):
    import datetime
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        browser = Browser(app)
        token = browser.token('so.finance')
        secretary = browser.token('secretary.finance')
        fid = browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                          params={'subject': 'Moved about'}).json['id']
        for who, to in ((token, 'secretary-finance'), (secretary, 'so-budget-finance')):
            browser.api('post_json', f'/api/v1/files/{fid}/actions/forward', who,
                        params={'to_post': to})
        browser.api('post_json', f'/api/v1/files/{fid}/actions/close', token)
    finally:
        close_app(app)
    storage = ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs'),
                                           blob_dir=str(var_dir / 'blobs'))
    main_db = ZODB.DB(storage)
    day = datetime.timedelta(days=1)
    with main_db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        assert not any(fid in {s[3] for s in stays} for stays in site.desk._stays.values())
        item = site.desk.items[fid]   # as if it had moved over three weeks
        now = item.movements[-1].at
        item.created_at = now - 20 * day
        at = [now - 15 * day, now - 2 * day, now - 2 * day + day / 24]
        lines = list(item.movements)
        for m, when in zip(lines, at):
            m.at = when
        item.movements = PersistentList(lines)   # (as release 11 kept them: a list)
        site.generation = 11
        del site.desk._stays      # as release 11 left it: no stays kept
    main_db.close()
    ts = [t.timestamp() for t in at]
    expected = {  # 5 days with the Section Officer, 13 with the Secretary; an hour is no stay
        'so-budget-finance': [(ts[0], (now - 20 * day).timestamp(), 'routine', fid)],
        'secretary-finance': [(ts[1], ts[0], 'routine', fid)]}
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        assert app.registry.kpw_generations == (11, evolve.GENERATION)
        conn = app.registry._zodb_databases[''].open()
        desk = conn.root()[ROOT_KEY].desk
        found = {post: [s for s in stays if s[3] == fid] for post, stays in desk._stays.items()}
        assert {post: stays for post, stays in found.items() if stays} == expected
        conn.transaction_manager.abort()
        conn.close()
    finally:
        close_app(app)


def test_step_13_queues_filed_summaries_for_their_records_clerks(var_dir):
    from tests.views.test_summary_ending import decided_summary
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        browser = Browser(app)
        token = token_getter(browser)
        sid = decided_summary(browser, token, subject='Filed before release 13')
        browser.api('post_json', f'/api/v1/summaries/{sid}/actions/file_decided',
                    token('so.finance'), params={'remarks': ''})
    finally:
        close_app(app)
    main_db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs'),
                                                   blob_dir=str(var_dir / 'blobs')))
    with main_db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        site.generation = 12
        queue = site.index_queue
        queue.remove(queue.oldest(len(queue) + 1))   # everything indexed before the upgrade
        assert len(queue) == 0
    main_db.close()
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        conn = app.registry._zodb_databases[''].open()
        queue = conn.root()[ROOT_KEY].index_queue
        assert [item_id for _t, item_id in queue.oldest(10)] == [sid]
        conn.transaction_manager.abort()
        conn.close()
    finally:
        close_app(app)


def test_step_16_gives_an_older_desk_the_dak_registers_and_keeps_them_after():
    import types
    from kp_workspace.desk import Desk
    desk = Desk()
    del desk._receipts, desk._diary   # as release 15 left it
    site = types.SimpleNamespace(desk=desk)
    evolve.step_16_dak(site, None)
    assert len(desk._receipts) == 0 and len(desk._diary) == 0
    desk._diary['finance'] = 'kept'
    evolve.step_16_dak(site, None)   # (a step may run again: nothing it made is lost)
    assert desk._diary['finance'] == 'kept'


def test_step_17_gives_an_older_site_its_acting_charges_and_keeps_them_after():
    import types
    from kp_workspace.security.charges import Charges
    site = types.SimpleNamespace()
    evolve.step_17_acting_charges(site, None)
    assert isinstance(site.charges, Charges) and site.charges.newest() == []
    kept = site.charges
    evolve.step_17_acting_charges(site, None)
    assert site.charges is kept


def test_step_18_makes_the_dispatch_registers_with_what_was_issued_before(var_dir):
    from tests.dispatch.test_dispatch import issued_letter
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        browser = Browser(app)
        fid, draft = issued_letter(browser, token_getter(browser), subject='Issued before 18')
    finally:
        close_app(app)
    main_db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs'),
                                                   blob_dir=str(var_dir / 'blobs')))
    with main_db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        site.generation = 15        # as release 15 left it: no registers
        del site.dispatch
    main_db.close()
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        assert app.registry.kpw_generations == (15, evolve.GENERATION) and evolve.GENERATION >= 18
        browser = Browser(app)
        token = browser.token('diary.finance')
        listed = browser.api('get', '/api/v1/departments/finance/dispatch', token).json
        assert [a['draft'] for a in listed['awaiting']] == [draft] and listed['items'] == []
    finally:
        close_app(app)


def test_step_19_gives_the_desk_its_follow_up_registers_and_numbers(var_dir):
    """A desk as release 15 left it (no numbers, links or parking): step 19 adds the
    registers and finds every item already made by its number (the demo's files)."""
    main_db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs'),
                                                   blob_dir=str(var_dir / 'blobs')))
    with main_db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        desk = site.desk
        numbers = {item.number: item_id for item_id, item in desk.items.items()
                   if item.department == 'finance' and item.kind == 'file'}
        for name in ('_by_number', '_parked', '_parking', '_links', '_referred'):
            delattr(desk, name)
        site.generation = 15
    main_db.close()
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        assert app.registry.kpw_generations == (15, evolve.GENERATION)
        browser = Browser(app)
        token = browser.token('so.finance')
        number, older = next(iter(numbers.items()))
        fid = browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                          params={'subject': 'After the upgrade'}).json['id']
        data = browser.api('post_json', f'/api/v1/files/{fid}/links', token, status=201,
                           params={'number': number}).json
        assert [link['id'] for link in data['links']] == [older]
        until = (datetime.datetime.now(datetime.timezone.utc).date()
                 + datetime.timedelta(days=5)).isoformat()
        browser.api('post_json', f'/api/v1/files/{fid}/park', token,
                    params={'until': until, 'reason': 'Awaiting a reply'})
        parked = browser.api('get', '/api/v1/inbox', token, params={'view': 'parked'}).json
        assert [row['id'] for row in parked['items']] == [fid]
    finally:
        close_app(app)


def test_step_19_on_a_desk_that_has_them_changes_nothing():
    from kp_workspace.desk import Desk

    class Item:
        id, number = 'f1', 'FD/2026/0001'
    desk = Desk()
    desk.items['f1'] = Item
    site = type('Site', (), {'desk': desk})
    evolve.step_19_follow_ups(site, None)
    trees = (desk._parked, desk._parking, desk._links, desk._referred)
    assert desk.find_number('FD/2026/0001') == 'f1'
    evolve.step_19_follow_ups(site, None)
    assert all(a is b for a, b in zip(
        (desk._parked, desk._parking, desk._links, desk._referred), trees))


def test_step_20_opens_the_record_room_and_keeps_unclassed_files(var_dir):
    """A database as release 19 left it (no record room; closed files without a record
    class): step 20 adds the registers, and a file closed before them is class A (kept:
    nothing is weeded that nobody classed)."""
    main_db = ZODB.DB(ZODB.FileStorage.FileStorage(str(var_dir / 'Data.fs'),
                                                   blob_dir=str(var_dir / 'blobs')))
    with main_db.transaction() as conn:
        site = conn.root()[ROOT_KEY]
        closed = [item for item in site.desk.items.values()
                  if item.kind == 'file' and item.state == 'closed']
        assert closed   # (the demo's record room)
        for item in closed:
            item.__dict__.pop('record_class', None)
            item._p_changed = True
        del site.recordroom
        site.generation = 19
    main_db.close()
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        assert app.registry.kpw_generations == (19, evolve.GENERATION)
        browser = Browser(app)
        token = browser.token('clerk.finance')
        assert browser.api('get', '/api/v1/departments/finance/records/due', token).json[
            'items'] == []
        for item in closed:
            data = browser.api('get', f'/api/v1/files/{item.id}', token).json
            assert (data['record_class'], data['weed_from']) == ('A', None)
    finally:
        close_app(app)


def test_step_21_numbers_the_alerts_an_app_asks_for(var_dir):
    """Alert boxes as release 20 left them (keyed by time only): step 21 numbers their
    alerts oldest first, and what is new since a cursor comes after them."""
    texts = []

    def as_release_20(site):
        box = site.alerts.box('secretary.finance')
        texts.extend(alert.text for alert, _unread in box.newest(50))
        assert texts   # (the demo's)
        del box._numbered, box._unnumbered
        box.__dict__.pop('last_number', None)
        box._p_changed = True
    set_generation(var_dir, 20, as_release_20)
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        assert app.registry.kpw_generations == (20, evolve.GENERATION)
        browser = Browser(app)
        token = browser.token('secretary.finance')
        first = browser.api('get', '/api/v1/alerts/changes', token).json
        assert [a['text'] for a in first['items']] == texts
        assert first['cursor'] == str(len(texts))
        assert [a['text'] for a in browser.api('get', '/api/v1/alerts/changes', token,
                                               params={'since': '0'}).json['items']] == texts
    finally:
        close_app(app)


def test_step_24_opens_the_implementation_registers_and_lets_the_chief_secretary_see_them(
        var_dir):
    """A database as release 22 left it (no implementation registers; the Chief
    Secretary's post an approver only): step 24 adds the registers, and the post the
    chief_secretary role, so the Chief Secretary sees the implementation dashboard."""
    def as_release_22(site):
        del site.implementation
        site['departments']['chief-secretary'].set_roles('post:chief-secretary',
                                                          ('approver',))
    set_generation(var_dir, 22, as_release_22)
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        assert app.registry.kpw_generations == (22, evolve.GENERATION)
        browser = Browser(app)
        browser.login('cs')
        assert 'Implementation of cabinet decisions' in browser.get(
            '/implementation/dashboard').text
        assert browser.api('get', '/api/v1/implementation',
                           browser.token('cs')).json == {'items': [], 'more': False}
    finally:
        close_app(app)


def test_step_24_on_a_site_that_has_them_changes_nothing():
    from kp_workspace.implementation import ImplementationBook
    site = Site()
    evolve.step_1_layout(site, None)
    site.implementation = book = ImplementationBook()
    evolve.step_24_implementation(site, None)
    assert site.implementation is book
