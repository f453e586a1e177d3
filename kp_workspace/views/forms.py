"""Deform forms with CSRF protection and domain errors shown on their fields.

:func:`run_form` is the whole life of a form in one call: show it, validate the
post, call the domain, and on a :class:`~kp_workspace.errors.DomainError` show
the message on the field at fault (or over the form) with the error's status.
"""
import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory, get_localizer
from pyramid.threadlocal import get_current_request

from ..errors import DomainError
from .auditing import refused
from .layout import flash

_ = TranslationStringFactory('kp_workspace')


@colander.deferred
def _csrf_default(node, kw):
    return kw['request'].session.get_csrf_token()


class CSRFSchema(colander.Schema):
    """Base of every form schema: a hidden ``csrf_token`` field.  Pyramid checks
    its value before the view runs (``require_csrf``)."""

    csrf_token = colander.SchemaNode(colander.String(), widget=deform.widget.HiddenWidget(),
                                     default=_csrf_default, missing='')


def _translate(term):
    """Translate deform's and colander's texts (and ours) in the request's language.

    Deform binds one translator to its templates when they load, so the
    request is found at call time (Pyramid's thread-local, set for every
    request and by ``pyramid.scripting``).
    """
    request = get_current_request()
    if request is None:
        return term.interpolate() if hasattr(term, 'interpolate') else term
    return get_localizer(request).translate(term)


def _button(request, title):
    """A button as deform makes one of ``title`` (its name and value from the English),
    its title translated: deform prints a button's title untranslated."""
    button = deform.Button(title)
    button.title = get_localizer(request).translate(title)
    return button


def make_form(request, schema, buttons, **bind):
    schema = schema.bind(request=request, **bind)
    buttons = [_button(request, title) for title in buttons]
    return deform.Form(schema, buttons=buttons, formid='kpw-form',
                       renderer=request.registry.kpw_deform_renderer)


def includeme(config):
    """One deform renderer for the app, translating through the request's localizer."""
    config.registry.kpw_deform_renderer = deform.ZPTRendererFactory(
        (deform.template.default_dir,), auto_reload=False, translator=_translate)


def _show_domain_error(form, err):
    exc = colander.Invalid(form.schema, err.message if err.field is None else
                           _('Please correct the marked field.'))
    if err.field is not None and err.field in [c.name for c in form.schema.children]:
        exc[err.field] = err.message
    form.widget.handle_error(form, exc)


def run_form(request, schema, on_valid, appstruct=None, buttons=(_('Save'),), bind=None,
             success_url=None):
    """Render or process a form.

    :param on_valid: called with the validated appstruct (without ``csrf_token``);
        returns a message to flash, or a Response to return as is.
    :returns: a Response (redirect after success) or a dict ``{'form': html}``
        for the template; the response status is 400 (invalid input) or the
        domain error's status when the post was refused.
    """
    form = make_form(request, schema, buttons, **(bind or {}))
    if request.method == 'POST':
        try:
            data = form.validate(request.POST.items())
        except deform.ValidationFailure as failure:
            request.response.status = 400
            return {'form': failure.render()}
        data.pop('csrf_token', None)
        try:
            result = on_valid(data)
        except DomainError as err:
            refused(request, err)
            _show_domain_error(form, err)
            return {'form': form.render(data)}
        if hasattr(result, 'status_code'):
            return result
        if result:
            flash(request, result)
        return HTTPSeeOther(success_url or request.url)
    return {'form': form.render(appstruct or {})}
