"""Demo data: departments, posts and users for every role.  Idempotent.

For demonstration only: every demo login has the password :data:`DEMO_PASSWORD`.
"""
from .content_types.department import add_department

DEMO_PASSWORD = 'kp-demo-2026'

DEPARTMENTS = (
    # name, title, code, title in Urdu
    ('finance', 'Finance Department', 'FD', 'محکمہ خزانہ'),
    ('higher-education', 'Higher Education Department', 'HED', 'محکمہ اعلیٰ تعلیم'),
    ('science-it', 'Science & Information Technology Department', 'SIT',
     'محکمہ سائنس و انفارمیشن ٹیکنالوجی'),
    ('sports', 'Sports Department', 'SPD', 'محکمہ کھیل'),
    ('cm-secretariat', "Chief Minister's Secretariat", 'CMS', 'وزیر اعلیٰ سیکرٹریٹ'),
    ('chief-secretary', "Chief Secretary's Office", 'CSO', 'دفتر چیف سیکرٹری'),
)

POSTS = (
    # post id, designation, department, roles there
    ('so-budget-finance', 'Section Officer (Budget), Finance', 'finance', ('officer',)),
    ('secretary-finance', 'Secretary Finance', 'finance', ('approver',)),
    ('records-finance', 'Records Clerk, Finance', 'finance', ('records_clerk',)),
    ('diary-finance', 'Diary Clerk, Finance', 'finance', ('diary_clerk',)),
    ('so-general-hed', 'Section Officer (General), Higher Education', 'higher-education',
     ('officer',)),
    ('secretary-hed', 'Secretary Higher Education', 'higher-education', ('approver',)),
    ('so-sit', 'Section Officer, Science & IT', 'science-it', ('officer',)),
    ('secretary-sit', 'Secretary Science & IT', 'science-it', ('approver',)),
    ('so-sports', 'Section Officer, Sports', 'sports', ('officer',)),
    ('secretary-sports', 'Secretary Sports', 'sports', ('approver',)),
    ('chief-secretary', 'Chief Secretary', 'chief-secretary', ('approver',)),
    ('chief-minister', 'Chief Minister', 'cm-secretariat', ('chief_minister',)),
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
)


def load_demo(site, actor):
    """Add whatever of the demo data is missing.  :returns: how many objects were added."""
    departments, principals = site['departments'], site['principals']
    added = 0
    for name, title, code, title_ur in DEPARTMENTS:
        if name not in departments:
            add_department(departments, actor, name, title, code, title_ur)
            added += 1
    for post_id, title, dept, roles in POSTS:
        if post_id not in principals.posts:
            principals.add_post(actor, departments, post_id, title, dept, roles)
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
    return added
