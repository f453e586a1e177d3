"""Content types: one module per type, with its schema and type metadata beside it.

Each module's ``includeme`` registers its type with ``config.add_content_type``;
the registry of types is ``registry.content_types`` (name -> :class:`TypeInfo`),
checked when the app starts: a type may only name containers that exist.
"""
from dataclasses import dataclass

from pyramid.exceptions import ConfigurationError


@dataclass(frozen=True)
class TypeInfo:
    name: str
    factory: type
    schema: type = None
    addable_to: tuple = ()
    title: str = ''


def add_content_type(config, factory, schema=None, addable_to=(), title=None):
    """Register ``factory`` (a class with a ``type_name``) as a content type."""
    name = factory.type_name

    def register():
        types = config.registry.content_types
        if name in types:
            raise ConfigurationError(f'content type {name} registered twice')
        types[name] = TypeInfo(name, factory, schema, tuple(addable_to), title or name)

    config.action(('kp_workspace.content_type', name), register)


def check_types(registry):
    """Every ``addable_to`` names a registered type or the site root."""
    known = set(registry.content_types) | {'Site'}
    for info in registry.content_types.values():
        missing = set(info.addable_to) - known
        if missing:
            raise ConfigurationError(f'{info.name} is addable to unknown types {sorted(missing)}')


def includeme(config):
    config.registry.content_types = {}
    config.add_directive('add_content_type', add_content_type)
    config.include('.department')
    config.include('.registration')
    config.action(None, check_types, args=(config.registry,), order=10)
