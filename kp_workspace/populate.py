"""Demo data: departments, posts and users for every role.  Idempotent.

For demonstration only: every demo login has the password :data:`DEMO_PASSWORD`;
``secretary.finance``, ``cs`` and ``cm`` hold signing certificates whose PIN is
:data:`DEMO_PIN`.  One file, held by the Secretary Finance, carries a
notification drafted by ``so.finance`` and put up for approval, ready to be
approved, signed and issued.  The Finance diary (``diary.finance``) has letters
waiting to be marked, and ``so.finance`` has letters marked to them in Receipts.
``secretary.hed`` holds the charge of the Section Officer (General), Higher
Education, for thirty days from the day the demo is made.  The Section Officer,
Sports has follow-ups: a file parked awaiting a reply whose date has passed (due,
back in the inbox), one parked until a date ahead, and a file put up with another.
The Finance record room (``clerk.finance``) has a file of class C closed four years
ago, due for weeding, and one of class B closed then too, kept for six years more.
The Cabinet Wing (``so.cabinet``, ``secretary.cabinet``) held a meeting yesterday on two
Science & IT summaries the Chief Minister sent to the cabinet, called two members of the
cabinet (``minister.finance``, ``minister.education``; ``adviser.it`` is not called), and
the Chief Secretary signed its minutes: one decision is public, and Science & IT
reports its implementation in progress.
"""
import datetime
import io

from .content_types.department import add_department

DEMO_PASSWORD = 'kp-demo-2026'
DEMO_PIN = '246810'
SIGNERS = ('secretary.finance', 'cs', 'cm')
DEMO_FILE_SUBJECT = 'Revision of the rates of pension for retired government employees'
DEMO_NOTIFICATION = (
    'In pursuance of the approval of the competent authority, the rates of pension of '
    'retired employees of the Government of Khyber Pakhtunkhwa are revised with effect '
    'from 1st July 2026, as set out below.\n\n'
    'سرکاری ملازمین کی پنشن کی شرح میں یکم جولائی 2026 سے اضافہ کیا جاتا ہے۔ '
    'یہ حکم فوری طور پر نافذ العمل ہوگا۔')

DEPARTMENTS = (
    # name, title, code, title in Urdu
    ('finance', 'Finance Department', 'FD', 'محکمہ خزانہ'),
    ('higher-education', 'Higher Education Department', 'HED', 'محکمہ اعلیٰ تعلیم'),
    ('science-it', 'Science & Information Technology Department', 'SIT',
     'محکمہ سائنس و انفارمیشن ٹیکنالوجی'),
    ('sports', 'Sports Department', 'SPD', 'محکمہ کھیل'),
    ('cm-secretariat', "Chief Minister's Secretariat", 'CMS', 'وزیر اعلیٰ سیکرٹریٹ'),
    ('chief-secretary', "Chief Secretary's Office", 'CSO', 'دفتر چیف سیکرٹری'),
    # the Cabinet Wing: a section under the Chief Secretary, kept as a department of its
    # own so its posts' roles (and its file numbers) are its own
    ('cabinet-wing', "Cabinet Wing, Chief Secretary's Office", 'CAB',
     'کیبنٹ ونگ، دفتر چیف سیکرٹری'),
)

POSTS = (
    # post id, designation, department, roles there, designation in Urdu
    ('so-budget-finance', 'Section Officer (Budget), Finance', 'finance', ('officer',),
     'سیکشن آفیسر (بجٹ)، محکمہ خزانہ'),
    ('secretary-finance', 'Secretary Finance', 'finance', ('approver',), 'سیکرٹری خزانہ'),
    ('records-finance', 'Records Clerk, Finance', 'finance', ('records_clerk',),
     'ریکارڈ کلرک، محکمہ خزانہ'),
    ('diary-finance', 'Diary Clerk, Finance', 'finance', ('diary_clerk',),
     'ڈائری کلرک، محکمہ خزانہ'),
    ('so-general-hed', 'Section Officer (General), Higher Education', 'higher-education',
     ('officer',), 'سیکشن آفیسر (جنرل)، محکمہ اعلیٰ تعلیم'),
    ('secretary-hed', 'Secretary Higher Education', 'higher-education', ('approver',),
     'سیکرٹری اعلیٰ تعلیم'),
    ('so-sit', 'Section Officer, Science & IT', 'science-it', ('officer',),
     'سیکشن آفیسر، محکمہ سائنس و انفارمیشن ٹیکنالوجی'),
    ('secretary-sit', 'Secretary Science & IT', 'science-it', ('approver',),
     'سیکرٹری سائنس و انفارمیشن ٹیکنالوجی'),
    ('so-sports', 'Section Officer, Sports', 'sports', ('officer',), 'سیکشن آفیسر، محکمہ کھیل'),
    ('secretary-sports', 'Secretary Sports', 'sports', ('approver',), 'سیکرٹری کھیل'),
    ('chief-secretary', 'Chief Secretary', 'chief-secretary', ('approver', 'chief_secretary'),
     'چیف سیکرٹری'),
    ('so-cabinet', 'Section Officer (Cabinet)', 'cabinet-wing', ('officer', 'cabinet_wing'),
     'سیکشن آفیسر (کیبنٹ)'),
    ('secretary-cabinet', 'Secretary Cabinet', 'cabinet-wing', ('approver', 'cabinet_secretary'),
     'سیکرٹری کیبنٹ'),
    ('chief-minister', 'Chief Minister', 'cm-secretariat', ('chief_minister',), 'وزیر اعلیٰ'),
)

USERS = (
    # login, name, global roles, posts
    ('admin', 'Workspace Administrator', ('administrator',), ()),
    ('so.finance', 'Ayesha Khan', (), ('so-budget-finance',)),
    ('secretary.finance', 'Imran Yousafzai', (), ('secretary-finance',)),
    ('clerk.finance', 'Gul Rehman', (), ('records-finance',)),
    ('diary.finance', 'Shabana Bibi', (), ('diary-finance',)),
    ('so.hed', 'Bilal Afridi', (), ('so-general-hed',)),
    ('secretary.hed', 'Nadia Shah', (), ('secretary-hed',)),
    ('so.sit', 'Fawad Ali', (), ('so-sit',)),
    ('secretary.sit', 'Sana Durrani', (), ('secretary-sit',)),
    ('so.sports', 'Kamran Khattak', (), ('so-sports',)),
    ('secretary.sports', 'Rubina Gul', (), ('secretary-sports',)),
    ('cs', 'Chief Secretary', (), ('chief-secretary',)),
    ('cm', 'Chief Minister', (), ('chief-minister',)),
    ('so.cabinet', 'Farhan Saleem', (), ('so-cabinet',)),
    ('secretary.cabinet', 'Amna Tariq', (), ('secretary-cabinet',)),
    # members of the cabinet: a role, no post (they see the cabinet's papers only)
    ('minister.finance', 'Minister for Finance', ('cabinet_member',), ()),
    ('minister.education', 'Minister for Higher Education', ('cabinet_member',), ()),
    ('adviser.it', 'Adviser to the CM on Science & IT', ('cabinet_member',), ()),
)


def load_demo(site, actor, secret=None, crl_url=None, ocsp_url=None):
    """Add whatever of the demo data is missing.  :returns: how many objects were added.

    :param secret: the deployment secret; without it no signing certificates are made.
    :param crl_url: the CRL's address, written in the demo signers' certificates.
    :param ocsp_url: the OCSP responder's address, written in them too.
    """
    departments, principals = site['departments'], site['principals']
    added = 0
    for name, title, code, title_ur in DEPARTMENTS:
        if name not in departments:
            add_department(departments, actor, name, title, code, title_ur)
            added += 1
    for post_id, title, dept, roles, title_ur in POSTS:
        if post_id not in principals.posts:
            principals.add_post(actor, departments, post_id, title, dept, roles, title_ur)
            added += 1
    for login, name, roles, post_ids in USERS:
        user = principals.users.get(login)
        if user is None:
            user = principals.add_user(actor, login, name, DEMO_PASSWORD,
                                       email=f'{login}@kp.gov.pk.example', roles=roles)
            added += 1
        for post_id in post_ids:
            post = principals.posts[post_id]
            if login not in post.holders:
                principals.assign(actor, post, user)
    if secret is not None:
        added += _demo_signers(site, actor, secret, crl_url, ocsp_url)
    if len(site.desk.items) == 0:
        _demo_notification(site, actor)
        _demo_charge(site, actor)
        added += 2
        if blobs_stored(site):   # (the letters' scans are blobs)
            _demo_dak(site, actor)
            added += len(DEMO_LETTERS)
        _demo_follow_ups(site, actor)
        _demo_record_room(site, actor)
        if secret is not None and blobs_stored(site) \
                and getattr(site, 'cabinet', None) is not None:
            _demo_cabinet(site, actor, secret)
            added += 1
    return added


DEMO_CABINET_SUMMARIES = (
    # subject, the decision (public or not)
    ('Establishment of a Provincial Artificial Intelligence Centre at Peshawar',
     'Approved. The Centre is to be set up in the Science & IT Department within six months; '
     'the Finance Department is to provide the funds in the current year.', True),
    ('Digitisation of the land records of District Mardan',
     'Approved in principle; a detailed plan with costs is to be placed before the Cabinet '
     'in its next meeting.', False),
)
DEMO_MEETING_PLACE = 'Cabinet Room, Civil Secretariat, Peshawar'
DEMO_MEMBERS = ('minister.finance', 'minister.education')


def _demo_cabinet(site, actor, secret):
    """Two Science & IT summaries the Chief Minister sent to the cabinet (back with the
    department's Section Officer, decided), a meeting held yesterday with both on its agenda, its papers
    issued, a decision on each, the minutes signed by the Chief Secretary (the decisions
    sent for implementation where that part is installed)."""
    from . import cabinet
    from .access import Officer
    from .content_types.summary import initiate_summary
    from .signing import SigningContext
    from .workflows.summary import SUMMARY
    users = site['principals'].users
    context = SigningContext(secret=secret)

    def officer(login):
        return Officer(users[login], site, actor)
    so, secretary, cm = officer('so.sit'), officer('secretary.sit'), officer('cm')
    ids = []
    for subject, _decision, _public in DEMO_CABINET_SUMMARIES:
        summary = initiate_summary(
            site['departments']['science-it'], so, subject,
            'The matter has been examined in the Science & IT Department in consultation '
            'with the Finance Department.', 'The proposal is set out in the annexed plan.',
            'Approval of the Cabinet is sought.', 'Within the budget of the current year.')
        SUMMARY.run(summary, 'submit', so, to_post='secretary-sit', remarks='For approval.')
        SUMMARY.run(summary, 'put_up', secretary, to_post='chief-minister',
                    remarks='Submitted for orders.')
        SUMMARY.run(summary, 'decide', cm, decision='for_cabinet', pin=DEMO_PIN,
                    signing=context, remarks='To be placed before the Cabinet.')
        ids.append(summary.id)
    wing, cs = officer('secretary.cabinet'), officer('cs')
    yesterday = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)
    meeting = cabinet.schedule(site, wing, yesterday, DEMO_MEETING_PLACE)
    cabinet.call_members(site, wing, meeting, list(DEMO_MEMBERS))
    cabinet.set_agenda(site, wing, meeting, ids)
    cabinet.issue_papers(site, wing, meeting)
    due = yesterday + datetime.timedelta(days=180)
    for n, (_subject, decision, public) in enumerate(DEMO_CABINET_SUMMARIES, 1):
        cabinet.record_decision(site, wing, meeting, n, decision,
                                ['science-it', 'finance'] if n == 1 else ['science-it'],
                                due, public)
    cabinet.sign_minutes(site, cs, meeting, DEMO_PIN, context)
    # the first decision under implementation: Science & IT reports it in progress
    try:
        from .implementation import for_decision
    except ImportError:   # (the implementation part not installed)
        return
    for item in for_decision(site, cabinet.source_id(meeting, 1)):
        if item.department == 'science-it':
            demo_implementation(site, actor, item)


DEMO_LETTERS = (
    # sender, their reference, subject, mode, marked to (None: waits with the diary)
    ('Accountant General, Khyber Pakhtunkhwa', 'AG/PEN/2026/114',
     'Pension arrears of retired teachers of District Swat', 'post', 'so-budget-finance'),
    ('Planning & Development Department', 'P&D/ADP/2026-27/88',
     'Release of funds for the Annual Development Programme, second quarter', 'email',
     'so-budget-finance'),
    ('Deputy Commissioner, Peshawar', 'DC/PSH/GEN/5521',
     'Flood relief: request for additional grant', 'hand', None),
    ('Auditor General of Pakistan', 'AGP/KP/AUD/2026/17',
     'Audit para 14: excess payment of allowances', 'courier', None),
)


def letter_pdf(sender, reference, subject):
    """A one-page letter (a stand-in for a scan), with text that search can read."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4)
    lines = [sender, f'No. {reference}', '', 'To: The Secretary to Government of Khyber '
             'Pakhtunkhwa, Finance Department, Peshawar', '', f'Subject: {subject}', '',
             'I am directed to refer to the subject noted above and to request that the',
             'matter may be examined and the necessary orders issued at the earliest.']
    y = 780
    for line in lines:
        page.drawString(72, y, line)
        y -= 18
    page.showPage()
    page.save()
    return buf.getvalue()


def blobs_stored(site):
    """Whether ``site``'s database keeps blobs (one configured without a blob directory
    cannot hold a scan: the demo then has no letters)."""
    from ZODB.interfaces import IBlobStorage
    jar = site._p_jar
    return jar is None or IBlobStorage.providedBy(jar.db().storage)


def _demo_charge(site, actor):
    """The Secretary Higher Education holds the charge of the Section Officer (General),
    on leave, for thirty days from the day the demo is made."""
    from .access import Officer
    from .security.charges import give_charge, today
    admin = Officer(site['principals'].users['admin'], site, actor)
    give_charge(admin, 'so-general-hed', 'secretary.hed', today(),
                today() + datetime.timedelta(days=29), 'Earned leave of the Section Officer')


def _demo_dak(site, actor):
    """The Finance diary registers the demo letters; some are marked to so.finance."""
    from .access import Officer
    from .content_types.receipt import register_receipt
    from .workflows.receipt import RECEIPT
    diary = Officer(site['principals'].users['diary.finance'], site, actor)
    for sender, reference, subject, mode, to_post in DEMO_LETTERS:
        receipt = register_receipt(site['departments']['finance'], diary, sender, subject, mode,
                                   io.BytesIO(letter_pdf(sender, reference, subject)),
                                   'letter.pdf', reference=reference)
        if to_post:
            RECEIPT.run(receipt, 'mark', diary, to_post=to_post, remarks='Please examine.')


def _demo_signers(site, actor, secret, crl_url, ocsp_url):
    added = 0
    for login in SIGNERS:
        if site.signing.current(login) is None:
            user = site['principals'].users[login]
            record = site.signing.issue(login, user.name, 'demo')
            site.signing.activate(login, DEMO_PIN, secret, crl_url=crl_url, ocsp_url=ocsp_url)
            actor.record('signing.certificate_issued', f'user:{login}', serial=record.serial)
            added += 1
    return added


def _demo_notification(site, actor):
    """so.finance opens a file, drafts a notification and puts the file up to the Secretary."""
    from .access import Officer
    from .content_types.casefile import open_file
    from .content_types.movable import write_note
    from .content_types.outgoing import add_draft
    from .workflows.casefile import CASEFILE
    from .workflows.draft import DRAFT_WORKFLOW
    officer = Officer(site['principals'].users['so.finance'], site, actor)
    casefile = open_file(site['departments']['finance'], officer, DEMO_FILE_SUBJECT)
    write_note(casefile, officer, 'A draft notification revising the pension rates is placed '
                                  'below for approval and signature, please.')
    draft = add_draft(casefile, officer, 'notification', 'Revision of pension rates',
                      DEMO_NOTIFICATION, addressees='The Accountant General, Khyber Pakhtunkhwa'
                      '\nAll Administrative Secretaries', copies='PS to Chief Secretary')
    DRAFT_WORKFLOW.run(draft, 'submit', officer)
    CASEFILE.run(casefile, 'forward', officer, to_post='secretary-finance',
                 remarks='Draft notification for approval and signature.')


FOLLOW_UP_FILES = (
    # subject, first note
    ('Construction of a sports complex at Hayatabad, Peshawar',
     'The Finance Department may be asked to confirm the funds for the current year.'),
    ('Inter-district games 2027: release of funds',
     'The Accountant General has been asked to verify the bills of the last games.'),
    ('Purchase of sports equipment for district sports officers',
     'The proposal for the sports complex is relevant to this purchase.'),
)


def _demo_follow_ups(site, actor):
    """so.sports parks one file until a date already passed (due now), one until a
    fortnight ahead, and puts the third up with the first."""
    from .access import Officer
    from .content_types.casefile import open_file
    from .content_types.movable import now, write_note
    from .desk import Parking
    from .followups import day_start, link, park
    officer = Officer(site['principals'].users['so.sports'], site, actor)
    files = []
    for subject, note in FOLLOW_UP_FILES:
        casefile = open_file(site['departments']['sports'], officer, subject)
        write_note(casefile, officer, note)
        files.append(casefile)
    due, ahead, equipment = files
    today = now().date()
    park(ahead, officer, today + datetime.timedelta(days=14),
         'Awaiting the reply of the Accountant General on the bills')
    # parked three weeks ago until yesterday (the rules allow only dates ahead: the demo
    # writes the register as that parking left it)
    site.desk.park(due, due.received_at, Parking(
        due.holder, day_start(today - datetime.timedelta(days=1)),
        'Awaiting the reply of the Finance Department on the funds', officer.login,
        officer.user.name, now() - datetime.timedelta(days=21)))
    actor.record('file.parked', f'file:{due.id}',
                 until=(today - datetime.timedelta(days=1)).isoformat(), post=due.holder)
    link(equipment, officer, due.number, 'The complex will need this equipment.')


RECORD_ROOM_FILES = (
    # subject, record class
    ('Purchase of office furniture for the Finance Department, 2021-22', 'C'),
    ('Budget estimates of the Finance Department, 2022-23', 'B'),
)


def _demo_record_room(site, actor):
    """so.finance closes two files opened five years ago (numbered in that year),
    written as closed four years ago: one of class C, due for weeding, and one of
    class B, kept for six years more."""
    from .access import Officer
    from .content_types.casefile import open_file
    from .content_types.movable import now, write_note
    from .workflows.casefile import CASEFILE
    officer = Officer(site['principals'].users['so.finance'], site, actor)
    opened = now() - datetime.timedelta(days=5 * 365 + 1)
    for subject, record_class in RECORD_ROOM_FILES:
        casefile = open_file(site['departments']['finance'], officer, subject, at=opened)
        # (with the Section Officer from today, not for five years: no desk time to count)
        site.desk.unplace(casefile, casefile.holder, casefile.received_at)
        casefile.received_at = now().timestamp()
        site.desk.place(casefile, casefile.holder, casefile.received_at)
        note = write_note(casefile, officer, 'The matter is settled; the file may be closed.')
        note.at = opened + datetime.timedelta(days=300)
        CASEFILE.run(casefile, 'close', officer, record_class=record_class,
                     remarks='Matter settled.')
        backdate_closing(site, casefile, datetime.timedelta(days=4 * 365 + 1))


def backdate_closing(site, casefile, by):
    """Write ``casefile`` as closed ``by`` (a timedelta) earlier than it was (the demo's
    and the tests' way to a file whose years have passed)."""
    room = site.recordroom
    room.unfiled(casefile)
    was = casefile.closed_at
    casefile.closed_at -= by
    figures = getattr(site, 'pendency', None)
    if figures is not None:   # (the public figures count it closed then too)
        figures.redate_disposal(casefile.department, was, casefile.closed_at)
    last = casefile.last_movement()
    if last is not None and last.action == 'close':
        last.at = casefile.closed_at
        casefile.movements._lines[last.n] = last   # (stored again: its bucket changed)
    room.filed(casefile)


def demo_implementation(site, actor, item):
    """A file worker of ``item``'s department (an implementation item the demo's cabinet
    meeting sent it; its Section Officer rather than its Secretary) reports it in
    progress, with a letter attached when the database keeps blobs.  Idempotent: an
    item with a report already is left as it is.  :returns: the report, or None."""
    from .access import Officer
    from .implementation import report
    from .security.roles import APPROVE, WRITE_NOTE, permissions_of
    if len(item.reports):
        return None
    principals = site['principals']
    dept = site['departments'][item.department]
    workers = []
    for principal, roles in dept.local_roles.items():
        post = principals.posts.get(principal[5:]) if principal.startswith('post:') else None
        perms = permissions_of(roles)
        if post is not None and post.holders and WRITE_NOTE in perms:
            workers.append((APPROVE in perms, post.post_id, post.holders[0]))
    if not workers:
        return None
    officer = Officer(principals.users[min(workers)[2]], site, actor)
    uploads = []
    if blobs_stored(site):
        uploads = [(io.BytesIO(letter_pdf(dept.title, f'{dept.code}/CAB/{item.id}',
                                          f'Implementation of: {item.subject}')),
                    'progress-report.pdf')]
    return report(item, officer, 'in_progress',
                  'The draft notification has been prepared and sent to the Law Department '
                  'for vetting.', uploads=uploads)
