"""The record room in Chromium: the records clerk proposes the demo's file due for
weeding, the Secretary approves and signs the list with the PIN, the clerk carries it
out after saying yes, and the file's address then says it was destroyed."""
import re

from playwright.sync_api import expect

from kp_workspace.populate import DEMO_PIN, RECORD_ROOM_FILES
from tests.e2e.conftest import new_page, sign_in

DUE = RECORD_ROOM_FILES[0][0]


def test_a_file_is_weeded_under_a_signed_list(live_server, chromium, shot):
    clerk = new_page(chromium)
    secretary = new_page(chromium)
    try:
        sign_in(clerk, live_server, 'clerk.finance')
        clerk.get_by_role('navigation').get_by_role('link', name='Record room').click()
        expect(clerk.locator('h1')).to_have_text('Record room: Finance Department')
        row = clerk.get_by_role('row').filter(has_text=DUE)
        expect(row.get_by_role('checkbox')).to_be_checked()
        file_url = row.get_by_role('link').get_attribute('href')
        clerk.get_by_label('Remarks (optional)').fill('Files of 2022 past their years')
        shot(clerk, 'due for weeding')
        clerk.get_by_role('button', name='Propose a weeding list of the ticked files').click()
        expect(clerk.locator('h1')).to_have_text(re.compile(r'Weeding list FD/WL/\d{4}/0001'))
        expect(clerk.get_by_text('proposed, awaiting approval')).to_be_visible()
        list_url = clerk.url
        # the Secretary signs it with the PIN
        sign_in(secretary, live_server, 'secretary.finance')
        secretary.goto(list_url)
        secretary.get_by_label('Signing PIN').fill(DEMO_PIN)
        secretary.get_by_role('button', name='Approve and sign').click()
        expect(secretary.get_by_role('link', name='The signed weeding list (PDF)')).to_be_visible()
        shot(secretary, 'approved and signed')
        # the clerk carries it out, after a confirmation
        clerk.goto(list_url)
        clerk.get_by_role('button', name='Destroy the files…').click()
        expect(clerk.get_by_role('button', name='Yes, destroy the files')).to_be_visible()
        shot(clerk, 'asked to confirm')
        clerk.get_by_role('button', name='Yes, destroy the files').click()
        expect(clerk.get_by_text(re.compile(r'carried out: 1 file\(s\) destroyed, 0 kept'))
               ).to_be_visible()
        expect(clerk.get_by_role('cell', name='destroyed', exact=True)).to_be_visible()
        response = clerk.goto(file_url if file_url.startswith('http') else live_server + file_url)
        assert response.status == 410
        expect(clerk.get_by_text(re.compile('was destroyed on'))).to_be_visible()
        shot(clerk, 'gone')
    finally:
        clerk.context.close()
        secretary.context.close()
