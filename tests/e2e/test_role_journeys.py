"""Each role's day in Chromium, in English and in Urdu, with a screenshot at every step.

so.finance opens a file, writes a note, attaches a PDF (the progress bar seen to its
end) and reads it beside the notes, drafts a notification, puts it up and forwards
the file; secretary.finance approves, signs, confirms and issues it and sends the
file back, and so.finance closes it (confirmed); an e-summary goes to the Chief
Minister, is decided (PIN on the confirmation page) and comes back, is filed and
leaves the inbox; clerk.finance finds the closed file and the filed summary; the
administrator transfers a post, confirmed first.  The steps find things by their
place on the page (ids, form addresses, button values), so the same test reads the
Urdu pages; what it checks in words is in the page's language.
"""
import re

import pytest
from playwright.sync_api import expect

from kp_workspace.populate import DEMO_PIN
from tests.e2e.conftest import new_page, sign_in
from tests.e2e.test_correspondence import WATCH_PROGRESS, letter_pdf, progress_seen

WORDS = {
    'en': {'secretary': 'Secretary Finance', 'so': 'Section Officer (Budget), Finance',
           'cm': 'Chief Minister', 'nothing': 'Nothing here. Well done.',
           'issued': '(issued)', 'closed': 'closed', 'filed': 'Filed'},
    'ur': {'secretary': 'سیکرٹری خزانہ', 'so': 'سیکشن آفیسر (بجٹ)، محکمہ خزانہ',
           'cm': 'وزیر اعلیٰ', 'nothing': None, 'issued': None, 'closed': None, 'filed': None},
}


def signed_in(chromium, base, login, language, context=None):
    page = context.new_page() if context is not None else new_page(chromium)
    page.goto(f'{base}/language/{language}?next=/login')
    sign_in(page, base, login)
    expect(page.locator('html')).to_have_attribute('lang', language)
    return page


def act(page, name):
    """Press the workflow button ``name`` of the item's actions."""
    page.locator(f'button[name="do"][value="{name}"]').click()


def draft_act(page, name):
    page.locator(f'form[action*="/drafts/"][action$="/actions/{name}"] button[type=submit]')\
        .click()


def confirm(page, pin=None):
    """Answer the confirmation page: it asks first, in the page's language."""
    expect(page.locator('section.confirm .confirm-question')).to_be_visible()
    if pin:
        page.locator('#confirm-pin').fill(pin)
    page.locator('section.confirm button[type=submit]').click()


def done(page, *texts):
    """The message after an action, naming what happened to what."""
    message = page.locator('.alert').first
    expect(message).to_be_visible()
    for text in texts:
        expect(message).to_contain_text(text)


def open_in_inbox(page, base, subject):
    page.goto(base + '/inbox')
    page.locator('table.desk tr', has_text=subject).locator('a').first.click()
    page.wait_for_url(re.compile(r'.*/(files|summaries)/[0-9a-f]+$'))


def found_in_search(page, base, words, number, tries=120):
    """Search until the indexer (a thread of the served app) has taken the change in."""
    for _ in range(tries):
        page.goto(f'{base}/search?q={words}')
        hit = page.locator('ol.results li', has_text=number)
        if hit.count():
            return hit
        page.wait_for_timeout(500)
    raise AssertionError(f'{number} not found by "{words}"')


@pytest.mark.parametrize('language', ['en', 'ur'])
def test_each_role_does_its_part(live_server, chromium, tmp_path, shot, language):
    base, words = live_server, WORDS[language]
    subject = {'en': 'Release of funds for the treasury network',
               'ur': 'ٹریژری نیٹ ورک کے لیے فنڈز کا اجرا'}[language]

    # -- so.finance: a file, a note, a letter read inline, a draft, forwarded ------------
    context = chromium.new_context(viewport={'width': 1280, 'height': 800})
    context.set_default_timeout(60_000)
    context.add_init_script(WATCH_PROGRESS)
    officer = signed_in(chromium, base, 'so.finance', language, context)
    shot(officer, 'officer-home')
    officer.locator('a[href$="/departments/finance/files/new"]').first.click()
    officer.locator('input[name="subject"]').fill(subject)
    shot(officer, 'officer-new-file')
    officer.locator('form.deform button[type=submit]').click()
    officer.wait_for_url(f'{base}/files/*')
    file_url = officer.url
    number = officer.locator('h1').inner_text().split(':')[0].split()[0]
    assert re.fullmatch(r'FD/\d{4}/\d{4}', number), number
    officer.locator('#note-text').fill('The letter of the Accountant General is at F/A.')
    officer.locator('form[action$="/notes"] button[type=submit]').click()
    expect(officer.locator('ol.notes li')).to_have_count(1)
    officer.locator('form[action$="/attachments"] input[type=file]').set_input_files(
        str(letter_pdf(tmp_path / 'ag-letter.pdf')))
    officer.locator('#att-title').fill('AG letter' if language == 'en' else 'اے جی کا خط')
    officer.locator('form[action$="/attachments"] button[type=submit]').click()
    expect(officer.locator('ul.attachments li')).to_have_count(1)
    assert progress_seen(officer) == 1.0
    officer.locator('ul.attachments li a[href*="read="]').first.click()
    expect(officer.locator('iframe.reading-frame')).to_be_visible()
    shot(officer, 'officer-reads-the-letter-inline')
    officer.goto(file_url)
    officer.locator('section[aria-labelledby="drafts-h"] details summary').click()
    officer.locator('#draft-kind').select_option('notification')
    officer.locator('#draft-subject').fill('Release of funds' if language == 'en'
                                           else 'فنڈز کا اجرا')
    officer.locator('#draft-body').fill('Funds are released for the treasury network.')
    officer.locator('form[action$="/drafts"] button[type=submit]').click()
    expect(officer.locator('article.draft')).to_have_count(1)
    draft_act(officer, 'submit')
    done(officer)
    officer.locator('#to-forward').select_option('secretary-finance')
    shot(officer, 'officer-forwards')
    act(officer, 'forward')
    done(officer, number, words['secretary'])
    expect(officer.locator('.facts')).to_contain_text(words['secretary'])
    shot(officer, 'officer-forwarded')

    # -- secretary.finance: approve, sign, issue (confirmed), send back --------------------
    secretary = signed_in(chromium, base, 'secretary.finance', language)
    open_in_inbox(secretary, base, subject)
    assert secretary.url == file_url
    shot(secretary, 'secretary-opens-the-file')
    draft_act(secretary, 'approve')
    done(secretary)
    secretary.locator('form[action$="/actions/sign"] input[name="pin"]').fill(DEMO_PIN)
    draft_act(secretary, 'sign')
    done(secretary)
    draft_act(secretary, 'issue')
    shot(secretary, 'secretary-asked-before-issuing')
    confirm(secretary)
    done(secretary, 'FD/N/')
    if words['issued']:
        expect(secretary.locator('article.draft')).to_contain_text(words['issued'])
    shot(secretary, 'secretary-issued')
    act(secretary, 'return')
    done(secretary, number, words['so'])

    # -- so.finance closes it, confirmed first --------------------------------------------
    officer.goto(file_url)
    officer.locator('select[name="record_class"]').select_option('C')   # (required)
    act(officer, 'close')
    shot(officer, 'officer-asked-before-closing')
    confirm(officer)
    done(officer, number)
    expect(officer.locator('button[name="do"]')).to_have_count(1)  # reopen only
    shot(officer, 'officer-closed')

    # -- the e-summary: to the Chief Minister and back, filed, out of the inbox -----------
    summary_subject = {'en': 'Revision of daily allowance rates',
                       'ur': 'یومیہ الاؤنس کی شرحوں پر نظرثانی'}[language]
    officer.goto(base + '/departments/finance/summaries/new')
    officer.locator('input[name="subject"]').fill(summary_subject)
    officer.locator('textarea[name="background"]').fill('The rates were last revised in 2019.')
    officer.locator('textarea[name="proposal"]').fill('Raise the rates by 20 per cent.')
    officer.locator('textarea[name="decision_sought"]').fill('Approval of the revised rates.')
    officer.locator('form.deform button[type=submit]').click()
    officer.wait_for_url(f'{base}/summaries/*')
    summary_url = officer.url
    summary_number = officer.locator('h1').inner_text().split(':')[0].split()[0]
    officer.locator('#to-submit').select_option('secretary-finance')
    act(officer, 'submit')
    done(officer, summary_number, words['secretary'])
    open_in_inbox(secretary, base, summary_subject)
    secretary.locator('#to-put_up').select_option('chief-minister')
    act(secretary, 'put_up')
    done(secretary, summary_number, words['cm'])
    cm = signed_in(chromium, base, 'cm', language)
    open_in_inbox(cm, base, summary_subject)
    assert cm.url == summary_url
    expect(cm.locator('#decision')).to_have_value('')   # no answer chosen for the CM
    cm.locator('#decision').select_option('approved')
    act(cm, 'decide')
    shot(cm, 'cm-asked-for-the-pin')
    confirm(cm, DEMO_PIN)
    done(cm, summary_number)
    shot(cm, 'cm-decided')
    open_in_inbox(officer, base, summary_subject)
    shot(officer, 'officer-decided-summary-back')
    act(officer, 'file_decided')
    done(officer, summary_number)
    officer.goto(base + '/inbox')
    expect(officer.locator('table.desk tr', has_text=summary_subject)).to_have_count(0)
    expect(officer.locator('table.desk tr', has_text=subject)).to_have_count(0)
    shot(officer, 'officer-inbox-after')
    secretary.goto(base + '/sent')
    if words['filed']:
        expect(secretary.locator('table.desk tr', has_text=summary_subject))\
            .to_contain_text(words['filed'])
    shot(secretary, 'secretary-sent')

    # -- clerk.finance finds the closed file and the filed summary -------------------------
    clerk = signed_in(chromium, base, 'clerk.finance', language)
    hit = found_in_search(clerk, base, 'treasury' if language == 'en' else 'ٹریژری', number)
    shot(clerk, 'clerk-finds-the-file')
    hit.locator('a').first.click()
    clerk.wait_for_url(file_url)
    expect(clerk.locator('ol.notes li')).to_have_count(1)
    expect(clerk.locator('button[name="do"]')).to_have_count(0)   # reads, does not act
    found_in_search(clerk, base, 'allowance' if language == 'en' else 'الاؤنس',
                    summary_number).locator('a').first.click()
    clerk.wait_for_url(summary_url)
    shot(clerk, 'clerk-reads-the-summary')

    # -- admin transfers a post, asked first -----------------------------------------------
    admin = signed_in(chromium, base, 'admin', language)
    admin.goto(base + '/admin/posts/so-budget-finance')
    admin.locator('#holder-login').fill('so.sit')
    admin.locator('#holder-form button[value="transfer"]').click()
    shot(admin, 'admin-asked-before-transferring')
    confirm(admin)
    done(admin)
    expect(admin.locator('ul.holders li')).to_have_count(1)
    expect(admin.locator('ul.holders')).to_contain_text('so.sit')
    shot(admin, 'admin-transferred')
    for p in (officer, secretary, cm, clerk, admin):
        p.context.close()
