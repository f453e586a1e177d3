"""The shared guard in the domain: every write on a file or summary passes it, so a
write made without any view (the console, a script, a future route) is refused too."""
import io

import pytest

from kp_workspace.workflows import Refused
from tests.views.test_api_attachments import pdf_bytes


def officer(site, login):
    from kp_workspace.access import Officer
    from kp_workspace.audit import Actor
    return Officer(site['principals'].users[login], site, Actor(login, 'test', []))


def _writes():
    """Every domain write on a case file: name -> fn(site, casefile, officer)."""
    from kp_workspace.content_types.attachment import attach
    from kp_workspace.content_types.movable import edit_note, move, write_note
    from kp_workspace.content_types.outgoing import add_draft, edit_draft
    from kp_workspace.workflows.casefile import CASEFILE
    from kp_workspace.workflows.draft import DRAFT_WORKFLOW
    return {
        'note': lambda f, o: write_note(f, o, 'text'),
        'note edit': lambda f, o: edit_note(f, o, 1, 'changed'),
        'attachment': lambda f, o: attach(f, o, io.BytesIO(pdf_bytes()), 'a.pdf'),
        'receipt': lambda f, o: attach(f, o, io.BytesIO(pdf_bytes()), 'a.pdf', receipt=True),
        'draft': lambda f, o: add_draft(f, o, 'letter', 'subject', 'body'),
        'draft edit': lambda f, o: edit_draft(f.drafts['d1'], o, 'subject', 'body'),
        'draft submit': lambda f, o: DRAFT_WORKFLOW.run(f.drafts['d1'], 'submit', o),
        'move': lambda f, o: move(f, o, 'forward', 'secretary-finance'),
        'forward': lambda f, o: CASEFILE.run(f, 'forward', o, to_post='secretary-finance'),
    }


def _prepare(site):
    """A Finance file by so.finance with note 1 and draft d1, closed."""
    from kp_workspace.content_types.casefile import open_file
    from kp_workspace.content_types.movable import write_note
    from kp_workspace.content_types.outgoing import add_draft
    from kp_workspace.workflows.casefile import CASEFILE
    so = officer(site, 'so.finance')
    casefile = open_file(site['departments']['finance'], so, 'Buses for colleges')
    write_note(casefile, so, 'Proposal below.')
    add_draft(casefile, so, 'letter', 'Supply order', 'Please supply.')
    CASEFILE.run(casefile, 'close', so)
    return casefile, so


@pytest.mark.parametrize('name', list(_writes()))
def test_every_domain_write_refuses_a_closed_file(open_site, name):
    def run(site, _conn):
        casefile, so = _prepare(site)
        activity, log = casefile.activity, list(so.actor.log)
        with pytest.raises(Refused) as err:
            _writes()[name](casefile, so)
        assert so.actor.log == log and casefile.activity == activity
        return err.value.status, str(err.value)
    status, message = open_site(run)
    assert status == 409 and 'closed' in message


def test_roles_are_checked_in_the_domain(open_site):
    from kp_workspace.content_types.casefile import open_file
    from kp_workspace.workflows.casefile import CASEFILE

    def run(site, _conn):
        so = officer(site, 'so.finance')
        found = {}
        for login, post in (('so.finance', None), ('secretary.finance', 'secretary-finance'),
                            ('clerk.finance', 'records-finance'),
                            ('diary.finance', 'diary-finance')):
            casefile = open_file(site['departments']['finance'], so, 'Buses for colleges')
            if post:
                CASEFILE.run(casefile, 'forward', so, to_post=post)
            who = officer(site, login)
            for name in ('note', 'attachment', 'receipt', 'draft'):
                try:
                    _writes()[name](casefile, who)
                    found[login, name] = 'ok'
                except Refused as err:
                    found[login, name] = err.status
        return found
    found = open_site(run)
    assert found == {
        ('so.finance', 'note'): 'ok', ('so.finance', 'attachment'): 'ok',
        ('so.finance', 'receipt'): 403, ('so.finance', 'draft'): 'ok',
        ('secretary.finance', 'note'): 'ok', ('secretary.finance', 'attachment'): 'ok',
        ('secretary.finance', 'receipt'): 403, ('secretary.finance', 'draft'): 'ok',
        ('clerk.finance', 'note'): 403, ('clerk.finance', 'attachment'): 403,
        ('clerk.finance', 'receipt'): 403, ('clerk.finance', 'draft'): 403,
        ('diary.finance', 'note'): 403, ('diary.finance', 'attachment'): 403,
        ('diary.finance', 'receipt'): 'ok', ('diary.finance', 'draft'): 403,
    }


def test_reopening_freezes_what_was_written_before(open_site):
    from kp_workspace.workflows.casefile import CASEFILE

    def run(site, _conn):
        from kp_workspace.content_types.movable import edit_note, write_note
        casefile, so = _prepare(site)
        # an older release let the holder write on a closed file: such a note exists
        casefile.state = 'open'
        write_note(casefile, so, 'Written after closing, long ago.')
        casefile.state = 'closed'
        assert all(casefile.is_frozen(n) for n in casefile.notes.values())
        CASEFILE.run(casefile, 'reopen', so)
        assert [casefile.is_frozen(n) for n in casefile.notes.values()] == [True, True]
        with pytest.raises(Refused, match='frozen'):
            edit_note(casefile, so, 2, 'changed')
        note = write_note(casefile, so, 'After reopening.')
        edit_note(casefile, so, note.n, 'After reopening, changed.')
        return casefile.state
    assert open_site(run) == 'open'


def test_the_guard_order_is_the_engines(open_site):
    """Closed (409) before the role (403) before the holder (409)."""
    from kp_workspace.content_types.movable import check_change
    from kp_workspace.security.roles import WRITE_NOTE

    def run(site, _conn):
        casefile, so = _prepare(site)
        clerk, hed = officer(site, 'clerk.finance'), officer(site, 'so.hed')
        secretary = officer(site, 'secretary.finance')
        statuses = []
        for who in (clerk, hed, so):
            with pytest.raises(Refused) as err:
                check_change(casefile, who, WRITE_NOTE)
            statuses.append((err.value.status, 'closed' in str(err.value)))
        casefile.state = 'open'
        for who in (clerk, hed, secretary):  # no role, no role, not the holder
            with pytest.raises(Refused) as err:
                check_change(casefile, who, WRITE_NOTE)
            statuses.append(err.value.status)
        statuses.append(check_change(casefile, so, WRITE_NOTE))
        return statuses
    assert open_site(run) == [(409, True), (409, True), (409, True), 403, 403, 409,
                              'so-budget-finance']
