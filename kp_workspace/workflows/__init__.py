"""One small workflow engine; the definitions are data in the modules beside it.

A :class:`Workflow` has states and :class:`Transition` s.  A transition names
the states it leaves from, the state it reaches, the permission it needs (from
:mod:`kp_workspace.security.roles`), a guard (who and when, beyond the
permission) and an effect (what happens to the holder and the registers).
Definitions are checked when the app starts (:func:`check`): a transition that
names an unknown state or permission stops start-up, not a user.

Running a transition that is not allowed raises :class:`Refused` and changes
nothing: guards run before effects, and effects raise before they write.

Beside the rules, each transition carries what the pages say about it, as data:
``rank`` (how likely the holder wants it next: the highest positive rank is the
page's primary action; zero or less is a secondary one, never primary),
``done`` (the message after it ran, e.g. "${number} sent to ${holder}."),
``confirm`` / ``confirm_button`` (the question asked before an irreversible
step, in the browser) and ``accepts(obj, officer, post) -> bool`` (the posts it
may be sent to: its guard refuses the others and the post picker offers only
these).  ``accepts`` reads only the post's ``post_id`` and ``department``: the
guard gives it a :class:`~kp_workspace.security.principals.Post`, the picker an
entry of the post directory (:mod:`kp_workspace.security.directory`), and it is
asked about every post of the province on each page that offers the step.
The words are filled in from the workflow's ``words(obj, site)``.
"""
from dataclasses import dataclass, field

from pyramid.i18n import TranslationString, TranslationStringFactory

from ..errors import DomainError
from ..i18n import isolated
from ..security.roles import PERMISSION_TITLES
from ..text_rules import check_text

_ = TranslationStringFactory('kp_workspace')


class Refused(DomainError):
    """The transition is not allowed now (409), or not for this user (403)."""

    status = 409


@dataclass(frozen=True)
class Transition:
    name: str
    title: str
    sources: tuple
    target: str            # a state name, or None: stay in the present state
    permission: str
    guard: object           # guard(obj, officer, params) -> None, or raises Refused
    effect: object          # effect(obj, officer, params) -> None
    needs: tuple = ()       # parameter names the transition takes (to_post, remarks, ...)
    rank: int = 0           # > 0: may be the page's primary action, the highest first
    done: object = None     # message after it ran (${number}, ${holder}, ... from words())
    confirm: object = None  # question before it runs in the browser; None: no confirmation
    confirm_button: object = None   # the button that says yes ("Yes, issue")
    accepts: object = None  # accepts(obj, officer, post) -> bool: the posts it may go to
    #                        (post: a Post or a PostEntry; only post_id and department read)


class PostName(str):
    """A post's designation in a message: English, with its Urdu designation to hand."""

    def __new__(cls, title, title_ur=''):
        name = super().__new__(cls, title)
        name.title_ur = title_ur
        return name

    @classmethod
    def of(cls, site, post_id):
        post = site['principals'].posts.get(post_id)
        return cls(post.title, post.title_ur or '') if post is not None else cls(post_id or '')

    def in_language(self, locale_name):
        return self.title_ur if locale_name == 'ur' and self.title_ur else str(self)


@dataclass(frozen=True)
class Workflow:
    name: str
    states: dict            # state name -> title
    initial: str
    transitions: tuple = field(default_factory=tuple)
    on_state: object = None  # on_state(obj, officer, new_state); default: set obj.state
    words: object = None     # words(obj, site, params) -> {name: text} for the messages

    def transition(self, name):
        for t in self.transitions:
            if t.name == name:
                return t
        return None

    def available(self, obj, officer):
        """The transitions ``officer`` may run on ``obj`` now."""
        found = []
        for t in self.transitions:
            try:
                _check(self, t, obj, officer, {})
            except Refused:
                continue
            found.append(t)
        return found

    def ready(self, obj, name, officer, **params):
        """Check that transition ``name`` may run now with ``params``, running nothing
        (what a confirmation is asked for must not be refused once confirmed, if the
        guards can tell).  :returns: the transition.  :raises Refused: as :meth:`run`.
        """
        t = self._named(name)
        _check(self, t, obj, officer, _checked_params(params), strict=True)
        return t

    def message(self, t, field, obj, site, translate, params=None, locale_name=None):
        """Transition ``t``'s ``field`` (``'done'``, ``'confirm'``) with the words of
        ``obj`` (and of the ``params`` it is about to run with) filled in, translated
        (a post's name in ``locale_name``'s words when it has them); for a transition
        without one, "Saved." after it ran and None before."""
        text = getattr(t, field)
        if text is None:
            return translate(_('Saved.')) if field == 'done' else None
        found = self.words(obj, site, params or {}) if self.words else {}
        words = {k: translate(v) if isinstance(v, TranslationString)
                 else v.in_language(locale_name) if isinstance(v, PostName) else v
                 for k, v in found.items()}
        if locale_name == 'ur':  # numbers and English names inside a right-to-left sentence
            words = {k: isolated(v) if isinstance(v, str) else v for k, v in words.items()}
        return translate(TranslationString(text, mapping=words))

    def _named(self, name):
        t = self.transition(name)
        if t is None:
            raise Refused(_('There is no action "${action}".', mapping={'action': name}),
                          status=404)
        return t

    def run(self, obj, name, officer, **params):
        """Run transition ``name`` on ``obj`` for ``officer``.

        :raises Refused: unknown transition (404), wrong state (409), not permitted (403),
            or a guard that says no (409).
        """
        t = self._named(name)
        params = _checked_params(params)
        _check(self, t, obj, officer, params, strict=True)
        t.effect(obj, officer, params)
        if t.target is not None and t.target != obj.state:
            if self.on_state is not None:
                self.on_state(obj, officer, t.target)
            else:
                obj.state = t.target
        return t


# The text parameters a transition may take: (most characters, one line only).
TEXT_PARAMS = {'remarks': (2000, False), 'to_post': (100, True), 'decision': (50, True),
               'pin': (200, True), 'file': (100, True), 'subject': (300, True),
               'record_class': (1, True)}


def _checked_params(params):
    """``params`` with every text parameter checked by the shared text rules.

    :raises DomainError: (400) a parameter that is not text, too long, or holds
        a character the rules refuse.
    """
    checked = dict(params)
    for name, (maximum, single_line) in TEXT_PARAMS.items():
        if checked.get(name) is not None:
            checked[name] = check_text(checked[name], name, maximum, minimum=0,
                                       single_line=single_line, strip=name != 'pin')
    return checked


def _check(workflow, t, obj, officer, params, strict=False):
    if obj.state not in t.sources:
        raise Refused(_('"${action}" cannot be done while it is ${state}.',
                        mapping={'action': t.title,
                                 'state': workflow.states.get(obj.state, obj.state)}))
    if not officer.may(t.permission, obj):
        raise Refused(_('You may not ${action} this.', mapping={'action': t.title}), status=403)
    t.guard(obj, officer, params if strict else None)


def check(workflow):
    """Validate a definition.  :raises ValueError: naming what is wrong."""
    if workflow.initial not in workflow.states:
        raise ValueError(f'{workflow.name}: initial state {workflow.initial} is not a state')
    names = set()
    for t in workflow.transitions:
        if t.name in names:
            raise ValueError(f'{workflow.name}: transition {t.name} defined twice')
        names.add(t.name)
        unknown = (set(t.sources) | ({t.target} if t.target else set())) - set(workflow.states)
        if unknown:
            raise ValueError(f'{workflow.name}.{t.name}: unknown states {sorted(unknown)}')
        if t.permission not in PERMISSION_TITLES:
            raise ValueError(f'{workflow.name}.{t.name}: unknown permission {t.permission}')
        if not callable(t.guard) or not callable(t.effect):
            raise ValueError(f'{workflow.name}.{t.name}: guard and effect must be callables')
        if ('to_post' in t.needs) != callable(t.accepts):
            raise ValueError(f'{workflow.name}.{t.name}: a transition that takes a post says '
                             'which posts it accepts, and only such a one')
        if (t.confirm is None) != (t.confirm_button is None):
            raise ValueError(f'{workflow.name}.{t.name}: a confirmation question with its '
                             'button, or neither')
    return workflow
