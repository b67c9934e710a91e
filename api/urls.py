"""The platform's paths (`/cgi-bin/...`, so an integration changes only its base URL) and the
interface's documentation: the OpenAPI schema and Swagger UI from the console's own static files."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import followers, mass, token

urlpatterns = [
    path("cgi-bin/token", token.TokenView.as_view(), name="api-token"),
    path("cgi-bin/message/mass/sendall", mass.SendAllView.as_view(), name="api-mass-sendall"),
    path("cgi-bin/message/mass/send", mass.SendView.as_view(), name="api-mass-send"),
    path("cgi-bin/message/mass/preview", mass.PreviewView.as_view(), name="api-mass-preview"),
    path("cgi-bin/message/mass/get", mass.GetView.as_view(), name="api-mass-get"),
    path("cgi-bin/message/mass/delete", mass.DeleteView.as_view(), name="api-mass-delete"),
    path("cgi-bin/tags/get", followers.TagsView.as_view(), name="api-tags-get"),
    path("cgi-bin/user/get", followers.FollowersView.as_view(), name="api-user-get"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file of its own: no inline script for a strict CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
