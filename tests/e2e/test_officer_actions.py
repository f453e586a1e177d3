"""In Chromium: a long post picker gets a filter box (in the page's language), and the
Chief Minister's decision is asked, with the PIN, before it is recorded."""
import transaction
from playwright.sync_api import expect

from kp_workspace.populate import DEMO_PIN
from tests.e2e.test_file_journey import _page, sign_in


def add_posts(app, count):
    from kp_workspace.audit import Actor, ensure_audit_log
    from kp_workspace.site import ROOT_KEY
    tm = transaction.TransactionManager()
    conn = app.registry._zodb_databases[''].open(transaction_manager=tm)
    try:
        tm.begin()
        site = conn.root()[ROOT_KEY]
        actor = Actor('test', '127.0.0.1', ensure_audit_log(conn))
        for n in range(count):
            dept = ('sports', 'finance')[n % 2]
            site['principals'].add_post(actor, site['departments'], f'extra-{n}',
                                        f'Deputy Secretary {n:02d} ({dept})', dept, ('officer',))
        tm.commit()
    finally:
        conn.close()


def visible_options(page, select):
    return page.locator(select).evaluate(
        'el => Array.from(el.options).filter(o => o.value && !o.hidden).map(o => o.value)')


def test_a_long_post_picker_can_be_filtered_by_typing(live_app, chromium):
    base, app = live_app
    add_posts(app, 20)
    page = _page(chromium)
    sign_in(page, base, 'so.finance')
    page.get_by_role('link', name='Open a new file').click()
    page.get_by_label('Subject').fill('Hiring of a consultant')
    page.get_by_role('button', name='Open file').click()
    page.wait_for_url(f'{base}/files/*')
    box = page.get_by_label('Find a post')
    expect(box).to_be_visible()
    assert len(visible_options(page, '#to-forward')) == 33  # 14 demo + 20, not its own
    box.fill('sports deputy')
    expect(page.locator('#to-forward option[value="extra-0"]')).to_be_hidden()
    shown = visible_options(page, '#to-forward')
    assert shown == [f'extra-{n}' for n in range(0, 20, 2)]  # sorted by title
    box.fill('nothing like this')
    expect(page.get_by_text('No post matches.')).to_be_visible()
    # (not "chief secretary": the Cabinet Wing's posts are in "Chief Secretary's Office")
    box.fill('chief minister')
    box.press('Enter')  # picks the first match, does not send the form
    expect(page.locator('#to-forward')).to_have_value('chief-minister')
    expect(page.locator('#to-forward')).to_be_focused()
    page.get_by_role('button', name='forward').click()
    expect(page.get_by_text('sent to Chief Minister.')).to_be_visible()
    page.context.close()


def test_the_decision_is_asked_with_the_pin_in_urdu_too(live_server, chromium):
    page = _page(chromium)
    sign_in(page, live_server, 'so.finance')
    page.goto(live_server + '/departments/finance/summaries/new')
    page.get_by_label('Subject').fill('Grant to flood-hit districts')
    page.get_by_label('Background').fill('The floods of August.')
    page.get_by_label('Proposal').fill('A grant of Rs 500 million.')
    page.get_by_label('Decision sought').fill('Approval of the grant.')
    page.get_by_role('button', name='Draft summary').click()
    page.wait_for_url(f'{live_server}/summaries/*')
    url = page.url
    page.locator('#to-submit').select_option('secretary-finance')
    page.get_by_role('button', name='put up to the Secretary').click()
    expect(page.get_by_text('put up to Secretary Finance.')).to_be_visible()
    secretary = _page(chromium)
    sign_in(secretary, live_server, 'secretary.finance')
    secretary.goto(url)
    # the Secretary's most likely step is first and large
    expect(secretary.locator('form.action-primary .action-title')).to_have_text(
        'put up to the Chief Minister')
    secretary.locator('#to-put_up').select_option('chief-minister')
    secretary.get_by_role('button', name='put up to the Chief Minister').click()
    expect(secretary.get_by_text('put up to the Chief Minister.')).to_be_visible()
    secretary.context.close()
    cm = _page(chromium)
    sign_in(cm, live_server, 'cm')
    cm.goto(live_server + '/language/ur')
    cm.goto(url)
    expect(cm.locator('#decision')).to_have_value('')
    cm.locator('#decision').select_option('approved')
    cm.locator('form.action-primary button').click()
    expect(cm.get_by_role('heading', name='براہ کرم تصدیق کریں')).to_be_visible()
    expect(cm.locator('html')).to_have_attribute('dir', 'rtl')
    cm.get_by_label('دستخطی پن').fill(DEMO_PIN)
    cm.get_by_role('button', name='جی ہاں، درج کریں اور دستخط کریں').click()
    # what happened to what, and where it is now, in Urdu
    expect(cm.locator('.alert').first).to_contain_text('پر فیصلہ درج کر کے دستخط کر دیے گئے')
    expect(cm.locator('.alert').first).to_contain_text('سیکشن آفیسر (بجٹ)، محکمہ خزانہ')
    cm.context.close()
    page.context.close()
