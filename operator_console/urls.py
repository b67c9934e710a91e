from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy
from django.views.generic import RedirectView

from accounts import views as accounts_views

admin.site.site_header = gettext_lazy("Broadcast Console")
admin.site.site_title = gettext_lazy("Broadcast Console")
admin.site.index_title = gettext_lazy("Operations")
# Wide lists (broadcast progress, delivery counters) need the page width more than a second menu.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # The platform tells the console who followed and unfollowed (HMAC-signed; README, "Platform events intake").
    path("internal/v1/follower-events", accounts_views.follower_events, name="follower_events"),
    # The advanced mass interface: the platform's /cgi-bin/ paths, and /api/schema/, /api/docs/.
    path("", include("api.urls")),
]
