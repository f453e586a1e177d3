"""Official PDFs with reportlab: outgoing documents, summaries, whole case files.

English is set in Noto Sans, Urdu in Noto Naskh Arabic (both ship in
``kp_workspace/fonts``, OFL).  reportlab does not shape Arabic script, so an
Urdu paragraph is broken into lines in logical order (measured on the shaped
text), then each line is shaped (``arabic-reshaper``), put in visual order
(``python-bidi``) and drawn right-aligned.  Text extracted from the PDF comes
back in logical order (after NFKC, as the shaped letters are presentation forms).
"""
import io
import os
import re
import threading
import unicodedata
from xml.sax.saxutils import escape

import arabic_reshaper
from bidi.algorithm import get_display
from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (Flowable, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate,
                                Spacer, Table, TableStyle)

FONTS = os.path.join(os.path.dirname(__file__), 'fonts')
GOVERNMENT = 'GOVERNMENT OF KHYBER PAKHTUNKHWA'
GOVERNMENT_UR = 'حکومت خیبر پختونخوا'
ARABIC_SCRIPT = re.compile('[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]')
SIGNATURE_SPACE = 62 * mm   # kept free at the foot of the last page for signature stamps
_registered = False
# reportlab's fonts are shared by every thread, and a TTFont reads its file through one
# position of its own when a document takes its subset of glyphs: two documents built
# at once read each other's glyphs (a KeyError, one PDF in a thousand under load).  So
# one document is built at a time (the work holds the GIL anyway).
_reportlab = threading.RLock()


def _register_fonts():
    global _registered
    with _reportlab:
        if not _registered:
            _register_fonts_now()
            _registered = True


def _register_fonts_now():
    for name, filename in (('Sans', 'NotoSans-Regular.ttf'), ('Sans-Bold', 'NotoSans-Bold.ttf'),
                           ('Naskh', 'NotoNaskhArabic-Regular.ttf'),
                           ('Naskh-Bold', 'NotoNaskhArabic-Bold.ttf')):
        pdfmetrics.registerFont(TTFont(name, os.path.join(FONTS, filename)))
    pdfmetrics.registerFontFamily('Sans', normal='Sans', bold='Sans-Bold')


def _styles():
    _register_fonts()
    base = ParagraphStyle('body', fontName='Sans', fontSize=11, leading=16, spaceAfter=6)
    return {
        'body': base,
        'head': ParagraphStyle('head', base, fontName='Sans-Bold', fontSize=14, leading=18,
                               alignment=TA_CENTER, spaceAfter=2),
        'sub': ParagraphStyle('sub', base, alignment=TA_CENTER, spaceAfter=2),
        'title': ParagraphStyle('title', base, fontName='Sans-Bold', fontSize=12,
                                alignment=TA_CENTER, spaceBefore=8, spaceAfter=8),
        'label': ParagraphStyle('label', base, fontName='Sans-Bold'),
        'small': ParagraphStyle('small', base, fontSize=9, leading=12),
        'right': ParagraphStyle('right', base, alignment=2),
    }


def shape(text):
    """One line of Arabic-script text, shaped and in visual order.

    Characters the bidirectional algorithm has no class for (code points not yet
    assigned in this Python's Unicode) are drawn as U+FFFD: python-bidi refuses
    them, and no font has a glyph for them anyway.
    """
    text = ''.join(ch if unicodedata.bidirectional(ch) else '\ufffd' for ch in text)
    return get_display(arabic_reshaper.reshape(text))


class UrduText(Flowable):
    """Right-to-left text, wrapped in logical order and drawn line by line."""

    def __init__(self, text, font='Naskh', size=12, leading=22, lines=None, centre=False):
        super().__init__()
        self.text, self.font, self.size, self.leading = text, font, size, leading
        self.lines, self.centre = lines, centre

    def _wrap_lines(self, width):
        lines = []
        for paragraph in self.text.split('\n'):
            line = []
            for word in paragraph.split():
                trial = ' '.join(line + [word])
                if line and pdfmetrics.stringWidth(shape(trial), self.font, self.size) > width:
                    lines.append(' '.join(line))
                    line = [word]
                else:
                    line.append(word)
            lines.append(' '.join(line))
        return lines

    def wrap(self, avail_width, avail_height):
        if self.lines is None:
            self.lines = self._wrap_lines(avail_width)
        self.width = avail_width
        self.height = len(self.lines) * self.leading + 4
        return self.width, self.height

    def split(self, avail_width, avail_height):
        self.wrap(avail_width, avail_height)
        fit = int((avail_height - 4) // self.leading)
        if fit <= 0 or fit >= len(self.lines):
            return [] if fit <= 0 else [self]
        return [UrduText(self.text, self.font, self.size, self.leading, part, self.centre)
                for part in (self.lines[:fit], self.lines[fit:])]

    def draw(self):
        self.canv.setFont(self.font, self.size)
        for i, line in enumerate(self.lines):
            y = self.height - (i + 1) * self.leading + self.size * 0.5
            if self.centre:
                self.canv.drawCentredString(self.width / 2, y, shape(line))
            else:
                self.canv.drawRightString(self.width, y, shape(line))


def text_block(text, style):
    """Flowables for ``text``: Urdu paragraphs right to left, others as paragraphs."""
    out = []
    for paragraph in re.split(r'\n\s*\n', (text or '').strip()):
        if not paragraph.strip():
            continue
        if ARABIC_SCRIPT.search(paragraph):
            out.append(UrduText(paragraph.strip()))
            out.append(Spacer(1, 4))
        else:
            out.append(Paragraph(escape(paragraph.strip()).replace('\n', '<br/>'), style))
    return out


def _letterhead(styles, department_title, department_title_ur=''):
    parts = [Paragraph(GOVERNMENT, styles['head']),
             UrduText(GOVERNMENT_UR, 'Naskh-Bold', 13, centre=True),
             Paragraph(escape(department_title), styles['sub'])]
    if department_title_ur:
        parts.append(UrduText(department_title_ur, 'Naskh', 11, 18, centre=True))
    rule = Table([['']], colWidths=['100%'], rowHeights=[2])
    rule.setStyle(TableStyle([('LINEBELOW', (0, 0), (-1, -1), 1, colors.black)]))
    parts.append(rule)
    return parts


def dated(at):
    return f'{at.day} {at.strftime("%B %Y")}' if at else ''


def _build(story, title, author, bottom_margin=SIGNATURE_SPACE, draft_mark=False):
    _register_fonts()
    out = io.BytesIO()

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont('Sans', 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f'{title} · page {doc.page}')
        if draft_mark:
            canvas.setFont('Sans-Bold', 60)
            canvas.setFillColor(colors.Color(0.85, 0.85, 0.85))
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(40)
            canvas.drawCentredString(0, 0, 'DRAFT')
        canvas.restoreState()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm,
                            topMargin=18 * mm, bottomMargin=bottom_margin, title=title,
                            author=author, creator='KP Digital Workspace')
    with _reportlab:
        doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()


def _lines(text):
    return [line.strip() for line in (text or '').splitlines() if line.strip()]


def render_outgoing(doc):
    """An outgoing document (letter, memorandum, office order, notification).

    ``doc`` is a mapping: kind_title, department_title, department_title_ur,
    number, date (datetime or None), subject, body, addressees, copies,
    signer_name, signer_post, final (False: marked DRAFT).
    """
    styles = _styles()
    story = _letterhead(styles, doc['department_title'], doc.get('department_title_ur', ''))
    story.append(Paragraph(escape(doc['kind_title'].upper()), styles['title']))
    number = doc.get('number') or '(number given on signing)'
    date = dated(doc.get('date')) or '(date given on signing)'
    table = Table([[Paragraph(f'No. {escape(number)}', styles['body']),
                    Paragraph(f'Peshawar, dated {escape(date)}', styles['right'])]],
                  colWidths=['50%', '50%'])
    story.append(table)
    story.append(Spacer(1, 6))
    story.append(Paragraph(f'<b>Subject:</b> {escape(doc["subject"])}', styles['body']))
    story.extend(text_block(doc['body'], styles['body']))
    signature = [Spacer(1, 10), Paragraph(f'<b>{escape(doc.get("signer_name") or "")}</b>',
                                          styles['right']),
                 Paragraph(escape(doc.get('signer_post') or ''), styles['right'])]
    story.append(KeepTogether(signature))
    addressees, copies = _lines(doc.get('addressees')), _lines(doc.get('copies'))
    if addressees:
        story.append(Paragraph('<b>To:</b>', styles['body']))
        story.extend(Paragraph(f'{i}. {escape(a)}', styles['body'])
                     for i, a in enumerate(addressees, 1))
    if copies:
        story.append(Paragraph('<b>Copy to:</b>', styles['body']))
        story.extend(Paragraph(f'{i}. {escape(c)}', styles['body'])
                     for i, c in enumerate(copies, 1))
    return _build(story, f'{doc["kind_title"]} {number}', doc.get('signer_name') or '',
                  draft_mark=not doc.get('final'))


def render_summary(s):
    """A summary for the Chief Minister: its sections and, once decided, the decision.

    ``s`` is a mapping: department_title, number, subject, sections (list of
    (heading, text)), initiated_at, decision_title, decision_remarks,
    decided_at, decided_by.
    """
    styles = _styles()
    story = _letterhead(styles, s['department_title'])
    story.append(Paragraph('SUMMARY FOR THE CHIEF MINISTER', styles['title']))
    story.append(Paragraph(f'No. {escape(s["number"])} · {escape(dated(s.get("initiated_at")))}',
                           styles['sub']))
    story.append(Paragraph(f'<b>Subject:</b> {escape(s["subject"])}', styles['body']))
    for n, (heading, text) in enumerate(s['sections'], 1):
        if text:
            story.append(Paragraph(f'<b>{n}. {escape(heading)}</b>', styles['body']))
            story.extend(text_block(text, styles['body']))
    if s.get('decision_title'):
        story.append(Spacer(1, 8))
        story.append(Paragraph('<b>Decision of the Chief Minister</b>', styles['body']))
        story.append(Paragraph(escape(s['decision_title']), styles['body']))
        story.extend(text_block(s.get('decision_remarks') or '', styles['body']))
        story.append(Paragraph(f'{escape(s.get("decided_by") or "")}, '
                               f'{escape(dated(s.get("decided_at")))}', styles['right']))
    return _build(story, f'Summary {s["number"]}', '')


def render_file(f, attachments):
    """A whole case file as one PDF: noting sheet, movement register, then the
    correspondence (PDF attachments merged in), with bookmarks.

    ``f`` is a mapping: department_title, number, subject, notes (list of
    (n, author, post, at, text)), movements (list of (at, action, from, to,
    by, remarks)).  ``attachments`` is a list of (title, open binary file or
    None for a non-PDF, note).
    """
    styles = _styles()
    story = _letterhead(styles, f['department_title'])
    story.append(Paragraph(f'FILE No. {escape(f["number"])}', styles['title']))
    story.append(Paragraph(f'<b>Subject:</b> {escape(f["subject"])}', styles['body']))
    story.append(Paragraph('NOTING SHEET', styles['title']))
    for n, author, post, at, text in f['notes']:
        story.append(Paragraph(f'<b>{n}.</b> <font size="9">{escape(author)}, {escape(post)}, '
                               f'{escape(at.strftime("%d %b %Y %H:%M"))}</font>',
                               styles['body']))
        story.extend(text_block(text, styles['body']))
    if not f['notes']:
        story.append(Paragraph('No notes.', styles['body']))
    starts = {}
    story.append(PageBreak())
    story.append(_Mark('register', starts))
    story.append(Paragraph('MOVEMENT REGISTER', styles['title']))
    rows = [['Date', 'Action', 'From', 'To', 'By', 'Remarks']]
    cell = styles['small']
    for at, action, src, dst, by, remarks in f['movements']:
        rows.append([Paragraph(escape(at.strftime('%d %b %Y %H:%M')), cell),
                     Paragraph(escape(action), cell), Paragraph(escape(src), cell),
                     Paragraph(escape(dst), cell), Paragraph(escape(by), cell),
                     Paragraph(escape(remarks or ''), cell)])
    table = Table(rows, colWidths=[26 * mm, 20 * mm, 30 * mm, 30 * mm, 24 * mm, 36 * mm],
                  repeatRows=1)
    table.setStyle(TableStyle([('FONT', (0, 0), (-1, 0), 'Sans-Bold', 9),
                               ('GRID', (0, 0), (-1, -1), 0.4, colors.grey),
                               ('VALIGN', (0, 0), (-1, -1), 'TOP')]))
    story.append(table)
    listing = [Paragraph('CORRESPONDENCE', styles['title'])]
    for i, (title, _file, note) in enumerate(attachments, 1):
        listing.append(Paragraph(f'{i}. {escape(title)}{" — " + escape(note) if note else ""}',
                                 styles['body']))
    if not attachments:
        listing.append(Paragraph('No correspondence.', styles['body']))
    story.append(PageBreak())
    story.append(_Mark('correspondence', starts))
    story.extend(listing)
    cover = _build(story, f'File {f["number"]}', '', bottom_margin=18 * mm)
    writer = PdfWriter()
    reader = PdfReader(io.BytesIO(cover))
    writer.append(reader)
    writer.add_outline_item(title='Noting sheet', page_number=0)
    writer.add_outline_item(title='Movement register', page_number=starts.get('register', 0))
    correspondence = writer.add_outline_item(title='Correspondence',
                                             page_number=starts.get('correspondence', 0))
    for title, stream, _note in attachments:
        if stream is None:
            continue
        first = len(writer.pages)
        writer.append(PdfReader(stream))
        writer.add_outline_item(title=title, page_number=first, parent=correspondence)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class _Mark(Flowable):
    """Records the page (from 0) it lands on: for bookmarks."""

    def __init__(self, name, found):
        super().__init__()
        self.name, self.found = name, found

    def wrap(self, avail_width, avail_height):
        return 0, 0

    def draw(self):
        self.found.setdefault(self.name, self.canv.getPageNumber() - 1)


def _cell(text, style):
    """A table cell of one line of text; Urdu shaped and set in Naskh (reportlab does
    not shape it, and Noto Sans has no Arabic letters)."""
    text = ' '.join((text or '').split())
    if ARABIC_SCRIPT.search(text):
        return Paragraph(f'<font name="Naskh">{escape(shape(text))}</font>', style)
    return Paragraph(escape(text), style)


def render_weeding_list(w):
    """A weeding list for signature: the files to be destroyed, with their classes.

    ``w`` is a mapping: department_title, number, remarks, proposed_by, proposed_at,
    approved_by, approved_post, approved_at, years ({class: years}), entries (list of
    (number, subject, classification, record class, closed_at)).
    """
    styles = _styles()
    story = _letterhead(styles, w['department_title'])
    story.append(Paragraph('WEEDING LIST', styles['title']))
    story.append(Paragraph(f'No. {escape(w["number"])} · {escape(dated(w["approved_at"]))}',
                           styles['sub']))
    years = w['years']
    story.append(Paragraph(
        f'The files below were closed and have been kept for as long as their record class '
        f'requires (class B: {years.get("B")} years, class C: {years.get("C")} years). '
        f'None is under a legal hold. They were proposed for weeding by '
        f'{escape(w["proposed_by"])} on {escape(dated(w["proposed_at"]))}.', styles['body']))
    if w.get('remarks'):
        story.extend(text_block(w['remarks'], styles['body']))
    cell = styles['small']
    rows = [['#', 'File No.', 'Subject', 'Class', 'Closed']]
    for n, (number, subject, classification, record_class, closed_at) in \
            enumerate(w['entries'], 1):
        if classification != 'routine':
            subject = f'{subject} ({classification})'
        rows.append([str(n), Paragraph(escape(number), cell),
                     _cell(subject, cell), record_class,
                     Paragraph(escape(closed_at.strftime('%d %b %Y')), cell)])
    table = Table(rows, colWidths=[10 * mm, 34 * mm, 82 * mm, 14 * mm, 26 * mm], repeatRows=1)
    table.setStyle(TableStyle([('FONT', (0, 0), (-1, 0), 'Sans-Bold', 9),
                               ('FONT', (0, 1), (-1, -1), 'Sans', 9),
                               ('GRID', (0, 0), (-1, -1), 0.4, colors.grey),
                               ('VALIGN', (0, 0), (-1, -1), 'TOP')]))
    story.append(table)
    story.append(Spacer(1, 8))
    story.append(Paragraph(
        f'Approved for destruction: {len(w["entries"])} file(s). Approved by '
        f'{escape(w["approved_by"])}, {escape(w["approved_post"])}.', styles['body']))
    return _build(story, f'Weeding list {w["number"]}', w['approved_by'])
