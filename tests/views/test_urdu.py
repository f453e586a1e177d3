"""Urdu pages, completely: dates, names, states, roles, deform's messages, direction, fonts."""
import re

from tests.views.test_files_browser import form_by_action, open_new_file
from tests.conftest import confirm

URDU_MONTHS = ('جنوری', 'فروری', 'مارچ', 'اپریل', 'مئی', 'جون', 'جولائی', 'اگست', 'ستمبر',
               'اکتوبر', 'نومبر', 'دسمبر')
ENGLISH_DATE = re.compile(r'\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b')


def urdu(browser, login):
    browser.get('/language/ur', status=303)
    browser.login(login)


def file_with_note(browser, text, **fields):
    """Open a file in Finance, write ``text`` as its first note: (id, the file's page)."""
    fid, page = open_new_file(browser, **fields)
    form = form_by_action(page, f'/files/{fid}/notes')
    form['text'] = text
    return fid, form.submit(status=303).follow()


def test_file_page_in_urdu_dates_state_post_and_direction(app):
    urdu(app, 'so.finance')
    fid, page = file_with_note(app, 'Note in English, then اردو میں نوٹ',
                               subject='دفتری فرنیچر کی خریداری')
    text = page.text
    assert any(month in text for month in URDU_MONTHS)
    assert not ENGLISH_DATE.search(text)
    assert 'کھلی' in text                                    # the state "open"
    assert 'سیکشن آفیسر (بجٹ)، محکمہ خزانہ' in text          # the post, in the note's byline
    assert re.search(r'<div class="note-text" dir="auto">Note in English', text)
    assert '<bdi dir="auto">دفتری فرنیچر کی خریداری</bdi>' in text


def test_english_pages_keep_english_dates_and_names(app):
    app.login('so.finance')
    fid, page = file_with_note(app, 'A note.')
    assert ENGLISH_DATE.search(page.text)
    assert 'Section Officer (Budget), Finance' in page.text
    assert not any(month in page.text for month in URDU_MONTHS)


def test_home_shows_urdu_post_department_and_role(app):
    urdu(app, 'so.finance')
    home = app.get('/')
    assert 'سیکشن آفیسر (بجٹ)، محکمہ خزانہ' in home.text
    assert 'محکمہ خزانہ' in home.text and 'Finance Department' not in home.text
    assert 'افسر' in home.text


def test_deform_required_message_in_urdu(app):
    urdu(app, 'so.finance')
    form = app.get('/departments/finance/summaries/new').forms['kpw-form']
    res = form.submit(status=400)
    assert 'یہ خانہ ضروری ہے' in res.text                     # colander's "Required"
    assert 'آپ کے بھیجے گئے فارم میں مسئلہ ہے' in res.text    # deform's form error
    assert 'Required' not in res.text and 'There was a problem' not in res.text
    assert re.search(r'<button[^>]*>\s*سمری کا مسودہ\s*</button>', res.text)  # its button


def test_deform_password_widget_in_urdu(app):
    urdu(app, 'so.finance')
    page = app.get('/account/password')
    assert 'placeholder="پاس ورڈ کی تصدیق"' in page.text
    assert 'Confirm Password' not in page.text


def test_admin_pages_in_urdu(app):
    urdu(app, 'admin')
    audit = app.get('/admin/audit')
    assert 'سائن اِن' in audit.text                           # "login.succeeded" in words
    assert 'کمانڈ لائن (kpw)' in audit.text                   # the console, in words
    roles = app.get('/admin/roles')
    assert 'منظور کنندہ' in roles.text and 'ریکارڈ کلرک' in roles.text
    posts = app.get('/admin/posts')
    assert 'سیکرٹری خزانہ' in posts.text and 'محکمہ خزانہ' in posts.text
    search = app.get('/search')
    assert 'وزیر اعلیٰ کے پاس' in search.text and '>with_cm<' not in search.text


def test_post_urdu_designation_set_in_the_admin_form(app, open_site):
    urdu(app, 'admin')
    form = app.get('/admin/posts/+add').forms['kpw-form']
    form['post_id'] = 'so-audit-finance'
    form['title'] = 'Section Officer (Audit), Finance'
    form['title_ur'] = '  سیکشن آفیسر   (آڈٹ)، محکمہ خزانہ '
    form['department'] = 'finance'
    form.submit(status=303)
    assert open_site(lambda site, conn: site['principals'].posts['so-audit-finance'].title_ur) \
        == 'سیکشن آفیسر (آڈٹ)، محکمہ خزانہ'
    edit = app.get('/admin/posts/so-audit-finance')
    assert '<h1 dir="auto">سیکشن آفیسر (آڈٹ)، محکمہ خزانہ</h1>' in edit.text
    form = edit.forms['kpw-form']
    form['title_ur'] = 'a\u202eb'                               # a direction override: refused
    res = form.submit(status=400)
    assert open_site(lambda site, conn: site['principals'].posts['so-audit-finance'].title_ur) \
        == 'سیکشن آفیسر (آڈٹ)، محکمہ خزانہ'
    assert 'alert' in res.text


def test_post_without_urdu_designation_falls_back_to_english(app, open_site):
    def strip(site, conn):  # a post as stored before posts had an Urdu designation
        post = site['principals'].posts['secretary-finance']
        del post.title_ur
        assert 'title_ur' not in post.__dict__
    open_site(strip, commit=True)
    urdu(app, 'secretary.finance')
    assert 'Secretary Finance' in app.get('/').text


def test_fonts_are_served_from_the_package(app):
    css = app.get('/static/workspace.css').text
    assert '/* urdu */' in css and 'NotoNastaliqUrdu-Regular.ttf' in css
    for name in ('NotoNastaliqUrdu-Regular.ttf', 'NotoNaskhArabic-Regular.ttf', 'NotoSans-Regular.ttf'):
        res = app.get(f'/static/fonts/{name}')
        assert res.content_type == 'font/ttf' and len(res.body) > 100_000
    assert "default-src 'self'" in app.get('/login').headers['Content-Security-Policy']


def test_closed_file_shows_the_record_room_in_urdu(app):
    urdu(app, 'so.finance')
    fid, page = open_new_file(app)
    page = form_by_action(page, f'/files/{fid}/actions/close').submit(status=200)
    page = confirm(page).follow()
    assert 'ریکارڈ روم' in page.text and 'Record room' not in page.text
    assert 'بند (ریکارڈ روم میں)' in page.text                 # the state


def test_english_names_in_an_urdu_question_stay_apart(app):
    """The administrator's question about a transfer, in Urdu: the post in Urdu, and the
    officer's English name and login each isolated, so they do not run together."""
    urdu(app, 'admin')
    form = app.get('/admin/posts/so-budget-finance').forms['holder-form']
    form['login'] = 'so.sit'
    asked = form.submit('op', value='transfer', status=200)
    question = asked.html.select_one('.confirm-question').text
    assert '\u2068سیکشن آفیسر (بجٹ)، محکمہ خزانہ\u2069' in question
    assert '\u2068Fawad Ali\u2069' in question and '\u2068so.sit\u2069' in question
    assert 'Section Officer' not in question


URDU_DATE = re.compile(r'\d{2} (%s) \d{4}' % '|'.join(URDU_MONTHS))
LEFT_TO_RIGHT = re.compile(r'<(\w+)[^>]*\bdir="ltr"[^>]*>(.*?)</\1>', re.S)


def test_urdu_dates_read_right_to_left_in_the_lists(app, other):
    """An Urdu date ("06 دسمبر 2026 14:44") laid out left to right comes apart: the
    numbers after the month join its right-to-left run and the day ends up last.
    Lists show it in an isolate of its own direction (``<bdi>``), never in dir="ltr"."""
    urdu(app, 'so.finance')
    fid, page = file_with_note(app, 'نوٹ')
    form = [f for f in page.forms.values()
            if f.action.endswith(f'/files/{fid}/actions/forward')][0]
    form['to_post'] = 'secretary-finance'
    form.submit(status=303)
    urdu(other, 'secretary.finance')
    pages = {'inbox': other.get('/inbox').text, 'sent': app.get('/sent').text,
             'department files': other.get('/departments/finance/files?age=0-2').text}
    for name, text in pages.items():
        assert re.search(r'<bdi>' + URDU_DATE.pattern, text), name
        for _tag, inside in LEFT_TO_RIGHT.findall(text):
            assert not URDU_DATE.search(inside), (name, inside)
