"""The e-summary's whole journey in Chromium: so.finance drafts it, secretary.finance puts
it up to the Chief Minister, who decides and signs; back with so.finance, it is filed and
leaves the inbox."""
from playwright.sync_api import expect

from kp_workspace.populate import DEMO_PIN
from tests.e2e.test_file_journey import _page, sign_in

SUBJECT = 'Revision of daily allowance rates'


def open_from_inbox(page, base):
    page.goto(base + '/inbox')
    page.locator('table.desk tr', has_text=SUBJECT).locator('a').first.click()
    page.wait_for_url(f'{base}/summaries/*')


def test_a_summary_goes_to_the_cm_and_back_and_leaves_the_inbox(live_server, chromium,
                                                                   tmp_path):
    officer = _page(chromium)
    sign_in(officer, live_server, 'so.finance')
    officer.get_by_role('link', name='Draft a summary').first.click()
    officer.get_by_label('Subject').fill(SUBJECT)
    officer.get_by_label('Background').fill('The rates were last revised in 2019.')
    officer.get_by_label('Proposal').fill('Raise the rates by 20 per cent.')
    officer.get_by_label('Decision sought').fill('Approval of the revised rates.')
    officer.get_by_role('button', name='Draft summary').click()
    officer.wait_for_url(f'{live_server}/summaries/*')
    address = officer.url
    officer.locator('#to-submit').select_option('secretary-finance')
    officer.get_by_role('button', name='put up to the Secretary').click()
    expect(officer.locator('.facts')).to_contain_text('Secretary Finance')

    secretary = _page(chromium)
    sign_in(secretary, live_server, 'secretary.finance')
    open_from_inbox(secretary, live_server)
    secretary.locator('#to-put_up').select_option('chief-minister')
    secretary.get_by_role('button', name='put up to the Chief Minister').click()
    expect(secretary.locator('.facts')).to_contain_text('Chief Minister')

    cm = _page(chromium)
    sign_in(cm, live_server, 'cm')
    open_from_inbox(cm, live_server)
    cm.locator('#decision').select_option('approved')
    cm.get_by_role('button', name='decide and sign').click()
    # the confirmation page says what will be recorded and asks for the PIN there
    expect(cm.locator('.confirm-question')).to_contain_text('Approved')
    cm.locator('#confirm-pin').fill(DEMO_PIN)
    cm.get_by_role('button', name='Yes, record and sign').click()
    expect(cm.get_by_text('Decision of the Chief Minister:')).to_be_visible()

    # back with the Section Officer: in the inbox, counted on the home page
    officer.goto(live_server + '/')
    expect(officer.locator('.desk-counts .count-inbox .count')).to_have_text('1')
    expect(officer.locator('.waiting-longest')).to_contain_text(SUBJECT)
    open_from_inbox(officer, live_server)
    assert officer.url == address
    expect(officer.get_by_text('Decision of the Chief Minister:')).to_be_visible()
    officer.screenshot(path=str(tmp_path / 'decided-summary.png'), full_page=True)
    officer.get_by_label('Remarks (optional)').first.fill('Accounts informed.')
    officer.get_by_role('button', name='Record the decision as received and file it').click()
    expect(officer.get_by_text('The decision was recorded as received and the summary filed'))\
        .to_be_visible()
    expect(officer.get_by_role('button', name='Open the implementing file')).to_have_count(0)
    officer.goto(live_server + '/inbox')
    expect(officer.get_by_text('Nothing here. Well done.')).to_be_visible()
    expect(officer.locator('table.desk', has_text=SUBJECT)).to_have_count(0)
    officer.goto(live_server + '/')
    expect(officer.locator('.desk-counts .count-inbox .count')).to_have_text('0')
    # where it went, as the Secretary sees it
    secretary.goto(live_server + '/sent')
    expect(secretary.locator('table.desk tr', has_text=SUBJECT)).to_contain_text('Filed since')
    secretary.screenshot(path=str(tmp_path / 'sent.png'), full_page=True)
    for p in (officer, secretary, cm):
        p.context.close()
