"""The demo journey of the README on every storage (FileStorage, ZEO, RelStorage on
PostgreSQL): the Secretary Finance approves, signs and issues the notification waiting
in the demo inbox; its signed PDF (a blob) is published, read back and verified, by the
API and by ``kpw verify`` beside the running app; a letter attached to the file comes
back byte for byte and into the whole file's PDF."""
import io

import pypdf
import pytest

from kp_workspace.populate import DEMO_PIN
from tests.conftest import write_ini
from tests.scripts.test_kpw import run
from tests.views.test_api_attachments import pdf_bytes

pytestmark = pytest.mark.storages


def test_the_demo_notification_is_signed_issued_and_verifies(app, tokens, tmp_path, var_dir):
    secretary = tokens('secretary.finance')
    (waiting,) = app.api('get', '/api/v1/inbox', secretary).json['items']
    fid = waiting['id']
    (draft,) = app.api('get', f'/api/v1/files/{fid}', secretary).json['drafts']
    actions = f'/api/v1/drafts/{draft["id"]}/actions'
    app.api('post_json', f'{actions}/approve', secretary, params={})
    signed = app.api('post_json', f'{actions}/sign', secretary, params={'pin': DEMO_PIN}).json
    issued = app.api('post_json', f'{actions}/issue', secretary, params={}).json
    assert (signed['state'], issued['state']) == ('signed', 'issued')
    pdf = app.api('get', f'/api/v1/drafts/{draft["id"]}/pdf', secretary).body
    assert signed['number'] in app.get('/public/notifications').text
    assert app.get(f'/public/notifications/{draft["id"]}.pdf').body == pdf
    checked = app.post('/api/v1/verify', upload_files=[('file', 'n.pdf', pdf)]).json
    assert checked['valid'] is True
    assert [s['signer_login'] for s in checked['signatures']] == ['secretary.finance']
    path = tmp_path / 'notification.pdf'
    path.write_bytes(pdf)
    status, out, err = run(write_ini(tmp_path, var_dir), 'verify', str(path))
    assert (status, err) == (0, '') and 'all signatures valid' in out

    letter = pdf_bytes(2)
    att = app.api('post', f'/api/v1/files/{fid}/attachments', secretary, status=201,
                  params={'title': 'Letter from the Accountant General'},
                  upload_files=[('file', 'letter.pdf', letter)]).json
    assert app.api('get', f'/api/v1/files/{fid}/attachments/{att["id"]}', secretary
                   ).body == letter
    whole = pypdf.PdfReader(io.BytesIO(app.api('get', f'/api/v1/files/{fid}/pdf', secretary
                                               ).body))
    assert 'Letter from the Accountant General' in bookmarks(whole.outline)


def bookmarks(outline):
    """The titles of a PDF's bookmarks, at every level."""
    titles = []
    for entry in outline:
        titles += bookmarks(entry) if isinstance(entry, list) else [entry.title]
    return titles
