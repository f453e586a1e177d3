"""Browser pages for follow-ups on a file: put it up with another, park it awaiting a
reply, take it back.  The rules are in :mod:`kp_workspace.followups`; these views read
the form, call them, and show the file again (with the message, or the refusal)."""
import datetime

from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config, view_defaults

from .. import followups
from ..errors import DomainError
from ..i18n import format_when
from ..security.roles import VIEW
from . import files as file_pages
from .work import item_for, now_ts, officer_for

_ = TranslationStringFactory('kp_workspace')


def _item_url(request, item):
    return request.route_url('file' if item.kind == 'file' else 'summary', id=item.id)


def follow_up_data(request, officer, item, holds):
    """What a file's or summary's page shows of its follow-ups, for ``officer``: the
    items it is put up with and those it is referred to in (only those the officer may
    open), its parking, and which forms to offer (the domain checks again)."""
    desk = officer.site.desk
    links = [{'number': other.number, 'subject': other.subject, 'url': _item_url(request, other),
              'remark': found.remark, 'by': found.by_name, 'at': format_when(request, found.at),
              'remove_url': request.route_url('file_link_remove', id=item.id, other=other.id)}
             for other, found in followups.links_seen(officer, item)]
    referred = [{'number': other.number, 'subject': other.subject,
                 'url': _item_url(request, other)}
                for other in followups.referred_in(officer, item)]
    parking = desk.parking_of(item.id)
    parked = None
    if parking is not None:
        parked = {'until': format_when(request, followups.until_day(parking), time=False),
                  'reason': parking.reason, 'by': parking.by_name,
                  'at': format_when(request, parking.at),
                  'due': followups.is_due(parking, now_ts())}
    is_file = item.kind == 'file'
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return {
        'links': links, 'referred': referred, 'parked': parked,
        'may_link': is_file and holds and officer.may(followups.LINK_PERMISSION, item),
        'may_park': is_file and holds and officer.may(followups.PARK_PERMISSION, item),
        'link_url': request.route_url('file_links', id=item.id),
        'park_url': request.route_url('file_park', id=item.id),
        'resume_url': request.route_url('file_resume', id=item.id),
        'min_date': (today + datetime.timedelta(days=1)).isoformat(),
        'max_date': (today + datetime.timedelta(days=followups.MAX_AHEAD)).isoformat(),
    }


@view_defaults(permission=VIEW, request_method='POST')
class FollowUpPages:
    def __init__(self, request):
        self.request = request

    def _run(self, change):
        """Run ``change(item, officer)`` on the file of the address: back to the file
        with its message, or the file again with the refusal (and its status).  What the
        address names and does not exist (a link the file does not have) is the error
        view's 404, the same page as for any address that leads nowhere."""
        request = self.request
        item = item_for(request, 'file')
        try:
            message = change(item, officer_for(request))
        except DomainError as err:
            if err.status == 404 and err.field is None:
                raise
            return file_pages._render_error(request, item, err, 'kp_workspace:templates/file.pt')
        return file_pages.ItemPages(request)._back(item, message)

    @view_config(route_name='file_links')
    def link(self):
        post = self.request.POST

        def change(item, officer):
            other, _link = followups.link(item, officer, post.get('number', ''),
                                          post.get('remark', ''))
            return _('${number} put up with this file.', mapping={'number': other.number})
        return self._run(change)

    @view_config(route_name='file_link_remove')
    def unlink(self):
        other_id = self.request.matchdict['other']

        def change(item, officer):
            other = followups.unlink(item, officer, other_id)
            return _('${number} is no longer put up with this file.',
                     mapping={'number': other.number})
        return self._run(change)

    @view_config(route_name='file_park')
    def park(self):
        post = self.request.POST

        def change(item, officer):
            parking = followups.park(item, officer, post.get('until', ''),
                                     post.get('reason', ''))
            return _('${number} parked awaiting a reply: it comes back to your inbox on '
                     '${date}.', mapping={'number': item.number, 'date': format_when(
                         self.request, followups.until_day(parking), time=False)})
        return self._run(change)

    @view_config(route_name='file_resume')
    def resume(self):
        def change(item, officer):
            followups.resume(item, officer)
            return _('${number} taken back into your inbox.', mapping={'number': item.number})
        return self._run(change)
