"""Asking before an irreversible step, in the browser, without JavaScript.

A form whose step cannot be undone posts as usual; when its POST arrives without
``confirmed=1`` the view answers with :func:`ask`: a page that says what will
happen and re-posts the same fields with ``confirmed=1`` (and a fresh CSRF
token).  A signing PIN is never written back into the page: if the step needs
one, the confirmation page asks for it.  The JSON API does not ask (its clients
confirm themselves).
"""
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response

_ = TranslationStringFactory('kp_workspace')

# never echoed into the confirmation page
_NOT_REPOSTED = ('csrf_token', 'confirmed', 'pin')


def confirmed(request):
    """True when the POST says the user has confirmed the step."""
    return request.POST.get('confirmed') == '1'


def ask(request, question, button, cancel_url, ask_pin=False, title=None):
    """The confirmation page (200) for the POST ``request``.

    :param question: what will happen to what, in plain words (translated text).
    :param button: the label of the button that says yes (a translation string).
    :param cancel_url: where "Cancel" leads (the page the form was on).
    :param ask_pin: the step needs the signing PIN: ask for it here.
    """
    translate = request.localizer.translate
    fields = [(k, v) for k, v in request.POST.items()
              if k not in _NOT_REPOSTED and isinstance(v, str)]
    return render_to_response('kp_workspace:templates/confirm.pt', {
        'question': question, 'button': translate(button),
        'title': translate(title or _('Please confirm')),
        'action': request.path_qs, 'fields': fields, 'ask_pin': ask_pin,
        'cancel_url': cancel_url,
    }, request=request, response=request.response)
