"""Compatibility of the installed test libraries.

hypothesis-jsonschema 0.23 (used by schemathesis 3) draws object properties with
``hypothesis.internal.conjecture.utils.many(...).more()``; recent Hypothesis
releases replaced ``more()`` with iteration inside ``with many(...)``.  Until the
two agree again (or Hypothesis is pinned below that change), ``more()`` is
provided on top of the new interface, only when it is missing.
"""
from hypothesis.internal.conjecture import utils


def _more(self):
    """Whether to draw one more element (the pre-iteration interface)."""
    elements = self.__dict__.get('_kpw_elements')
    if elements is None:
        self.__enter__()
        elements = self._kpw_elements = iter(self)
    if next(elements, StopIteration) is StopIteration:
        self.__exit__(None, None, None)
        return False
    return True


if not hasattr(utils.many, 'more'):
    utils.many.more = _more
