"""The demo journey in Chromium: a file goes from so.finance to secretary.finance
and back to closure."""
from playwright.sync_api import expect

from tests.e2e.conftest import new_page as _page, sign_in  # (the suite's sign-in)


def test_file_from_section_officer_to_secretary_and_back_to_closure(live_server, chromium):
    officer = _page(chromium)
    sign_in(officer, live_server, 'so.finance')
    officer.get_by_role('link', name='Open a new file').click()
    officer.get_by_label('Subject').fill('Upgrading the treasury network')
    officer.get_by_label('Priority').select_option('urgent')
    officer.get_by_role('button', name='Open file').click()
    officer.wait_for_url(f'{live_server}/files/*')
    file_url = officer.url
    officer.get_by_label('New note').fill('Three bids received; the lowest is Rs 4.2 million.')
    officer.get_by_role('button', name='Add note').click()
    expect(officer.get_by_text('Note 1 added.')).to_be_visible()
    officer.get_by_label('To post').select_option('secretary-finance')
    officer.locator('#remarks-forward').fill('For approval please')
    officer.get_by_role('button', name='forward').click()
    expect(officer.get_by_text('With: Secretary Finance')).to_be_visible()

    secretary = _page(chromium)
    sign_in(secretary, live_server, 'secretary.finance')
    # one alert for this file (the demo file put up earlier brought the other)
    expect(secretary.get_by_role('link', name='Alerts (2)')).to_be_visible()
    secretary.get_by_role('link', name='Inbox', exact=True).click()
    secretary.locator('table.desk tr', has_text='Upgrading the treasury network').locator('a').first.click()
    secretary.wait_for_url(file_url)
    secretary.get_by_label('New note').fill('Approved.')
    secretary.get_by_role('button', name='Add note').click()
    secretary.get_by_role('button', name='send back').click()
    expect(secretary.get_by_text('With: Section Officer (Budget), Finance')).to_be_visible()

    officer.goto(file_url)
    # (the record class must be chosen: the browser will not send the form without it)
    officer.get_by_label('Record class (how long the file is kept)').select_option('B')
    officer.get_by_role('button', name='close').click()
    # asked first: nothing is closed until the officer says yes
    expect(officer.get_by_text('and send it to the record room?')).to_be_visible()
    officer.get_by_role('button', name='Yes, close the file').click()
    expect(officer.get_by_text('closed and sent to the record room.')).to_be_visible()
    expect(officer.get_by_text('closed (in the record room)')).to_be_visible()
    registers = officer.locator('ol.movements').inner_text()
    assert 'Sent on' in registers and 'Sent back' in registers
    assert 'Closed and sent to the record room' in registers
    officer.context.close()
    secretary.context.close()
