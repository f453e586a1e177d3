"""A synthetic province at a chosen size, measured over HTTP on the real server.

One command builds a realistic Khyber Pakhtunkhwa workspace and measures it:

1. **The province**: the demo data (``kpw init --demo``: its six departments, the
   Chief Secretary, the Chief Minister, three signers) grown to ``--departments``
   departments (40: Finance, Health, Elementary & Secondary Education, Home,
   Revenue, Agriculture, ... with their file codes and Urdu names), each with a
   Secretary, Additional Secretaries, Deputy Secretaries, Section Officers and
   records and diary clerks, ``--people`` users in all (each password hashed with
   argon2id, so this costs about 40 ms a person, once).
2. **The files**, through the domain's own functions (``open_file``,
   ``write_note``, ``attach``, ``add_draft``, the case file, summary and draft
   workflows: what the views call) in large transactions on a simulated clock,
   as ``benchmarks/dashboard_scale.py`` does: opened over ``--years`` years,
   noted (some in Urdu), attached to (small text-bearing PDF letters), moved up
   the chain (Section Officer, Deputy Secretary, Additional Secretary,
   Secretary), to Finance for concurrence, down again, and closed; the newest
   still on their way, a few stuck.  Summaries to the Chief Minister (two in
   every 1,000 files decided and signed by the CM, one still on its way) and
   issued documents (one in every 1,000 files: drafted, approved, signed by the
   Secretary Finance and issued) are few because signing is slow.
   Search indexing goes through the normal queue in the database, drained by
   ``kpw indexer --once`` afterwards; then the index's merges are settled and
   (unless ``--no-reindex``) ``kpw reindex`` rebuilds it.  The build rate
   (files/s) and the indexing and rebuild rates (documents/s) are measured
   separately.
3. **Over HTTP**, on the real server (``pserve``; with ``--workers N``, ``kpw
   serve``: N processes over ZEO), with real sign-ins through the login form:
   sign-in, inbox, file page (of files the officer holds), add a note, forward,
   search (English and Urdu), and the department dashboard, ``--reps`` times
   each, interleaved, as the busy Section Officer (Budget), Finance
   (``so.finance``) and as the Secretary Finance (``secretary.finance``), whose
   lists are the longest; then the sizes of the databases, blobs and index, and
   the memory (RSS) of the server's processes.

Sizes grow one database: ``--files 10000 --files 100000`` builds 10,000 files,
measures, adds 90,000, measures again; it prints a table with a row per size and
the ratio of the largest size to 10,000 (or to the smallest), and writes all
figures to ``benchmarks/results/province-<date>-<size>.json``.

    .venv/bin/python benchmarks/province.py --files 10000 [--files 100000 ...]
        [--keep DIR] [--workers N] [--reps 100] [--people 2500] [--departments 40]
        [--no-reindex] [--max-minutes M] [--min-free-gb 2] [--results DIR]

Long runs: progress goes to stderr; the builder's memory stays bounded (the
ZODB cache is emptied after every transaction; its peak RSS is reported).  With
``--keep DIR`` the workspace stays in DIR, and the same command with the same
DIR continues where it stopped: the count of files built is committed with each
batch.  When the disk's free space falls under ``--min-free-gb``, the time runs
past ``--max-minutes``, Ctrl-C is pressed or a batch fails, the build stops after
the last committed batch and says where and why.
"""
import argparse
import collections
import datetime
import errno
import io
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

import transaction
from persistent.mapping import PersistentMapping
from pyramid.paster import get_appsettings
from pyramid.threadlocal import manager

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.dashboard_scale import Clock  # noqa: E402
from benchmarks.load_mixed import percentile, restore_sigint  # noqa: E402
from benchmarks.search_scale import live_index_mb  # noqa: E402
from kp_workspace import main as make_wsgi_app  # noqa: E402
from kp_workspace.access import Officer  # noqa: E402
from kp_workspace.alerts import read_alerts_about  # noqa: E402
from kp_workspace.audit import Actor, ensure_audit_log  # noqa: E402
from kp_workspace.content_types import movable  # noqa: E402
from kp_workspace.content_types.attachment import attach  # noqa: E402
from kp_workspace.content_types.casefile import open_file  # noqa: E402
from kp_workspace.content_types.department import add_department  # noqa: E402
from kp_workspace.content_types.outgoing import add_draft  # noqa: E402
from kp_workspace.content_types.summary import initiate_summary  # noqa: E402
from kp_workspace.populate import DEMO_PASSWORD, DEMO_PIN  # noqa: E402
from kp_workspace.populate import DEPARTMENTS as DEMO_DEPARTMENTS  # noqa: E402
from kp_workspace.populate import POSTS as DEMO_POSTS  # noqa: E402
from kp_workspace.populate import USERS as DEMO_USERS  # noqa: E402
from kp_workspace.signing import context_from_settings  # noqa: E402
from kp_workspace.site import ROOT_KEY, close_databases  # noqa: E402
from kp_workspace.workflows.casefile import CASEFILE  # noqa: E402
from kp_workspace.workflows.draft import DRAFT_WORKFLOW  # noqa: E402
from kp_workspace.workflows.summary import SUMMARY  # noqa: E402
from tests.system.server import BIN, ROOT, Client, Server, init_workspace  # noqa: E402

STATE_KEY = 'kpw_province_benchmark'  # (in the ZODB root, beside the site: what was built)
DAY = datetime.timedelta(days=1)
RESULTS = os.path.join(ROOT, 'benchmarks', 'results')
BATCH = 250  # files a transaction

# The province ------------------------------------------------------------------------
# The demo's departments (kp_workspace.populate) come first, then these; for each, the
# short name its post titles use, its share of the files, and what its files are about.
DEMO_SHAPE = {
    'finance': ('Finance', 10, ('budget estimates', 'pension', 'supplementary grant',
                                'release of funds')),
    'higher-education': ('Higher Education', 4, ('Government College', 'university grant',
                                                  'lecturers')),
    'science-it': ('Science & IT', 1.5, ('data centre', 'software licences', 'IT park')),
    'sports': ('Sports', 1.5, ('sports complex', 'youth festival', 'stadium')),
    'cm-secretariat': ("CM's Secretariat", 1, ('public complaints', 'CM directives')),
    'chief-secretary': ("Chief Secretary's Office", 1, ('performance review',
                                                        'coordination meeting')),
    'cabinet-wing': ('Cabinet Wing', 0.5, ('cabinet meeting', 'working papers')),
}
PROVINCE = (
    # name, title, code, title in Urdu, short name, share of files, topics
    ('health', 'Health Department', 'HD', 'محکمہ صحت', 'Health', 8,
     ('District Headquarters Hospital', 'Basic Health Unit', 'vaccination campaign',
      'medicines')),
    ('elementary-education', 'Elementary & Secondary Education Department', 'E&SE',
     'محکمہ ابتدائی و ثانوی تعلیم', 'E&SE', 8,
     ('Government Girls High School', 'teachers', 'free textbooks', 'school buildings')),
    ('home', 'Home & Tribal Affairs Department', 'HTA', 'محکمہ داخلہ و قبائلی امور', 'Home', 6,
     ('police stations', 'arms licences', 'prisons', 'security of processions')),
    ('revenue', 'Revenue & Estate Department', 'RED', 'محکمہ مال و جائیداد', 'Revenue', 5,
     ('land acquisition', 'mutation of land', 'patwar circles')),
    ('agriculture', 'Agriculture Department', 'AGD', 'محکمہ زراعت', 'Agriculture', 3,
     ('wheat seed subsidy', 'fertilizer', 'olive cultivation')),
    ('livestock', 'Livestock & Dairy Development Department', 'LDD',
     'محکمہ لائیو سٹاک و ڈیری ڈویلپمنٹ', 'Livestock', 2,
     ('veterinary hospitals', 'dairy farms')),
    ('local-government', 'Local Government, Elections & Rural Development Department', 'LGE',
     'محکمہ بلدیات', 'Local Government', 4,
     ('tehsil municipal administration', 'village councils', 'solid waste management')),
    ('communication-works', 'Communication & Works Department', 'C&W',
     'محکمہ مواصلات و تعمیرات', 'C&W', 5,
     ('road repair', 'bridge construction', 'government buildings')),
    ('irrigation', 'Irrigation Department', 'ID', 'محکمہ آبپاشی', 'Irrigation', 3,
     ('canal lining', 'flood protection walls', 'small dams')),
    ('energy-power', 'Energy & Power Department', 'EPD', 'محکمہ توانائی و برقیات', 'Energy', 2,
     ('micro hydel stations', 'solar panels for schools')),
    ('planning-development', 'Planning & Development Department', 'P&D',
     'محکمہ منصوبہ بندی و ترقی', 'P&D', 5,
     ('Annual Development Programme', 'PC-I', 'foreign funded projects')),
    ('establishment', 'Establishment Department', 'ESTD', 'محکمہ اسٹیبلشمنٹ', 'Establishment',
     5, ('promotions', 'seniority list', 'disciplinary proceedings')),
    ('administration', 'Administration Department', 'AD', 'محکمہ انتظامیہ', 'Administration',
     2, ('Civil Secretariat', 'official vehicles', 'residential accommodation')),
    ('law', 'Law, Parliamentary Affairs & Human Rights Department', 'LAW',
     'محکمہ قانون، پارلیمانی امور و انسانی حقوق', 'Law', 3,
     ('draft bill', 'legal opinion', 'writ petitions')),
    ('excise', 'Excise, Taxation & Narcotics Control Department', 'ETN',
     'محکمہ ایکسائز، ٹیکسیشن و انسداد منشیات', 'Excise', 2,
     ('motor vehicle tax', 'property tax', 'narcotics control')),
    ('forestry', 'Climate Change, Forestry, Environment & Wildlife Department', 'CFE',
     'محکمہ موسمیاتی تبدیلی، جنگلات، ماحولیات و جنگلی حیات', 'Forestry', 2,
     ('tree plantation', 'timber', 'national parks')),
    ('food', 'Food Department', 'FOOD', 'محکمہ خوراک', 'Food', 2,
     ('wheat procurement', 'flour mills', 'food godowns')),
    ('industries', 'Industries, Commerce & Technical Education Department', 'ICT',
     'محکمہ صنعت، تجارت و فنی تعلیم', 'Industries', 2,
     ('industrial estates', 'technical colleges', 'small industries')),
    ('information', 'Information & Public Relations Department', 'IPR',
     'محکمہ اطلاعات و تعلقات عامہ', 'Information', 1.5, ('advertisements', 'press clubs')),
    ('labour', 'Labour Department', 'LD', 'محکمہ محنت', 'Labour', 1,
     ('minimum wage', 'workers welfare')),
    ('mines', 'Mines & Minerals Development Department', 'MMD', 'محکمہ معدنیات', 'Mines', 1.5,
     ('mining leases', 'marble')),
    ('population', 'Population Welfare Department', 'PWD', 'محکمہ بہبود آبادی',
     'Population Welfare', 1, ('family welfare centres',)),
    ('public-health', 'Public Health Engineering Department', 'PHE',
     'محکمہ پبلک ہیلتھ انجینئرنگ', 'PHE', 2, ('water supply schemes', 'tube wells')),
    ('relief', 'Relief, Rehabilitation & Settlement Department', 'RRS',
     'محکمہ ریلیف، بحالی و آبادکاری', 'Relief', 1.5,
     ('flood relief', 'compensation to affectees')),
    ('social-welfare', 'Social Welfare, Special Education & Women Empowerment Department',
     'SWD', 'محکمہ سماجی بہبود، خصوصی تعلیم و ترقی نسواں', 'Social Welfare', 1.5,
     ('special education', 'women shelter homes')),
    ('transport', 'Transport & Mass Transit Department', 'TMT', 'محکمہ ٹرانسپورٹ و ماس ٹرانزٹ',
     'Transport', 1.5, ('bus rapid transit', 'route permits')),
    ('auqaf', 'Auqaf, Hajj, Religious & Minority Affairs Department', 'AHR',
     'محکمہ اوقاف، حج، مذہبی و اقلیتی امور', 'Auqaf', 1,
     ('repair of mosques', 'minority scholarships')),
    ('housing', 'Housing Department', 'HSG', 'محکمہ ہاؤسنگ', 'Housing', 1,
     ('housing schemes', 'apartments')),
    ('culture-tourism', 'Culture, Tourism, Archaeology & Museums Department', 'CTA',
     'محکمہ ثقافت، سیاحت، آثار قدیمہ و عجائب گھر', 'Tourism', 1.5,
     ('tourist resorts', 'museums', 'archaeological sites')),
    ('inter-provincial', 'Inter-Provincial Coordination Department', 'IPC',
     'محکمہ بین الصوبائی رابطہ', 'IPC', 0.5, ('inter-provincial meetings',)),
    ('zakat', 'Zakat & Ushr Department', 'ZU', 'محکمہ زکوٰۃ و عشر', 'Zakat', 1,
     ('zakat distribution', 'guzara allowance')),
    ('prosecution', 'Public Prosecution Department', 'PPD', 'محکمہ استغاثہ', 'Prosecution', 1,
     ('public prosecutors', 'criminal appeals')),
    ('cooperatives', 'Cooperative Department', 'COOP', 'محکمہ امداد باہمی', 'Cooperatives',
     0.5, ('cooperative societies',)),
    ('archives', 'Archives & Libraries Department', 'ARCH', 'محکمہ آرکائیوز و لائبریریز',
     'Archives', 0.5, ('public libraries', 'digitisation of records')),
)
MAX_DEPARTMENTS = len(DEMO_DEPARTMENTS) + len(PROVINCE)

# kind of post: designation, in Urdu, the role it confers, and its share of a department's
# posts beyond the least each department has (``MINIMUM``)
POST_KINDS = {
    'secretary': ('Secretary', 'سیکرٹری', 'approver', 0),
    'as': ('Additional Secretary', 'ایڈیشنل سیکرٹری', 'approver', 1),
    'ds': ('Deputy Secretary', 'ڈپٹی سیکرٹری', 'officer', 3),
    'so': ('Section Officer', 'سیکشن آفیسر', 'officer', 10),
    'records': ('Records Clerk', 'ریکارڈ کلرک', 'records_clerk', 1),
    'diary': ('Diary Clerk', 'ڈائری کلرک', 'diary_clerk', 1),
}
MINIMUM = {'secretary': 1, 'as': 1, 'ds': 1, 'so': 2, 'records': 1, 'diary': 1}
SECTIONS = (('General', 'جنرل'), ('Budget', 'بجٹ'), ('Establishment', 'اسٹیبلشمنٹ'),
            ('Development', 'ترقیات'), ('Litigation', 'قانونی امور'), ('Accounts', 'حسابات'),
            ('Procurement', 'خریداری'), ('Coordination', 'رابطہ'),
            ('Planning', 'منصوبہ بندی'), ('Administration', 'انتظامیہ'))
ROMAN = ('', '-II', '-III', '-IV', '-V', '-VI', '-VII', '-VIII')
FIRST_NAMES = ('Muhammad', 'Ahmad', 'Ali', 'Hamid', 'Zahid', 'Sajid', 'Tariq', 'Asif', 'Waqas',
               'Fazal', 'Nasir', 'Shahid', 'Arshad', 'Irfan', 'Junaid', 'Kashif', 'Imtiaz',
               'Faisal', 'Usman', 'Bilal', 'Ayesha', 'Fatima', 'Sadia', 'Nabila', 'Rukhsana',
               'Samina', 'Uzma', 'Saima', 'Farah', 'Mehwish', 'Zainab', 'Hina')
SURNAMES = ('Khan', 'Afridi', 'Khattak', 'Yousafzai', 'Durrani', 'Shah', 'Bangash', 'Mohmand',
            'Orakzai', 'Wazir', 'Marwat', 'Gandapur', 'Kundi', 'Tareen', 'Swati', 'Jadoon',
            'Tanoli', 'Qureshi', 'Awan', 'Hussain', 'Kakakhel', 'Mahsud', 'Shinwari', 'Achakzai')
FINANCE_SECRETARY = 'secretary-finance'
BUSY_OFFICER = 'so-budget-finance'
# the desks where files pile up: the chance that a file reaching one waits there still
BUSY_DESKS = {BUSY_OFFICER: 0.05, FINANCE_SECRETARY: 0.02}
CHIEF_SECRETARY, CHIEF_MINISTER = 'chief-secretary', 'chief-minister'


class Department:
    """One department of the plan: its names, its share of the files, its posts by kind
    (post ids, in order) and the login holding each post."""

    def __init__(self, name, title, code, title_ur, short, weight, topics):
        self.name, self.title, self.code, self.title_ur = name, title, code, title_ur
        self.short, self.weight, self.topics = short, weight, topics
        self.slug = re.sub(r'[^a-z0-9]', '', code.lower())
        self.posts = {kind: [] for kind in POST_KINDS}
        self.titles = {}   # post id -> (title, title in Urdu, role)

    def wing(self, so_post):
        """The Deputy and Additional Secretary above a Section Officer's post."""
        n = self.posts['so'].index(so_post)
        ds = self.posts['ds'][n % len(self.posts['ds'])]
        return ds, self.posts['as'][self.posts['ds'].index(ds) % len(self.posts['as'])]


def plan_province(departments, people):
    """The province for ``departments`` departments and about ``people`` users: a
    :class:`Department` for each, and ``{post id: login}`` for every post.  The same
    arguments give the same plan (it is not stored: a resumed build makes it again)."""
    shapes = [(name, title, code, title_ur) + DEMO_SHAPE[name]
              for name, title, code, title_ur in DEMO_DEPARTMENTS]
    depts = [Department(*shape) for shape in (shapes + list(PROVINCE))[:departments]]
    holders = {post_id: login for login, _n, _r, posts in DEMO_USERS for post_id in posts}
    demo_kind = {'officer': 'so', 'records_clerk': 'records', 'diary_clerk': 'diary'}
    by_name = {d.name: d for d in depts}
    for post_id, title, dept, roles, title_ur in DEMO_POSTS:
        if dept in by_name and post_id != CHIEF_MINISTER:  # (the CM is nobody's staff)
            kind = demo_kind.get(roles[0], 'secretary')
            by_name[dept].posts[kind].append(post_id)
            by_name[dept].titles[post_id] = None  # (made by kpw init --demo)
    spare = max(0, people - len(DEMO_USERS) - sum(MINIMUM.values()) * len(depts))
    total_weight = sum(d.weight for d in depts)
    kind_weight = sum(k[3] for k in POST_KINDS.values())
    for d in depts:
        extra = spare * d.weight / total_weight
        for kind, (title, title_ur, role, share) in POST_KINDS.items():
            wanted = MINIMUM[kind] + round(extra * share / kind_weight)
            for n in range(len(d.posts[kind]), wanted):
                post_id = f'{kind}-{n + 1}-{d.slug}' if kind != 'secretary' \
                    else f'secretary-{d.slug}'
                login = f'{kind}.{d.slug}.{n + 1}' if kind != 'secretary' \
                    else f'secretary.{d.slug}'
                d.posts[kind].append(post_id)
                d.titles[post_id] = _post_titles(d, kind, n, title, title_ur) + (role,)
                holders[post_id] = login
    return depts, holders


def _post_titles(dept, kind, n, title, title_ur):
    if kind == 'secretary':
        return f'{title} {dept.short}', f'{title_ur}، {dept.title_ur}'
    if kind in ('records', 'diary'):
        return f'{title} ({n + 1}), {dept.short}', f'{title_ur} ({n + 1})، {dept.title_ur}'
    section, section_ur = SECTIONS[n % len(SECTIONS)]
    suffix = ROMAN[min(n // len(SECTIONS), len(ROMAN) - 1)]
    return (f'{title} ({section}{suffix}), {dept.short}',
            f'{title_ur} ({section_ur}{suffix})، {dept.title_ur}')


def person_name(login):
    r = random.Random(login)
    return f'{r.choice(FIRST_NAMES)} {r.choice(SURNAMES)}'


def build_people(site, actor, depts, holders):
    """Add whatever of the plan's departments, posts and users is missing (so a build
    that stopped half-way is completed).  :returns: how many users were added."""
    departments, principals = site['departments'], site['principals']
    added = 0
    for d in depts:
        if d.name not in departments:
            add_department(departments, actor, d.name, d.title, d.code, d.title_ur)
        for kind in POST_KINDS:
            for post_id in d.posts[kind]:
                if post_id not in principals.posts:
                    title, title_ur, role = d.titles[post_id]
                    principals.add_post(actor, departments, post_id, title, d.name, (role,),
                                        title_ur)
                login = holders[post_id]
                if login not in principals.users:
                    principals.add_user(actor, login, person_name(login), DEMO_PASSWORD,
                                        email=f'{login}@kp.gov.pk.example')
                    added += 1
                post = principals.posts[post_id]
                if login not in post.holders:
                    principals.assign(actor, post, principals.users[login])
    return added


# What files say ------------------------------------------------------------------------
DISTRICTS = (('Peshawar', 'پشاور'), ('Mardan', 'مردان'), ('Swat', 'سوات'),
             ('Abbottabad', 'ایبٹ آباد'), ('Kohat', 'کوہاٹ'), ('Bannu', 'بنوں'),
             ('Dera Ismail Khan', 'ڈیرہ اسماعیل خان'), ('Charsadda', 'چارسدہ'),
             ('Nowshera', 'نوشہرہ'), ('Mansehra', 'مانسہرہ'), ('Chitral', 'چترال'),
             ('Swabi', 'صوابی'), ('Haripur', 'ہری پور'), ('Karak', 'کرک'), ('Buner', 'بونیر'),
             ('Khyber', 'خیبر'), ('Bajaur', 'باجوڑ'), ('Lakki Marwat', 'لکی مروت'))
CADRES = ('Section Officers', 'Assistant Directors', 'senior clerks', 'drivers',
          'computer operators', 'Assistant Engineers', 'lecturers', 'medical officers')
ITEMS = ('two vehicles', 'computers and printers', 'office furniture', 'a generator',
         'stationery', 'air conditioners')
SUBJECTS = (
    'Release of funds for {topic} in District {district}',
    'Budget estimates {fy}: {topic}',
    'Audit para No. {n} of the audit report {fy} on {topic}',
    'Purchase of {item} for {topic}',
    'Appointment of {cadre} on contract basis for {topic}',
    'Revision of pension of {name} (retired)',
    'Writ petition No. {n}/{year}, {name} versus Government of Khyber Pakhtunkhwa',
    'Re-appropriation of funds for {topic}',
    'Transfer and posting of {cadre}, District {district}',
    'Inquiry into a complaint about {topic}, District {district}',
    'Annual Development Programme {fy}: {topic} in District {district}',
    'Grant of earned leave to {name}',
    'Repair and maintenance of {topic}, District {district}',
)
NOTES = {
    'open': ('The case regarding "{subject}" is submitted for perusal.',
             'The letter of the District {district} office placed at flag {flag} may kindly '
             'be seen.',
             'The Accountant General has confirmed that funds of Rs. {amount} million are '
             'available under the relevant head of account.',
             'The proposal is in line with the rules and the instructions of {date}.'),
    'examine': ('Para {para} above may kindly be seen.',
                'We may seek the concurrence of the Finance Department before approval.',
                'The proposal appears justified and is submitted for approval, please.',
                'The case has been examined; the estimate of Rs. {amount} million is '
                'reasonable.'),
    'again': ('Please re-examine the case in the light of the rules and put up again.',
              'The deficiencies pointed out at para {para} have been removed.'),
    'approve': ('Approved as proposed at para {para}.', 'Approved.',
                'Secretary may kindly see.', 'Agreed with the proposal at para {para}.',
                'Please process the case as per rules.'),
    'concur': ('Finance Department concurs in the proposal subject to the availability of '
               'funds in the budget {fy}.',
               'The Budget Wing has no objection to the re-appropriation of Rs. {amount} '
               'million.'),
    'close': ('Necessary action has been taken; the file may be placed in the record room.',
              'Letter issued to all concerned; the file may be closed.'),
}
URDU_NOTES = ('مذکورہ معاملہ منظوری کے لیے پیش ہے۔',
              'ضلع {district_ur} کے دفتر سے موصولہ خط کی نقل منسلک ہے۔',
              'فنڈز کی فراہمی کے لیے محکمہ خزانہ سے رجوع کیا جائے۔',
              'پنشن کے کیس کی جانچ پڑتال مکمل ہو چکی ہے، منظوری دی جائے۔',
              'ترقیاتی منصوبے پر کام کی رفتار تسلی بخش ہے۔',
              'قواعد کے مطابق کارروائی کی جائے۔',
              'منظور ہے۔')
URDU_SHARE = 0.15
DRAFT_KINDS = ('letter', 'office_order', 'notification', 'memorandum')
DECISIONS = ('approved', 'approved', 'approved', 'approved_with_changes', 'returned', 'seen')
# the searches measured (words the files above use), English and Urdu
QUERIES = ('pension', 'budget estimates', 'audit para', 'hospital', 'Peshawar', 'earned leave',
           'writ petition', 'Annual Development Programme', 'release of funds', 'پنشن',
           'منظوری', 'ترقیاتی منصوبے')


def letter_pdf(lines):
    """A valid one-page PDF whose text (Helvetica, ASCII) is ``lines``, built directly
    (a few hundred bytes, in microseconds; pypdf reads its text back)."""
    def literal(text):
        text = text.encode('ascii', 'replace').decode()
        return text.replace('\\', '\\\\').replace('(', '\\(').replace(')', '\\)')
    ops = ['BT /F1 11 Tf 14 TL 72 770 Td'] + [f'({literal(line)}) Tj T*' for line in lines]
    content = ('\n'.join(ops) + '\nET').encode()
    objects = [b'<< /Type /Catalog /Pages 2 0 R >>',
               b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
               b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] '
               b'/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
               b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica '
               b'/Encoding /WinAnsiEncoding >>',
               b'<< /Length %d >>\nstream\n' % len(content) + content + b'\nendstream']
    out, offsets = bytearray(b'%PDF-1.4\n'), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b'%d 0 obj\n' % n + body + b'\nendobj\n'
    xref = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1)
    out += b''.join(b'%010d 00000 n \n' % offset for offset in offsets)
    out += b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (
        len(objects) + 1, xref)
    return bytes(out)


# Filling ------------------------------------------------------------------------------
class Paused(Exception):
    """The file's story stops here: its next step would be in the future, or it is one
    of the files that stay stuck on a desk."""


class simulated_clock:
    """``with simulated_clock() as clock:`` every name in kp_workspace bound to the
    domain's clock (``movable.now``, imported into the workflows and content types)
    reads ``clock.at`` instead; restored on leaving."""

    def __enter__(self):
        self.clock, self.real = Clock(), movable.now
        self.patched = [m for name, m in sys.modules.items()
                        if name.startswith('kp_workspace') and getattr(m, 'now', None)
                        is self.real]
        for module in self.patched:
            module.now = self.clock
        return self.clock

    def __exit__(self, *exc):
        for module in self.patched:
            module.now = self.real


class Filler:
    """Writes files ``i`` into one transaction's site through the domain; what file
    ``i`` becomes depends only on ``(seed, i)``, so a resumed build goes on exactly as
    an uninterrupted one would have."""

    def __init__(self, site, actor, clock, depts, holders, settings, seed, years, counts):
        self.site, self.actor, self.clock = site, actor, clock
        self.depts, self.holders, self.seed, self.years = depts, holders, seed, years
        self.signing = context_from_settings(settings)
        self.counts = counts
        self.officers = {}
        self.weights = [d.weight for d in depts]
        self.finance = next(d for d in depts if d.name == 'finance')
        self.real_now = datetime.datetime.now(datetime.timezone.utc)

    # people and time ------------------------------------------------------------------
    def officer(self, post_id, item=None):
        """The holder of ``post_id`` as an Officer; having opened ``item`` (the file page
        marks the alerts about it read), as anyone acting on it has."""
        login = self.holders.get(post_id) or self.site['principals'].posts[post_id].holders[0]
        found = self.officers.get(login)
        if found is None:
            user = self.site['principals'].users[login]
            found = self.officers[login] = Officer(user, self.site, self.actor)
        if item is not None:
            read_alerts_about(self.site, login, item.id)
        return found

    def wait(self, rng, low, high):
        """Let ``low``..``high`` days pass.  :raises Paused: that is in the future, or the
        file's story stops here."""
        self.clock.at += rng.uniform(low, high) * DAY
        self.steps += 1
        if self.clock.at >= self.real_now or self.steps == self.stuck_at:
            raise Paused()

    # text -------------------------------------------------------------------------------
    def words(self, rng, dept):
        district, district_ur = rng.choice(DISTRICTS)
        year = self.clock.at.year
        return {'topic': rng.choice(dept.topics), 'district': district,
                'district_ur': district_ur, 'n': rng.randint(1, 400), 'year': year,
                'fy': f'{year}-{(year + 1) % 100:02d}', 'item': rng.choice(ITEMS),
                'cadre': rng.choice(CADRES), 'name': person_name(str(rng.random())),
                'amount': f'{rng.uniform(0.5, 250):.2f}', 'para': rng.randint(1, 12),
                'flag': 'ABCDEFG'[rng.randrange(7)],
                'date': (self.clock.at - rng.randint(30, 900) * DAY).strftime('%d %B %Y')}

    def note(self, rng, item, post_id, stage, words):
        if rng.random() < URDU_SHARE:
            text = rng.choice(URDU_NOTES).format(**words)
            self.counts['urdu notes'] += 1
        else:
            text = ' '.join(rng.choice(NOTES[stage]) for _ in range(rng.randint(1, 3)))
            text = text.format(subject=item.subject, **words)
        movable.write_note(item, self.officer(post_id, item), text)
        self.counts['notes'] += 1

    def forward(self, item, from_post, to_post, remarks='', rng=None):
        """Move ``item`` on.  :raises Paused: (with ``rng``) it reached a busy desk and
        waits there still."""
        CASEFILE.run(item, 'forward', self.officer(from_post, item), to_post=to_post,
                     remarks=remarks)
        self.counts['forwards'] += 1
        if rng is not None and rng.random() < BUSY_DESKS.get(to_post, 0):
            raise Paused()

    def attach_letter(self, rng, item, post_id, dept, words):
        seq = len(item.attachments) + 1
        lines = ['Government of Khyber Pakhtunkhwa', dept.title,
                 f'No. {dept.code}/{words["n"]}/{words["year"]}',
                 f'Dated Peshawar, the {self.clock.at:%d %B %Y}', 'To', 'The Secretary',
                 f'Subject: {item.subject}', '',
                 f'I am directed to refer to the subject noted above and to state that the '
                 f'District {words["district"]} office',
                 f'has requested Rs. {words["amount"]} million for {words["topic"]}.',
                 'The necessary documents are enclosed for further action.',
                 'Section Officer']
        attach(item, self.officer(post_id, item), io.BytesIO(letter_pdf(lines)),
               f'letter-{seq}.pdf', title=f'Letter from District {words["district"]} ({seq})')
        self.counts['attachments'] += 1

    # one file -------------------------------------------------------------------------
    def file(self, i):
        """Make file ``i`` (and, for some ``i``, a summary or an issued document)."""
        rng = random.Random(self.seed * 1_000_003 + i)
        self.counts['files'] += 1
        if i % 1000 == 7:
            return self.issued_document(rng, i)
        dept = rng.choices(self.depts, self.weights)[0]
        sos = dept.posts['so']
        so = BUSY_OFFICER if dept is self.finance and rng.random() < 0.3 else rng.choice(sos)
        archive = rng.random() > 0.08
        age = rng.uniform(90, 365 * self.years) if archive else rng.uniform(0, 90)
        self.clock.at = self.real_now - age * DAY
        self.steps, self.stuck_at = 0, (rng.randint(1, 9) if rng.random() < 0.03 else None)
        words = self.words(rng, dept)
        item = open_file(self.site['departments'][dept.name], self.officer(so),
                         rng.choice(SUBJECTS).format(**words),
                         classification=rng.choices(('routine', 'confidential', 'secret'),
                                                    (94, 5, 1))[0],
                         priority=rng.choices(('routine', 'urgent', 'immediate'), (80, 15, 5))[0],
                         post_id=so)
        try:
            self.journey(rng, item, dept, so, words)
        except Paused:
            self.counts['open files'] += 1
        if i % 500 == 5:
            self.summary(rng, dept, so, decided=True)
        elif i % 1000 == 9:
            self.summary(rng, dept, so, decided=False)

    def journey(self, rng, item, dept, so, words):
        """Up the chain, perhaps to Finance for concurrence, down again, closed."""
        self.note(rng, item, so, 'open', words)
        for _ in range(rng.choices((0, 1, 2), (70, 22, 8))[0]):
            self.attach_letter(rng, item, so, dept, words)
        if rng.random() < 0.03:  # a draft begun and never put up
            add_draft(item, self.officer(so, item), 'letter', f'Reply: {item.subject}'[:300],
                      'With reference to your letter, I am directed to say that the matter '
                      'is under consideration.')
            self.counts['drafts'] += 1
        ds, add = dept.wing(so)
        self.wait(rng, 0.1, 2)
        self.forward(item, so, ds, 'For examination, please.', rng=rng)
        self.wait(rng, 0.3, 4)
        self.note(rng, item, ds, 'examine', words)
        if rng.random() < 0.2:  # back to the Section Officer, and up again
            self.forward(item, ds, so, rng=rng)
            self.wait(rng, 0.3, 3)
            self.note(rng, item, so, 'again', words)
            self.forward(item, so, ds, rng=rng)
            self.wait(rng, 0.3, 3)
        secretary = dept.posts['secretary'][0]
        if rng.random() < 0.7:
            self.forward(item, ds, add, rng=rng)
            self.wait(rng, 0.3, 4)
            self.note(rng, item, add, 'approve', words)
            top = add
            if rng.random() < 0.6:
                self.forward(item, add, secretary, rng=rng)
                self.wait(rng, 0.5, 6)
                self.note(rng, item, secretary, 'approve', words)
                top = secretary
        else:
            self.forward(item, ds, secretary, rng=rng)
            self.wait(rng, 0.5, 6)
            self.note(rng, item, secretary, 'approve', words)
            top = secretary
        if top == secretary and dept is not self.finance and rng.random() < 0.2:
            self.concurrence(rng, item, secretary, words)
        self.forward(item, top, so, 'Please process further.', rng=rng)
        self.wait(rng, 0.2, 3)
        self.note(rng, item, so, 'close', words)
        CASEFILE.run(item, 'close', self.officer(so, item))
        self.counts['closed files'] += 1

    def concurrence(self, rng, item, secretary, words):
        """To the Secretary Finance, who marks it to a Section Officer of Finance (the
        Budget one half the time) and sends it back with the concurrence."""
        fin = self.finance
        self.forward(item, secretary, FINANCE_SECRETARY, 'For concurrence, please.', rng=rng)
        self.wait(rng, 0.5, 5)
        fso = BUSY_OFFICER if rng.random() < 0.5 else rng.choice(fin.posts['so'])
        self.forward(item, FINANCE_SECRETARY, fso, rng=rng)
        self.wait(rng, 0.3, 4)
        self.note(rng, item, fso, 'concur', words)
        self.forward(item, fso, FINANCE_SECRETARY, rng=rng)
        self.wait(rng, 0.3, 4)
        self.note(rng, item, FINANCE_SECRETARY, 'approve', words)
        self.forward(item, FINANCE_SECRETARY, secretary, rng=rng)
        self.wait(rng, 0.3, 4)
        self.note(rng, item, secretary, 'approve', words)

    def issued_document(self, rng, i):
        """A Finance file whose draft is approved, signed by the Secretary Finance and
        issued (signing is slow: one in 1,000 files)."""
        fin, so = self.finance, BUSY_OFFICER
        self.clock.at = self.real_now - rng.uniform(30, 365 * self.years) * DAY
        self.steps, self.stuck_at = 0, None
        words = self.words(rng, fin)
        item = open_file(self.site['departments'][fin.name], self.officer(so),
                         rng.choice(SUBJECTS).format(**words), post_id=so)
        self.note(rng, item, so, 'open', words)
        kind = DRAFT_KINDS[(i // 1000) % len(DRAFT_KINDS)]
        draft = add_draft(item, self.officer(so, item), kind, item.subject,
                          'In pursuance of the approval of the competent authority, '
                          f'Rs. {words["amount"]} million are released for {words["topic"]} '
                          f'in District {words["district"]} for the financial year '
                          f'{words["fy"]}.', addressees='The Accountant General, Khyber '
                          'Pakhtunkhwa', copies='PS to Secretary Finance')
        DRAFT_WORKFLOW.run(draft, 'submit', self.officer(so, item))
        self.forward(item, so, FINANCE_SECRETARY, 'Draft for approval and signature.')
        self.clock.at += rng.uniform(0.5, 3) * DAY
        secretary = self.officer(FINANCE_SECRETARY, item)
        DRAFT_WORKFLOW.run(draft, 'approve', secretary)
        DRAFT_WORKFLOW.run(draft, 'sign', secretary, pin=DEMO_PIN, signing=self.signing)
        DRAFT_WORKFLOW.run(draft, 'issue', secretary)
        self.counts['drafts'] += 1
        self.counts['issued documents'] += 1
        self.forward(item, FINANCE_SECRETARY, so, 'Issued.')
        self.clock.at += rng.uniform(0.2, 2) * DAY
        self.note(rng, item, so, 'close', words)
        CASEFILE.run(item, 'close', self.officer(so, item))
        self.counts['closed files'] += 1

    def summary(self, rng, dept, so, decided):
        """A summary for the Chief Minister: up through the Secretary and the Chief
        Secretary; decided and signed by the CM, then filed or carried out by a new file
        (``decided``), or still on its way."""
        self.clock.at = self.real_now - (rng.uniform(60, 365 * self.years) if decided
                                         else rng.uniform(0, 20)) * DAY
        self.steps = 0
        self.stuck_at = None if decided else rng.randint(1, 3)
        words = self.words(rng, dept)
        item = initiate_summary(
            self.site['departments'][dept.name], self.officer(so),
            f'Summary for the Chief Minister: {words["topic"]}, District {words["district"]}',
            f'The {words["topic"]} in District {words["district"]} needs Rs. '
            f'{words["amount"]} million in the financial year {words["fy"]}.',
            f'Approval may be accorded to the release of Rs. {words["amount"]} million.',
            'Approval of the proposal at para 2.',
            financial_implications=f'Rs. {words["amount"]} million from the provincial '
                                   'budget.')
        self.counts['summaries'] += 1
        secretary = dept.posts['secretary'][0]
        try:
            SUMMARY.run(item, 'submit', self.officer(so, item), to_post=secretary)
            self.wait(rng, 0.5, 4)
            self.note(rng, item, secretary, 'approve', words)
            if secretary != CHIEF_SECRETARY:
                SUMMARY.run(item, 'forward', self.officer(secretary, item),
                            to_post=CHIEF_SECRETARY)
                self.wait(rng, 0.5, 4)
                self.note(rng, item, CHIEF_SECRETARY, 'approve', words)
            SUMMARY.run(item, 'put_up', self.officer(CHIEF_SECRETARY, item),
                        to_post=CHIEF_MINISTER)
            self.wait(rng, 0.5, 6)
        except Paused:
            return
        SUMMARY.run(item, 'decide', self.officer(CHIEF_MINISTER, item),
                    decision=rng.choice(DECISIONS), remarks='', pin=DEMO_PIN,
                    signing=self.signing)
        self.counts['summaries decided'] += 1
        self.clock.at += rng.uniform(0.5, 3) * DAY
        if rng.random() < 0.5:
            SUMMARY.run(item, 'open_implementing_file', self.officer(so, item))
            self.counts['implementing files'] += 1
        else:
            SUMMARY.run(item, 'file_decided', self.officer(so, item))


class Stopped(Exception):
    """The build stopped before the size asked for (the reason is the message)."""


def open_app(config):
    """The application of ``config`` in this process, without its indexer thread (the
    search queue fills as files are made; :func:`index_queue` drains it)."""
    settings = get_appsettings(config)
    return make_wsgi_app(settings.global_conf, **{**settings, 'kp_workspace.indexer': 'off'})


def read_state(app):
    """What this command built in the database so far (None: nothing yet)."""
    conn = app.registry._zodb_databases[''].open()
    try:
        state = conn.root().get(STATE_KEY)
        return dict(state, counts=dict(state['counts'])) if state is not None else None
    finally:
        conn.transaction_manager.abort()
        conn.close()


def _session(app):
    """A new transaction manager and connection on the main database."""
    tm = transaction.TransactionManager()
    return tm, app.registry._zodb_databases[''].open(transaction_manager=tm)


def _trim(conn):
    """Empty the caches of the connection and its audit connection (bounded memory)."""
    conn.cacheMinimize()
    conn.get_connection('audit').cacheMinimize()
    conn.close()


def build_province(app, args, log):
    """The departments, posts and users of the plan, and the state record.
    :returns: the state (as stored)."""
    depts, holders = plan_province(args.departments, args.people)
    state = read_state(app)
    if state is not None and state.get('people done'):
        return state
    start = time.perf_counter()
    added = 0
    chunks = [depts[n:n + 4] for n in range(0, len(depts), 4)]
    for n, chunk in enumerate(chunks, 1):
        tm, conn = _session(app)
        try:
            with tm:
                site = conn.root()[ROOT_KEY]
                actor = Actor('benchmark', '127.0.0.1', ensure_audit_log(conn))
                added += build_people(site, actor, chunk, holders)
        finally:
            _trim(conn)
        log(f'people: {n * 4 if n < len(chunks) else len(depts)} of {len(depts)} '
            f'departments, {added} users added ({time.perf_counter() - start:.0f} s)')
    tm, conn = _session(app)
    try:
        with tm:
            root = conn.root()
            site = root[ROOT_KEY]
            root[STATE_KEY] = PersistentMapping({
                'seed': args.seed, 'departments': args.departments, 'people': args.people,
                'years': args.years, 'files': 0, 'people done': True,
                'people seconds': round(time.perf_counter() - start, 1),
                'users': len(site['principals'].users), 'posts': len(site['principals'].posts),
                'counts': collections.Counter()})
    finally:
        _trim(conn)
    return read_state(app)


def build_files(app, state, stop_at, batch, checks, log):
    """Files ``state['files']``..``stop_at``, ``batch`` a transaction, each batch
    committed with the new count (so a stop loses at most the batch under way).

    One connection serves the whole build; after each commit its cache is brought
    back to the configured number of objects (``cacheGC``: the least recently used
    go), so memory stays bounded while the users, posts and registers every file
    touches stay loaded (emptying the cache after each batch reloaded about 35
    objects a file).

    :param checks: called before each batch; raises :class:`Stopped` to stop.
    :returns: ``(files added, seconds, peak RSS MB of this process)``.
    """
    depts, holders = plan_province(state['departments'], state['people'])
    settings = app.registry.kpw_settings
    start_count, start = state['files'], time.perf_counter()
    done, shown = start_count, 0.0
    manager.push({'registry': app.registry, 'request': None})  # (ItemChanged -> the queue)
    tm, conn = _session(app)
    try:
        with simulated_clock() as clock:
            tm.begin()
            root = conn.root()
            filler = Filler(root[ROOT_KEY], Actor('benchmark', '127.0.0.1',
                                                  ensure_audit_log(conn)),
                            clock, depts, holders, settings, root[STATE_KEY]['seed'],
                            root[STATE_KEY]['years'], None)
            while done < stop_at:
                checks(done)
                with tm:
                    stored = root[STATE_KEY]
                    filler.counts = counts = collections.Counter(stored['counts'])
                    for i in range(done, min(stop_at, done + batch)):
                        filler.file(i)
                    stored['files'] = min(stop_at, done + batch)
                    stored['counts'] = counts
                done = min(stop_at, done + batch)
                state.update(files=done, counts=dict(counts))
                conn.cacheGC()
                conn.get_connection('audit').cacheGC()
                seconds = time.perf_counter() - start
                if seconds - shown >= 10 or done == stop_at:
                    shown = seconds
                    log(f'files: {done:,} of {stop_at:,} ({(done - start_count) / seconds:.0f} '
                        f'files/s, RSS {rss_mb(os.getpid()):.0f} MB)')
    finally:
        tm.abort()
        conn.close()
        manager.pop()
    return done - start_count, time.perf_counter() - start, peak_rss_mb()


# Processes, disk and memory ------------------------------------------------------------
def proc_status_mb(pid, field):
    """A memory figure of process ``pid`` (``VmRSS``: now, ``VmHWM``: its peak) in MB;
    0 when the process is gone."""
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mb(pid):
    return proc_status_mb(pid, 'VmRSS')


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def group_processes(pgid):
    """``[(pid, command, RSS MB)]`` of the processes in process group ``pgid``."""
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open(f'/proc/{name}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            with open(f'/proc/{name}/cmdline', 'rb') as f:
                argv = f.read().split(b'\0')
        except (OSError, IndexError, ValueError):
            continue
        command = ' '.join(os.path.basename(a.decode(errors='replace')) for a in argv[:3] if a)
        found.append((int(name), command, round(rss_mb(int(name)), 1)))
    return sorted(found)


def run_child(argv, timeout, log_path):
    """Run a command of this environment to its end, its standard error appended to
    ``log_path``.  :returns: ``(exit status, seconds, peak RSS MB of the child, its
    standard output)``.  :raises Stopped: it ran past ``timeout`` seconds (killed)."""
    env = {**os.environ, 'PYTHONPATH': ROOT}
    env.pop('KPW_VAR_DIR', None)
    start, peak = time.perf_counter(), 0.0
    with open(log_path, 'a') as err, tempfile.TemporaryFile('w+') as out:
        err.write(f'\n===== {" ".join(argv)} =====\n')
        err.flush()
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err,
                                   start_new_session=True)
        deadline = time.monotonic() + timeout
        while process.poll() is None:
            # (its own high-water mark: a forked child's rusage starts from the parent's)
            peak = max(peak, proc_status_mb(process.pid, 'VmHWM'))
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise Stopped(f'{" ".join(argv[-2:])} ran past the time left ({timeout:.0f} s)')
            time.sleep(0.1)
        out.seek(0)
        output = out.read()
        err.write(output)
    return process.returncode, time.perf_counter() - start, peak, output


def disk_figures(var):
    """Sizes in MB of the data directory's parts."""
    def tree(path):
        total = count = 0
        for folder, _dirs, names in os.walk(path):
            for name in names:
                try:
                    total += os.path.getsize(os.path.join(folder, name))
                    count += 1
                except OSError:
                    pass
        return total / 2**20, count
    blobs, blob_files = tree(os.path.join(var, 'blobs'))
    index, _ = tree(os.path.join(var, 'search'))

    def size(name):
        path = os.path.join(var, name)
        return os.path.getsize(path) / 2**20 if os.path.exists(path) else 0.0
    return {'Data.fs MB': round(size('Data.fs'), 1), 'Audit.fs MB': round(size('Audit.fs'), 1),
            'blobs MB': round(blobs, 1), 'blob files': blob_files,
            'index MB (live)': round(live_index_mb(os.path.join(var, 'search')), 1),
            'index MB (on disk)': round(index, 1)}


# The index ------------------------------------------------------------------------------
def index_queue(app):
    """Drain the search queue with the app's own indexer (as ``kpw indexer --once``
    does), then do the merges that are due (as the server's merger would).
    :returns: figures; the indexing rate counts the drain alone."""
    indexer, engine = app.registry.kpw_indexer, app.registry.kpw_search
    before, rss_before = engine.ix.doc_count(), rss_mb(os.getpid())
    start = time.perf_counter()
    entries = indexer.drain()
    seconds = time.perf_counter() - start
    if entries is None:
        raise Stopped('another process holds the search indexer\'s lock')
    try:
        segments = engine.segment_count()
        start = time.perf_counter()
        while engine.merges_due():
            engine.merge_step()
        merge_seconds = time.perf_counter() - start
    finally:
        indexer.release()
    docs = engine.ix.doc_count()
    return {'queue entries': entries, 'documents added': docs - before,
            'seconds': round(seconds, 1),
            'documents/s': round((docs - before) / seconds, 1) if seconds else None,
            'RSS MB before': round(rss_before), 'RSS MB after': round(rss_mb(os.getpid())),
            'peak RSS MB (the builder)': round(peak_rss_mb()),
            'merge seconds': round(merge_seconds, 1), 'segments before merges': segments,
            'segments': engine.segment_count(), 'documents': docs}


def rebuild_index(config, timeout, log_path):
    """``kpw reindex`` (a process).  :returns: its figures, with its peak RSS."""
    code, seconds, peak, output = run_child(
        [os.path.join(BIN, 'kpw'), '-c', config, 'reindex'], timeout, log_path)
    found = re.search(r'Reindexed (\d+) items \((\d+) documents\)', output)
    if code or not found:
        raise Stopped(f'kpw reindex failed (exit {code}); see {log_path}')
    docs = int(found.group(2))
    return {'items': int(found.group(1)), 'documents': docs,
            'seconds (the whole command)': round(seconds, 1),
            'documents/s': round(docs / seconds, 1), 'peak RSS MB': round(peak)}


# Over HTTP -------------------------------------------------------------------------------
SO_LOGIN, SECRETARY_LOGIN = 'so.finance', 'secretary.finance'
ROLES = (('section officer', SO_LOGIN, BUSY_OFFICER),
         ('secretary', SECRETARY_LOGIN, FINANCE_SECRETARY))
OPERATIONS = ('sign-in', 'inbox/section officer', 'inbox/secretary',
              'file page/section officer', 'file page/secretary',
              'add note/section officer', 'add note/secretary',
              'forward/section officer', 'forward/secretary',
              'search/section officer', 'search/secretary', 'dashboard/secretary')
FILE_LINK = re.compile(r'href="[^"]*/files/([0-9a-f]+)"')
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
POOL = 2  # files passed to and fro between the two officers (add note, forward)


class Probe:
    """Timed requests over one signed-in keep-alive connection; every answer that is
    not the one expected is kept as an error."""

    def __init__(self, port, login, times, errors):
        self.client = Client(port)
        self.login, self.times, self.errors = login, times, errors
        self.client.browser_sign_in(login, DEMO_PASSWORD)
        self.client.sign_in(login, DEMO_PASSWORD)  # (a token too, for the API's totals)
        self.csrf = None

    def request(self, op, method, path, form=None, expect=200, record=True):
        """:returns: the body as text (or None when the connection failed)."""
        body, headers = None, {}
        if form is not None:
            body = urllib.parse.urlencode({**form, 'csrf_token': self.csrf}).encode()
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        start = time.perf_counter()
        try:
            status, _res, data = self.client.raw(method, path, body, headers)
        except Exception as e:  # (a connection that failed is an error of the run)
            self.errors.append({'operation': op, 'path': path, 'error': repr(e)})
            return None
        ms = (time.perf_counter() - start) * 1000
        text = data.decode('utf-8', 'replace')
        if status != expect or 'Traceback' in text:
            self.errors.append({'operation': op, 'path': path, 'status': status,
                                'body': text[:300]})
        elif record:
            self.times[op].append(ms)
        if status == 200 and self.csrf is None:
            found = CSRF.search(text)
            self.csrf = found.group(1) if found else None
        return text

    def api(self, path):
        status, body = self.client.call('GET', path)
        if status != 200:
            self.errors.append({'operation': 'api', 'path': path, 'status': status})
            return {}
        return body


def file_ids(probe, path):
    """The file ids a list page of the probe's (``/inbox``, ``/sent``) links to, in order."""
    text = probe.request('lists', 'GET', path, record=False) or ''
    return list(dict.fromkeys(FILE_LINK.findall(text)))


def measure_http(port, reps, log):
    """Every operation of :data:`OPERATIONS` ``reps`` times, interleaved (so a load
    that comes and goes on the machine touches all alike), after a warm-up.
    :returns: ``(figures by operation, errors, extra facts)``."""
    times, errors = collections.defaultdict(list), []
    for n in range(-2, reps):  # sign-ins: a new connection each, through the login form
        login = ROLES[n % 2][1]
        client = Client(port)
        start = time.perf_counter()
        try:
            client.browser_sign_in(login, DEMO_PASSWORD)
            if n >= 0:  # (after two to warm up)
                times['sign-in'].append((time.perf_counter() - start) * 1000)
        except (AssertionError, OSError) as e:
            errors.append({'operation': 'sign-in', 'error': repr(e)[:300]})
        client.close()
    probes = {role: Probe(port, login, times, errors) for role, login, _post in ROLES}
    so, secretary = probes['section officer'], probes['secretary']
    held = {role: file_ids(probe, '/inbox') for role, probe in probes.items()}
    pool = held['section officer'][:POOL]
    while len(pool) < POOL:  # (a tiny province may leave the Section Officer nothing to do)
        status, body = so.client.call('POST', '/api/v1/departments/finance/files',
                                      {'subject': f'Benchmark file {len(pool) + 1}'})
        if status not in (200, 201):
            raise RuntimeError(f'cannot open a file to work on: {status} {body}')
        pool.append(body['id'])
    # the file pages read: files each holds (the pages worked on all day, with the
    # actions and the post picker), not the ones passed to and fro (their noting sheets
    # grow as the run goes on) unless there are no others
    pages = {role: [f for f in ids if f not in pool] or pool for role, ids in held.items()}
    facts = {'files passed to and fro': len(pool),
             'file pages read': {role: len(ids) for role, ids in pages.items()},
             'inbox totals': {role: probes[role].api('/api/v1/inbox?limit=1').get('total')
                              for role in probes},
             'search totals': {q: {role: probes[role].api(
                 '/api/v1/search?' + urllib.parse.urlencode({'q': q})).get('total')
                 for role in probes} for q in QUERIES}}
    log(f'HTTP: inboxes hold {facts["inbox totals"]}; {reps} rounds')
    reads = []
    for role, probe in probes.items():
        reads.append((f'inbox/{role}', probe, lambda n, role=role: '/inbox'))
        reads.append((f'file page/{role}', probe,
                      lambda n, role=role: f'/files/{pages[role][n % len(pages[role])]}'))
        reads.append((f'search/{role}', probe, lambda n: '/search?' + urllib.parse.urlencode(
            {'q': QUERIES[n % len(QUERIES)]})))
    reads.append(('dashboard/secretary', secretary, lambda n: '/departments/finance'))
    for n in range(min(3, max(1, reps // 10))):  # warm-up
        for op, probe, path in reads:
            probe.request(op, 'GET', path(n), record=False)
    for n in range(reps):
        for op, probe, path in reads:
            probe.request(op, 'GET', path(n))
        fid = pool[n % len(pool)]
        for role, other in (('section officer', FINANCE_SECRETARY),
                            ('secretary', BUSY_OFFICER)):
            probe = probes[role]
            probe.request(f'add note/{role}', 'POST', f'/files/{fid}/notes',
                          {'text': f'Benchmark note {n}: seen, please process.'}, expect=303)
            probe.request(f'forward/{role}', 'POST', f'/files/{fid}/actions/forward',
                          {'to_post': other, 'remarks': 'please see'}, expect=303)
        if n % 20 == 19:
            log(f'HTTP: {n + 1} of {reps} rounds')
    for probe in probes.values():
        probe.client.close()
    figures = {op: stats(times.get(op, [])) for op in OPERATIONS}
    return figures, errors, facts


def stats(values):
    if not values:
        return {'n': 0}
    return {'n': len(values), 'median ms': round(statistics.median(values), 2),
            'p95 ms': round(percentile(values, 0.95), 2),
            'mean ms': round(statistics.fmean(values), 2), 'max ms': round(max(values), 2)}


def serve_and_measure(config, directory, workers, reps, log):
    """Start the server, measure, record its memory, stop it.  :returns: figures."""
    server = Server(config, os.path.join(directory, 'server.log'), workers=workers)
    try:
        start = time.perf_counter()
        server.start()
        server.wait_indexed()
        started = time.perf_counter() - start
        log(f'server on port {server.port} ({workers or 1} process(es)); started in '
            f'{started:.1f} s')
        figures, errors, facts = measure_http(server.port, reps, log)
        processes = group_processes(server.process.pid)
        status = server.stop()
    finally:
        server.kill()
    text = server.log_text()
    if text.count('Traceback'):
        errors.append({'operation': 'server log',
                       'error': f'{text.count("Traceback")} tracebacks in {server.log_path}'})
    return {'operations': figures, 'errors': errors, 'facts': facts,
            'server': {'workers': workers or 1, 'start seconds': round(started, 1),
                       'exit status': status, 'processes': processes,
                       'RSS MB': round(sum(p[2] for p in processes), 1)}}


# The run --------------------------------------------------------------------------------
def fast_templates(config):
    """The server of a benchmark does not look for changed templates (production does
    not; development.ini, which tests/system/server.py copies, does)."""
    with open(config, encoding='utf-8') as f:
        text = f.read()
    with open(config, 'w', encoding='utf-8') as f:
        f.write(text.replace('pyramid.reload_templates = true', 'pyramid.reload_templates = false'))


def machine():
    return {'python': platform.python_version(), 'cpus': os.cpu_count(),
            'load average': [round(x, 2) for x in os.getloadavg()],
            'platform': platform.platform()}


def result_path(results, size, workers):
    suffix = f'-w{workers}' if workers else ''
    return os.path.join(results, f'province-{datetime.date.today():%Y-%m-%d}-{size}{suffix}.json')


def run(args, directory, log):
    """Build and measure every size in ``args.files`` in ``directory``.
    :returns: ``(rows, stopped)``: one dict of figures per size measured, and why the
    run stopped early (None when it did not)."""
    config = os.path.join(directory, 'server.ini')
    var = os.path.join(directory, 'var')
    if not os.path.exists(os.path.join(var, 'Data.fs')):
        log('kpw init --demo ...')
        config, var = init_workspace(directory)
        fast_templates(config)
    logs = os.path.join(directory, 'commands.log')
    deadline = time.monotonic() + args.max_minutes * 60 if args.max_minutes else None

    def time_left():
        return max(60.0, deadline - time.monotonic()) if deadline else 24 * 3600.0

    def checks(done):
        free = shutil.disk_usage(var).free / 2**30
        if free < args.min_free_gb:
            raise Stopped(f'the disk has {free:.1f} GB free, under --min-free-gb '
                          f'{args.min_free_gb}')
        if deadline and time.monotonic() > deadline:
            raise Stopped(f'the time ran out (--max-minutes {args.max_minutes})')
    rows, stopped = [], None
    for size in sorted(set(args.files)):
        app = open_app(config)
        try:
            state = read_state(app)
            if state is None or not state.get('people done'):
                log(f'people: {args.departments} departments, about {args.people} users ...')
            elif (state['departments'], state['people'], state['seed'], state['years']) != (
                    args.departments, args.people, args.seed, args.years):
                log(f'continuing the province in {directory}: {state["departments"]} '
                    f'departments, {state["people"]} people, seed {state["seed"]}, '
                    f'{state["years"]} years ({state["files"]:,} files built)')
            state = build_province(app, args, log)
            if state['files'] > size:
                log(f'{size:,} files: skipped (the database holds {state["files"]:,} already)')
                continue
            added, seconds, peak = build_files(app, state, size, args.batch, checks, log)
            log('indexing: the queue, drained by the indexer ...')
            indexing = index_queue(app)
        except (Stopped, KeyboardInterrupt, Exception) as e:
            stopped = _stop_reason(e)
            built = (read_state(app) or {}).get('files', 0)
            log(f'STOPPED at {built:,} files: {stopped}')
            break
        finally:
            close_databases(app.registry)
        row = {'size': size, 'command': ' '.join(sys.argv), 'machine': machine(),
               'province': {k: state[k] for k in ('departments', 'users', 'posts', 'seed',
                                                  'years', 'people seconds')},
               'content': dict(sorted(state['counts'].items())),
               'build': {'files added': added, 'seconds': round(seconds, 1),
                         'files/s': round(added / seconds, 1) if added else None,
                         'peak RSS MB': round(peak)},
               'indexing': indexing}
        try:
            if args.reindex:
                log('rebuild: kpw reindex ...')
                row['rebuild'] = rebuild_index(config, time_left(), logs)
            row['disk'] = disk_figures(var)
            row.update(serve_and_measure(config, directory, args.workers, args.reps, log))
        except (Stopped, KeyboardInterrupt) as e:
            stopped = _stop_reason(e)
            log(f'STOPPED at {size:,} files (built): {stopped}')
            break
        row['machine']['load average after'] = [round(x, 2) for x in os.getloadavg()]
        os.makedirs(args.results, exist_ok=True)
        path = result_path(args.results, size, args.workers)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(row, f, indent=1, ensure_ascii=False)
        log(f'{size:,} files: figures written to {path}')
        rows.append(row)
    return rows, stopped


def _stop_reason(e):
    if isinstance(e, Stopped):
        return str(e)
    if isinstance(e, KeyboardInterrupt):
        return 'interrupted (Ctrl-C)'
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return 'the disk is full'
    traceback.print_exc()
    return f'{type(e).__name__}: {e}'


# The tables -----------------------------------------------------------------------------
COLUMNS = (('sign-in', 'sign-in'), ('inbox SO', 'inbox/section officer'),
           ('inbox Sec', 'inbox/secretary'), ('file SO', 'file page/section officer'),
           ('file Sec', 'file page/secretary'), ('note SO', 'add note/section officer'),
           ('note Sec', 'add note/secretary'), ('fwd SO', 'forward/section officer'),
           ('fwd Sec', 'forward/secretary'), ('srch SO', 'search/section officer'),
           ('srch Sec', 'search/secretary'), ('dash Sec', 'dashboard/secretary'))


def _figure(value):
    return f'{value:.0f}' if value else '-'


def tables(rows):
    """The figures of every size as lines of text: build and storage, then median and
    p95 latency, each with a row per size and the ratio of the largest to 10,000 (or the
    smallest)."""
    lines = ['', f'{"files":>9} {"build f/s":>9} {"index d/s":>9} {"rebuild d/s":>11} '
             f'{"Data.fs":>8} {"Audit.fs":>8} {"blobs":>7} {"index":>7} {"server RSS":>10} '
             f'{"build RSS":>9}  (MB)']
    for r in rows:
        rebuild = r.get('rebuild', {}).get('documents/s')
        indexed = r['indexing']['documents/s'] if r['indexing']['documents added'] else None
        lines.append(
            f'{r["size"]:>9,} {_figure(r["build"]["files/s"]):>9} '
            f'{_figure(indexed):>9} '
            f'{_figure(rebuild):>11} '
            f'{r["disk"]["Data.fs MB"]:>8.0f} {r["disk"]["Audit.fs MB"]:>8.0f} '
            f'{r["disk"]["blobs MB"]:>7.0f} {r["disk"]["index MB (live)"]:>7.0f} '
            f'{r["server"]["RSS MB"]:>10.0f} {r["build"]["peak RSS MB"]:>9.0f}')
    base = next((r for r in rows[:-1] if r['size'] == 10_000), rows[0]) if rows else None
    for measure in ('median ms', 'p95 ms'):
        lines += ['', f'{measure:<9} ' + ' '.join(f'{c:>8}' for c, _op in COLUMNS)]
        for r in rows:
            lines.append(f'{r["size"]:>9,} ' + ' '.join(
                f'{r["operations"][op].get(measure, float("nan")):>8.1f}' for _c, op in COLUMNS))
        if len(rows) > 1:
            top = rows[-1]
            label = f'x{top["size"] // 1000}k/{base["size"] // 1000}k'
            lines.append(f'{label:>9} ' + ' '.join(
                f'{top["operations"][op].get(measure, 0) / base["operations"][op][measure]:>8.2f}'
                if base['operations'][op].get(measure) else f'{"-":>8}' for _c, op in COLUMNS))
    for r in rows:
        errors = len(r['errors'])
        lines.append(f'\n{r["size"]:,} files: {r["content"]}; {errors} HTTP errors; '
                     f'indexing {r["indexing"]["documents added"]:,} documents in '
                     f'{r["indexing"]["seconds"]} s (+ merges {r["indexing"]["merge seconds"]} '
                     f's); server processes {r["server"]["processes"]}')
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--files', type=int, action='append',
                        help='a size in case files (repeat for several; default 10000)')
    parser.add_argument('--keep', metavar='DIR',
                        help='build in DIR and keep it; DIR from an earlier run is continued')
    parser.add_argument('--workers', type=int,
                        help='serve with N app processes over ZEO (kpw serve); default pserve')
    parser.add_argument('--reps', type=int, default=100, help='repetitions of each operation')
    parser.add_argument('--people', type=int, default=2500, help='users in the province')
    parser.add_argument('--departments', type=int, default=MAX_DEPARTMENTS,
                        help=f'departments (6 to {MAX_DEPARTMENTS})')
    parser.add_argument('--years', type=int, default=6, help='years the archive spans')
    parser.add_argument('--seed', type=int, default=2026)
    parser.add_argument('--batch', type=int, default=BATCH, help='files a transaction')
    parser.add_argument('--no-reindex', dest='reindex', action='store_false',
                        help='skip the full kpw reindex at each size')
    parser.add_argument('--max-minutes', type=float, help='stop building after this long')
    parser.add_argument('--min-free-gb', type=float, default=2.0,
                        help='stop building when the disk has less free space')
    parser.add_argument('--results', default=RESULTS, help='where the JSON figures go')
    args = parser.parse_args(argv)
    args.files = args.files or [10_000]
    args.departments = min(MAX_DEPARTMENTS, max(len(DEMO_DEPARTMENTS), args.departments))
    restore_sigint()

    def log(message):
        print(f'[{time.strftime("%H:%M:%S")}] {message}', file=sys.stderr, flush=True)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        rows, stopped = run(args, os.path.abspath(args.keep), log)
    else:
        with tempfile.TemporaryDirectory(prefix='kpw-province-') as tmp:
            rows, stopped = run(args, tmp, log)
    if rows:
        print('\n'.join(tables(rows)))
    if stopped:
        where = (f'; continue with the same command (--keep {args.keep})' if args.keep
                 else '; with --keep DIR a later run continues from there')
        print(f'\nSTOPPED: {stopped}{where}')
    return 1 if stopped or any(r['errors'] for r in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
