"""The demo's signing journey in Chromium: secretary.finance approves, signs (PIN) and
issues the notification so.finance drafted; the public page serves the signed PDF and
poppler's pdfsig, trusting the workspace CA, finds the signature valid (asking the OCSP
responder the demo's certificates name: ``demo_responder``)."""
import shutil
import subprocess
import urllib.request

from playwright.sync_api import expect

from kp_workspace.populate import DEMO_PIN
from tests.e2e.conftest import new_page as _page, sign_in


def test_secretary_signs_and_issues_the_demo_notification(live_server, chromium, tmp_path,
                                                          demo_responder):
    page = _page(chromium)
    sign_in(page, live_server, 'secretary.finance')
    page.get_by_role('link', name='Inbox', exact=True).click()
    page.locator('table.desk tr', has_text='Revision of the rates of pension').locator('a').first.click()
    page.wait_for_url(f'{live_server}/files/*')
    page.get_by_role('button', name='approve', exact=True).click()
    expect(page.get_by_text('Notification “Revision of pension rates” approved.')).to_be_visible()
    page.get_by_label('Signing PIN').fill('000000')
    page.get_by_role('button', name='sign', exact=True).click()
    expect(page.get_by_text('The PIN is not right. Nothing was signed.')).to_be_visible()
    page.get_by_label('Signing PIN').fill(DEMO_PIN)
    page.get_by_role('button', name='sign', exact=True).click()
    expect(page.get_by_text('Signed by Imran Yousafzai')).to_be_visible()
    page.get_by_role('button', name='issue', exact=True).click()
    expect(page.get_by_text('public notifications page. This cannot be undone.')).to_be_visible()
    page.get_by_role('button', name='Yes, issue').click()
    expect(page.get_by_text('(issued)')).to_be_visible()
    page.screenshot(path=str(tmp_path / 'signed-file.png'), full_page=True)

    public = _page(chromium)  # no sign-in
    public.goto(live_server + '/public/notifications')
    link = public.locator('table a').first
    expect(link).to_contain_text('FD/N/')
    href = link.get_attribute('href')
    pdf = urllib.request.urlopen(href if href.startswith('http') else live_server + href).read()
    (tmp_path / 'notification.pdf').write_bytes(pdf)
    (tmp_path / 'ca.pem').write_bytes(urllib.request.urlopen(live_server + '/ca.pem').read())
    nss = tmp_path / 'nss'
    nss.mkdir()
    certutil, pdfsig = shutil.which('certutil'), shutil.which('pdfsig')
    subprocess.run([certutil, '-N', '-d', f'sql:{nss}', '--empty-password'], check=True)
    subprocess.run([certutil, '-A', '-d', f'sql:{nss}', '-n', 'kpw', '-t', 'CT,C,C', '-i',
                    str(tmp_path / 'ca.pem')], check=True)
    out = subprocess.run([pdfsig, '-nssdir', f'sql:{nss}', str(tmp_path / 'notification.pdf')],
                         capture_output=True, text=True).stdout
    assert 'Signature is Valid' in out and 'Certificate is Trusted' in out, out
    # the public verification page says the same
    public.goto(live_server + '/verify')
    public.get_by_label('Signed PDF').set_input_files(str(tmp_path / 'notification.pdf'))
    public.get_by_role('button', name='Verify').click()
    expect(public.get_by_text('Every signature is valid')).to_be_visible()
    public.screenshot(path=str(tmp_path / 'verify.png'), full_page=True)
    page.context.close()
    public.context.close()
