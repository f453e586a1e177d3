"""The workflow engine: definitions are checked at start-up; runs refuse cleanly."""
import pytest

from kp_workspace.security.roles import FORWARD
from kp_workspace.workflows import Refused, Transition, Workflow, check
from kp_workspace.workflows.casefile import CASEFILE
from kp_workspace.workflows.draft import DRAFT_WORKFLOW
from kp_workspace.workflows.summary import SUMMARY


def ok(obj, officer, params):
    return None


def t(name='go', sources=('a',), target='b', permission=FORWARD, guard=ok, effect=ok):
    return Transition(name, name, sources, target, permission, guard, effect)


@pytest.mark.parametrize('workflow, message', [
    (Workflow('w', {'a': 'A'}, 'z', ()), 'initial state'),
    (Workflow('w', {'a': 'A', 'b': 'B'}, 'a', (t(), t())), 'defined twice'),
    (Workflow('w', {'a': 'A'}, 'a', (t(),)), 'unknown states'),
    (Workflow('w', {'a': 'A', 'b': 'B'}, 'a', (t(permission='fly'),)), 'unknown permission'),
    (Workflow('w', {'a': 'A', 'b': 'B'}, 'a', (t(guard='nope'),)), 'callables'),
])
def test_bad_definitions_stop_start_up(workflow, message):
    with pytest.raises(ValueError, match=message):
        check(workflow)


def test_shipped_definitions_are_valid():
    for workflow in (CASEFILE, SUMMARY, DRAFT_WORKFLOW):
        assert check(workflow) is workflow


class Thing:
    state = 'a'


class Allowed:
    def may(self, permission, obj):
        return True


class Denied:
    def may(self, permission, obj):
        return False


def test_run_moves_state_and_refuses_cleanly():
    effects = []
    w = check(Workflow('w', {'a': 'A', 'b': 'B'}, 'a',
                       (t(effect=lambda o, off, p: effects.append(p)),)))
    thing = Thing()
    with pytest.raises(Refused) as info:
        w.run(thing, 'go', Denied())
    assert info.value.status == 403 and thing.state == 'a' and effects == []
    with pytest.raises(Refused) as info:
        w.run(thing, 'nothing', Allowed())
    assert info.value.status == 404
    assert [x.name for x in w.available(thing, Allowed())] == ['go']
    w.run(thing, 'go', Allowed(), remarks='x')
    assert thing.state == 'b' and effects == [{'remarks': 'x'}]
    with pytest.raises(Refused) as info:
        w.run(thing, 'go', Allowed())
    assert info.value.status == 409 and 'cannot be done while it is B' in str(info.value)
    assert w.available(thing, Allowed()) == []


# what the pages say about each transition, declared beside it --------------------------

def test_a_transition_that_takes_a_post_says_which_posts_it_accepts():
    needs_post = Transition('go', 'go', ('a',), 'b', FORWARD, ok, ok, needs=('to_post',))
    with pytest.raises(ValueError, match='which posts it accepts'):
        check(Workflow('w', {'a': 'A', 'b': 'B'}, 'a', (needs_post,)))
    asks = Transition('go', 'go', ('a',), 'b', FORWARD, ok, ok, confirm='Sure?')
    with pytest.raises(ValueError, match='question with its button'):
        check(Workflow('w', {'a': 'A', 'b': 'B'}, 'a', (asks,)))


def test_the_irreversible_steps_ask_and_only_they():
    asking = {(w.name, x.name) for w in (CASEFILE, SUMMARY, DRAFT_WORKFLOW)
              for x in w.transitions if x.confirm is not None}
    assert asking == {('casefile', 'close'), ('summary', 'decide'), ('outgoing', 'issue')}


def test_every_step_says_what_it_did_and_recall_or_close_is_never_primary():
    for workflow in (CASEFILE, SUMMARY, DRAFT_WORKFLOW):
        for x in workflow.transitions:
            assert x.done is not None, (workflow.name, x.name)
    assert CASEFILE.transition('close').rank <= 0 and CASEFILE.transition('recall').rank <= 0
    assert SUMMARY.transition('recall').rank <= 0
    assert DRAFT_WORKFLOW.transition('approve').rank > CASEFILE.transition('forward').rank


def test_every_movement_has_a_plain_title():
    import re
    from pathlib import Path

    import kp_workspace
    from kp_workspace.workflows.words import MOVEMENT_TITLES
    root = Path(kp_workspace.__file__).parent
    source = '\n'.join(p.read_text() for p in root.rglob('*.py'))
    recorded = set(re.findall(r"\bmove\(item, officer, '(\w+)'", source))
    recorded |= set(re.findall(r"_move\('(\w+)'", source))
    recorded |= {'close', 'reopen', 'decision'}
    assert recorded <= set(MOVEMENT_TITLES), recorded - set(MOVEMENT_TITLES)
