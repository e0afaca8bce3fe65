from django.contrib.auth import views as auth_views
from django.urls import path

from aman.core import views
from aman.core.forms import ThrottledAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="core/login.html",
            redirect_authenticated_user=True,
            authentication_form=ThrottledAuthenticationForm,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("crises/", views.crisis_list, name="crisis_list"),
    path("crises/new/", views.crisis_create, name="crisis_create"),
    path("crises/switch/", views.crisis_switch, name="crisis_switch"),
    path("crises/<int:pk>/", views.crisis_detail, name="crisis_detail"),
    path("crises/<int:pk>/edit/", views.crisis_edit, name="crisis_edit"),
    path("crises/<int:pk>/open/", views.crisis_open, name="crisis_open"),
    path("crises/<int:pk>/close/", views.crisis_close, name="crisis_close"),
    path("missions/", views.mission_list, name="mission_list"),
    path("missions/new/", views.mission_create, name="mission_create"),
    path("missions/<int:pk>/edit/", views.mission_edit, name="mission_edit"),
    path("audit/", views.audit_list, name="audit_list"),
    path("account/tokens/", views.token_list, name="token_list"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
