"""Pages and JSON that cannot fail on the text they show.

Text stored before the input rules (:mod:`kp_workspace.text_rules`) may hold lone
surrogates, which cannot be encoded as UTF-8: one such note made every page that
showed it, the inboxes of everyone on the file's chain included, answer 500.
Rather than trust that every stored string was repaired (the audit log may not be
rewritten, and the search index keeps copies of titles and snippets), every
template's output and every JSON value is made encodable as it is rendered.
"""
import json

from pyramid.interfaces import IRendererFactory
from pyramid.renderers import JSON

from ..text_rules import displayable


class SafeTemplates:
    """A renderer factory whose templates' output is always encodable."""

    def __init__(self, factory):
        self.factory = factory

    def __call__(self, info):
        render = self.factory(info)

        def safe(value, system):
            return displayable(render(value, system))
        return safe


def encodable(value):
    """``value`` with every string in it (dict keys, lists, tuples) made encodable."""
    if isinstance(value, str):
        return displayable(value)
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encodable(v) for v in value]
    return value


def _dumps(value, **kw):
    return json.dumps(encodable(value), **kw)


def _wrap(registry):
    templates = registry.queryUtility(IRendererFactory, name='.pt')
    if templates is not None and not isinstance(templates, SafeTemplates):
        registry.registerUtility(SafeTemplates(templates), IRendererFactory, name='.pt')
    registry.registerUtility(JSON(serializer=_dumps), IRendererFactory, name='json')


def includeme(config):
    # After every add_renderer (PHASE1_CONFIG), so that the template renderer of
    # pyramid_chameleon is there to be wrapped.
    config.action(None, _wrap, args=(config.registry,))
