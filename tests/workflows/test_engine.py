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
