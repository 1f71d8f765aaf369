"""Browser pages for workspaces: home, create, dashboard, team, settings, API tokens, invitations.

Thin: forms validate input, services write, selectors read. A service's ValidationError lands on
the form it came from.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.selectors import user_exists_with_email
from apps.core.http import AuthenticatedHttpRequest, WorkspaceHttpRequest, render_page
from apps.core.roles import ROLE_HELP, Role
from apps.workspaces import invitations, selectors, services, tokens
from apps.workspaces.decorators import workspace_view
from apps.workspaces.forms import (
    ApiTokenForm,
    InvitationSignupForm,
    InviteForm,
    MembershipForm,
    TeamForm,
    WorkspaceCreateForm,
    WorkspaceSettingsForm,
)
from apps.workspaces.permissions import SESSION_WORKSPACE_KEY


def _team_url(request: WorkspaceHttpRequest) -> str:
    return reverse("workspaces:team", kwargs={"workspace_slug": request.workspace.slug})


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open the workspace used last, else the first one, else offer to create one."""
    workspaces = selectors.workspaces_for_user(user=request.user)
    last = workspaces.filter(slug=request.session.get(SESSION_WORKSPACE_KEY)).first() or workspaces.first()
    if last is not None:
        return redirect("workspaces:dashboard", workspace_slug=last.slug)
    return redirect("workspace-create")


@login_required
@require_http_methods(["GET", "POST"])
def workspace_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = WorkspaceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = services.workspace_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Workspace “{workspace.name}” is ready. Invite your teams next.")
            return redirect("workspaces:team", workspace_slug=workspace.slug)
    return render_page(request, "workspaces/create.html", {"form": form}, status=422 if form.errors else 200)


@workspace_view()
def dashboard(request: WorkspaceHttpRequest) -> HttpResponse:
    teams = list(selectors.team_list(workspace=request.workspace))
    context = {
        "teams": teams,
        "member_count": selectors.membership_list(workspace=request.workspace).count(),
        "pending_invitations": selectors.invitation_list(workspace=request.workspace).count(),
        "teams_without_members": [team for team in teams if team.member_count == 0],  # type: ignore[attr-defined]
    }
    return render_page(request, "workspaces/dashboard.html", context)


def _team_page(
    request: WorkspaceHttpRequest,
    *,
    invite_form: InviteForm | None = None,
    team_form: TeamForm | None = None,
    status: int = 200,
) -> HttpResponse:
    workspace = request.workspace
    is_admin = Role(request.membership.role).includes(Role.ADMIN)
    teams = list(selectors.team_list(workspace=workspace))
    member_rows = [
        (m, MembershipForm(membership=m, teams=teams, auto_id=f"id_m{m.id}_%s") if is_admin else None)
        for m in selectors.membership_list(workspace=workspace)
    ]
    context = {
        "member_rows": member_rows,
        "teams": teams,
        "invitations": selectors.invitation_list(workspace=workspace) if is_admin else [],
        "invite_form": invite_form or InviteForm(teams=teams),
        "team_form": team_form or TeamForm(),
        "is_admin": is_admin,
        "role_help": [(Role(role).label, ROLE_HELP[Role(role)]) for role in Role.values],
    }
    return render_page(request, "workspaces/team.html", context, status=status)


@workspace_view()
def team(request: WorkspaceHttpRequest) -> HttpResponse:
    return _team_page(request)


@workspace_view(Role.ADMIN)
@require_POST
def invitation_create(request: WorkspaceHttpRequest) -> HttpResponse:
    form = InviteForm(request.POST, teams=list(selectors.team_list(workspace=request.workspace)))
    if form.is_valid():
        try:
            invitation = invitations.invitation_create(
                workspace=request.workspace, invited_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect(_team_url(request))
    return _team_page(request, invite_form=form, status=422)


@workspace_view(Role.ADMIN)
@require_POST
def invitation_resend(request: WorkspaceHttpRequest, invitation_id: int) -> HttpResponse:
    invitation = selectors.invitation_get(workspace=request.workspace, invitation_id=invitation_id)
    try:
        invitations.invitation_resend(invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Invitation sent again to {invitation.email}.")
    return redirect(_team_url(request))


@workspace_view(Role.ADMIN)
@require_POST
def invitation_revoke(request: WorkspaceHttpRequest, invitation_id: int) -> HttpResponse:
    invitation = selectors.invitation_get(workspace=request.workspace, invitation_id=invitation_id)
    invitations.invitation_revoke(invitation=invitation)
    messages.success(request, f"Invitation to {invitation.email} withdrawn; its link no longer works.")
    return redirect(_team_url(request))


@workspace_view(Role.ADMIN)
@require_POST
def membership_update(request: WorkspaceHttpRequest, membership_id: int) -> HttpResponse:
    """Change role and team. With htmx only the member's row is swapped, saying what happened."""
    membership = selectors.membership_get(workspace=request.workspace, membership_id=membership_id)
    teams = list(selectors.team_list(workspace=request.workspace))
    form = MembershipForm(request.POST, membership=membership, teams=teams, auto_id=f"id_m{membership.id}_%s")
    saved = False
    if form.is_valid():
        try:
            services.membership_update(
                membership=membership, role=form.cleaned_data["role"], team=form.cleaned_data["team"]
            )
        except ValidationError as error:
            membership.refresh_from_db()
            form.add_error(None, error)
        else:
            saved = True
    if request.htmx:
        if saved:
            form = MembershipForm(membership=membership, teams=teams, auto_id=f"id_m{membership.id}_%s")
        context = {"membership": membership, "form": form, "is_admin": True, "saved": saved}
        return render_page(
            request, "workspaces/team.html", context, partial="member-row", status=200 if saved else 422
        )
    if saved:
        messages.success(request, f"{membership.user.display_name} is now {membership.get_role_display()}.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(_team_url(request))


@workspace_view(Role.ADMIN)
@require_POST
def membership_remove(request: WorkspaceHttpRequest, membership_id: int) -> HttpResponse:
    membership = selectors.membership_get(workspace=request.workspace, membership_id=membership_id)
    try:
        services.membership_remove(membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_team_url(request))
    messages.success(request, f"{membership.user.display_name} no longer has access to this workspace.")
    if membership.user_id == request.user.id:
        return redirect("home")
    return redirect(_team_url(request))


@workspace_view(Role.ADMIN)
@require_POST
def team_create(request: WorkspaceHttpRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            created = services.team_create(workspace=request.workspace, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Team “{created.name}” added.")
            return redirect(_team_url(request))
    return _team_page(request, team_form=form, status=422)


@workspace_view(Role.ADMIN)
@require_POST
def team_delete(request: WorkspaceHttpRequest, team_id: int) -> HttpResponse:
    deleted = selectors.team_get(workspace=request.workspace, team_id=team_id)
    services.team_delete(team=deleted)
    messages.success(request, f"Team “{deleted.name}” deleted; its members stay in the workspace.")
    return redirect(_team_url(request))


@workspace_view()
@require_http_methods(["GET", "POST"])
def settings_page(request: WorkspaceHttpRequest) -> HttpResponse:
    is_admin = Role(request.membership.role).includes(Role.ADMIN)
    form = WorkspaceSettingsForm(request.POST or None, instance=request.workspace)
    if not is_admin:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("Only admins can change workspace settings.")
        if form.is_valid():
            try:
                services.workspace_update(workspace=request.workspace, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Workspace settings saved.")
                return redirect("workspaces:settings", workspace_slug=request.workspace.slug)
    context = {"form": form, "is_admin": is_admin}
    return render_page(request, "workspaces/settings.html", context, status=422 if form.errors else 200)


@workspace_view(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def api_tokens(request: WorkspaceHttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = tokens.api_token_create(
                workspace=request.workspace,
                created_by=request.user,
                creator_role=Role(request.membership.role),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form = ApiTokenForm()
    context = {
        "form": form,
        "issued": issued,
        "tokens": selectors.api_token_list(workspace=request.workspace),
    }
    return render_page(request, "workspaces/api_tokens.html", context, status=422 if form.errors else 200)


@workspace_view(Role.ADMIN)
@require_POST
def api_token_revoke(request: WorkspaceHttpRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_get(workspace=request.workspace, token_id=token_id)
    tokens.api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked: requests with it now fail.")
    return redirect("workspaces:api-tokens", workspace_slug=request.workspace.slug)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the invitation email: accept as the logged-in user, or create a login first."""
    try:
        invitation = invitations.invitation_from_token(token)
    except invitations.InvitationError as error:
        return render_page(request, "workspaces/invitation_invalid.html", {"reason": str(error)}, status=410)
    dashboard_url = reverse("workspaces:dashboard", kwargs={"workspace_slug": invitation.workspace.slug})
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                invitations.invitation_accept(invitation=invitation, user=request.user)
            except invitations.InvitationError as error:
                reason = {"reason": str(error)}
                return render_page(request, "workspaces/invitation_invalid.html", reason, status=409)
            messages.success(request, f"Welcome to {invitation.workspace.name}.")
            return redirect(dashboard_url)
        return render_page(request, "workspaces/invitation_accept.html", {"invitation": invitation})
    if user_exists_with_email(email=invitation.email):
        messages.info(request, f"Log in as {invitation.email} to accept the invitation.")
        return redirect(f"{reverse('login')}?{urlencode({'next': request.path})}")
    form = InvitationSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = invitations.NewAccount(
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            password=form.cleaned_data["password1"],
        )
        try:
            user = invitations.invitation_accept_as_new_user(invitation=invitation, account=account)
        except ValidationError as error:
            form.add_error("password1", error)
        except invitations.InvitationError as error:
            return render_page(
                request, "workspaces/invitation_invalid.html", {"reason": str(error)}, status=409
            )
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to {invitation.workspace.name}.")
            return redirect(dashboard_url)
    context: dict[str, Any] = {"invitation": invitation, "form": form}
    return render_page(
        request, "workspaces/invitation_signup.html", context, status=422 if form.errors else 200
    )
