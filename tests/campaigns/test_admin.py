"""The campaign admin: data fixes through the services, nothing that schedules or sends, only the
brakes (pause, cancel) as actions, results of planned channels, import-export of drafts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.models import User
from apps.campaigns import services
from apps.campaigns.models import Campaign, ChannelItem, ChannelResult
from apps.campaigns.resources import CampaignResource, ChannelItemResource, split_names
from apps.core.roles import Role
from apps.segments import services as segment_services
from tests.campaigns.conftest import Audience
from tests.conftest import Cast
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/admin/campaigns/campaign/"
ITEMS = "/admin/campaigns/channelitem/"
NO_ITEMS = {"items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"}  # the read-only item inline


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@ensemble.example", password="x"))
    return client


def _email_form(item: ChannelItem, **values: Any) -> dict[str, Any]:
    data = {
        name: getattr(item, name)
        for name in (
            "name",
            "subject",
            "preheader",
            "from_name",
            "from_email",
            "reply_to",
            "body_html",
            "body_text",
        )
    }
    data["segments"] = [s.id for s in item.segments.all()]
    data["exclusions"] = [s.id for s in item.exclusions.all()]
    return {**data, "owner_team": "", "throttle_per_minute": "", **values}


def _schedule(cast: Cast, item: ChannelItem) -> ChannelItem:
    return services.item_schedule(item=item, actor=cast.owner, actor_role=Role.ADMIN)


def _import(client: Client, url: str, csv: str) -> Any:
    upload = SimpleUploadedFile("rows.csv", csv.encode(), content_type="text/csv")
    preview = client.post(f"{url}import/", {"format": "0", "import_file": upload, "resource": "0"})
    if "confirm_form" in preview.context:
        client.post(f"{url}process_import/", preview.context["confirm_form"].initial)
    return preview.context["result"]


def _export(client: Client, url: str, resource: Any) -> str:
    prefix = type(resource).__name__.lower()
    chosen = {f"{prefix}_{field.column_name}": "on" for field in resource.get_export_fields()}
    return client.post(f"{url}export/", {"format": "0", "resource": "0", **chosen}).content.decode()


def _row_errors(result: Any) -> dict[int, str]:
    return {row.number: str(row.error_dict) for row in result.invalid_rows}


# ------------------------------------------------------------------------------------- campaigns
def test_the_campaign_list_shows_item_counts_with_bounded_queries(
    superuser_client: Client, cast: Cast, email_item: ChannelItem, django_assert_max_num_queries
) -> None:
    for n in range(10):
        services.campaign_create(workspace=cast.workspace, name=f"Campaign {n}")

    with django_assert_max_num_queries(12):
        response = superuser_client.get(CAMPAIGNS, {"q": "acme"})

    counts = {c.name: c.item_count for c in response.context["cl"].result_list}
    assert len(counts) == 11
    assert counts["Spring launch"] == 1


def test_adding_a_campaign_checks_the_name_through_the_service(
    superuser_client: Client, cast: Cast, campaign: Campaign
) -> None:
    data = {"workspace": cast.workspace.id, "name": "SPRING LAUNCH", "goal": ""}

    response = superuser_client.post(f"{CAMPAIGNS}add/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        "There is already a campaign “SPRING LAUNCH” in this workspace."
    ]


def test_a_campaign_saved_in_the_admin_goes_through_the_service(
    superuser_client: Client, cast: Cast, campaign: Campaign
) -> None:
    team = TeamFactory(workspace=cast.workspace, name="Marketing")

    response = superuser_client.post(
        f"{CAMPAIGNS}{campaign.id}/change/",
        {
            "name": "Spring launch",
            "goal": "More",
            "owner_team": team.id,
            "starts_on": "2027-03-16",
            **NO_ITEMS,
        },
    )

    campaign.refresh_from_db()
    assert response.status_code == 302
    assert (campaign.goal, campaign.owner_team, campaign.version) == ("More", team, 2)


def test_a_campaign_with_a_scheduled_item_is_not_deleted(
    superuser_client: Client, cast: Cast, email_item: ChannelItem
) -> None:
    _schedule(cast, email_item)

    page = superuser_client.get(f"{CAMPAIGNS}{email_item.campaign_id}/delete/").content.decode()
    superuser_client.post(f"{CAMPAIGNS}{email_item.campaign_id}/delete/", {"post": "yes"})

    assert "“Launch email” in “Spring launch” is scheduled: cancel or unschedule it first" in page
    assert Campaign.objects.filter(pk=email_item.campaign_id).exists()


def test_a_refused_delete_is_a_message_not_a_server_error(
    superuser_client: Client, cast: Cast, email_item: ChannelItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scheduled between the delete page and the confirmation: the service's refusal is shown."""
    _schedule(cast, email_item)
    monkeypatch.setattr("apps.campaigns.admin._live_items", lambda _items: [])

    response = superuser_client.post(
        f"{CAMPAIGNS}{email_item.campaign_id}/delete/", {"post": "yes"}, follow=True
    )

    assert response.status_code == 200
    assert "Not deleted: “Launch email” is scheduled" in response.content.decode()
    assert Campaign.objects.filter(pk=email_item.campaign_id).exists()


# ---------------------------------------------------------------------------------- channel items
def test_the_only_item_actions_stop_sending(superuser_client: Client, email_item: ChannelItem) -> None:
    response = superuser_client.get(ITEMS)

    choices = response.context["action_form"].fields["action"].choices
    assert [name for name, _ in choices if name] == ["pause_items", "cancel_items"]


def test_the_item_page_has_no_button_that_schedules_or_sends(
    superuser_client: Client, email_item: ChannelItem
) -> None:
    page = superuser_client.get(f"{ITEMS}{email_item.id}/change/").content.decode()

    buttons = set(re.findall(r'<input type="submit"[^>]*name="([^"]+)"', page))
    assert buttons <= {"_save", "_continue", "_addanother"}
    assert not re.search(r"(?i)(schedule|send now|resume)</(a|button)>", page)


def test_editing_a_draft_checks_merge_tags_on_the_field(
    superuser_client: Client, email_item: ChannelItem
) -> None:
    data = _email_form(email_item, body_text="Hi\n{{ frist_name }}")

    response = superuser_client.post(f"{ITEMS}{email_item.id}/change/", data)

    assert response.status_code == 200
    [problem] = response.context["adminform"].form.errors["body_text"]
    assert problem.startswith("line 2, column 1:")
    assert "frist_name" in problem


def test_editing_a_draft_saves_through_the_service_and_stays_a_draft(
    superuser_client: Client, email_item: ChannelItem
) -> None:
    response = superuser_client.post(
        f"{ITEMS}{email_item.id}/change/", _email_form(email_item, subject="New")
    )

    email_item.refresh_from_db()
    assert response.status_code == 302
    assert (email_item.subject, email_item.status, email_item.version) == ("New", "draft", 2)


def test_changing_a_scheduled_items_subject_is_refused(
    superuser_client: Client, cast: Cast, email_item: ChannelItem
) -> None:
    scheduled = _schedule(cast, email_item)
    page = superuser_client.get(f"{ITEMS}{email_item.id}/change/").content.decode()

    response = superuser_client.post(
        f"{ITEMS}{email_item.id}/change/", _email_form(email_item, subject="Changed")
    )

    stored = ChannelItem.objects.get(pk=email_item.pk)
    assert 'name="subject"' not in page  # read-only once scheduled
    assert response.status_code == 200
    assert "the content is locked" in str(response.context["adminform"].form.non_field_errors())
    assert (stored.subject, stored.status, stored.version) == (
        scheduled.subject,
        "scheduled",
        scheduled.version,
    )


def test_adding_an_item_creates_a_draft_and_opens_its_content(
    superuser_client: Client, campaign: Campaign
) -> None:
    response = superuser_client.post(
        f"{ITEMS}add/", {"campaign": campaign.id, "channel": "email", "name": "Teaser"}
    )

    item = ChannelItem.objects.get()
    assert response["Location"].endswith(f"{ITEMS}{item.id}/change/")
    assert (item.status, item.from_email, item.created_by.email) == ("draft", "", "ops@ensemble.example")


def test_pause_and_cancel_skip_items_in_the_wrong_state_by_name(
    superuser_client: Client, cast: Cast, campaign: Campaign, email_item: ChannelItem
) -> None:
    _schedule(cast, email_item)
    text = services.item_create(campaign=campaign, channel="sms", name="Launch day text", sms_text="Hi")
    chosen = [email_item.id, text.id]

    paused = superuser_client.post(ITEMS, {"action": "pause_items", "_selected_action": chosen}, follow=True)
    email_item.refresh_from_db()
    status_after_pause = email_item.status
    superuser_client.post(ITEMS, {"action": "cancel_items", "_selected_action": [email_item.id]})
    email_item.refresh_from_db()

    assert "Paused: “Launch email”." in paused.content.decode()
    assert "Skipped, in the wrong state: “Launch day text” (Only a scheduled or sending item" in (
        paused.content.decode()
    )
    assert (status_after_pause, email_item.status) == ("paused", "cancelled")
    assert ChannelItem.objects.get(pk=text.pk).status == "draft"


def test_results_of_a_planned_item_are_added_through_the_service(
    superuser_client: Client, campaign: Campaign
) -> None:
    post = services.item_create(
        campaign=campaign, channel="social", name="Instagram post", placement="Instagram"
    )
    data = {
        "name": post.name, "owner_team": "", "content": "", "placement": "Instagram", "budget": "",
        "starts_on": "", "ends_on": "", "results-TOTAL_FORMS": "1", "results-INITIAL_FORMS": "0",
        "results-0-recorded_on": "2027-03-20", "results-0-reach": "12000", "results-0-responses": "340",
        "results-0-conversions": "", "results-0-cost": "", "results-0-note": "First week",
    }  # fmt: skip

    response = superuser_client.post(f"{ITEMS}{post.id}/change/", data)

    result = ChannelResult.objects.get()
    assert response.status_code == 302
    assert (result.item, result.reach, result.workspace_id, result.recorded_by.email) == (
        post, 12000, campaign.workspace_id, "ops@ensemble.example",
    )  # fmt: skip


def test_a_result_without_figures_is_a_form_error(superuser_client: Client, campaign: Campaign) -> None:
    post = services.item_create(campaign=campaign, channel="social", name="Instagram post")
    data = {
        "name": post.name, "results-TOTAL_FORMS": "1", "results-INITIAL_FORMS": "0",
        "results-0-recorded_on": "2027-03-20", "results-0-note": "Nothing yet",
    }  # fmt: skip

    response = superuser_client.post(f"{ITEMS}{post.id}/change/", data)

    assert response.status_code == 200
    assert "Enter at least one figure" in response.content.decode()
    assert not ChannelResult.objects.exists()


# --------------------------------------------------------------------------------- import-export
def test_names_holding_commas_are_split_against_the_known_names() -> None:
    known = ["Do not target: opted out, press, wholesale", "VIPs"]

    assert split_names("vips, Do not target: opted out, press, wholesale, Nobody", known) == [
        "vips",
        "Do not target: opted out, press, wholesale",
        "Nobody",
    ]


def test_export_then_import_unchanged_changes_nothing(
    superuser_client: Client, cast: Cast, campaign: Campaign, email_item: ChannelItem, audience: Audience
) -> None:
    TeamFactory(workspace=cast.workspace, name="Marketing")
    services.campaign_update(campaign=campaign, owner_team=cast.workspace.teams.get(name="Marketing"))
    services.item_create(
        campaign=campaign, channel="sms", name="Text", sms_text='Hi {{ first_name|default:"you" }}'
    )
    services.item_create(
        campaign=campaign, channel="social", name="Post", placement="Instagram", budget="1500"
    )
    _schedule(cast, services.item_create(campaign=campaign, channel="in_store", name="Window"))
    services.item_create(campaign=campaign, channel="website", name="=Banner", content="+49 30 1234567")
    before = {item.id: (item.version, item.updated_at) for item in ChannelItem.objects.all()}

    campaigns = _import(superuser_client, CAMPAIGNS, _export(superuser_client, CAMPAIGNS, CampaignResource()))
    exported = _export(superuser_client, ITEMS, ChannelItemResource())
    items = _import(superuser_client, ITEMS, exported)

    assert _row_errors(campaigns) == _row_errors(items) == {}
    assert [row.import_type for row in campaigns.rows] == ["skip"]
    assert [row.import_type for row in items.rows] == ["skip"] * 5
    assert ",'=Banner," in exported  # a spreadsheet shows it as text instead of running it
    assert ",'+49 30 1234567," in exported
    assert {item.id: (item.version, item.updated_at) for item in ChannelItem.objects.all()} == before
    assert Campaign.objects.get().version == 2


def test_imported_rows_create_drafts_and_update_drafts(
    superuser_client: Client, cast: Cast, campaign: Campaign, email_item: ChannelItem, audience: Audience
) -> None:
    csv = (
        "workspace,campaign,channel,name,subject,body_text,segments,exclusions\n"
        "acme,spring launch,email,Launch email,Fresh subject,Hi,Customers,Complaints\n"
        'acme,Spring launch,email,Reminder,"{{ first_name|default:""Hi"" }}, still there?",Hi,customers,\n'
    )

    result = _import(superuser_client, ITEMS, csv)

    email_item.refresh_from_db()
    reminder = ChannelItem.objects.get(name="Reminder")
    assert not result.has_validation_errors()
    assert (email_item.subject, email_item.status) == ("Fresh subject", "draft")
    assert (reminder.status, reminder.from_email, list(reminder.segments.all())) == (
        "draft",
        "",
        [audience.segment],
    )


def test_an_imported_row_with_a_broken_merge_tag_names_line_and_column(
    superuser_client: Client, campaign: Campaign
) -> None:
    csv = 'workspace,campaign,channel,name,body_text\nacme,Spring launch,email,Broken,"Hello,\n{{ frist_name }}"\n'

    result = _import(superuser_client, ITEMS, csv)

    errors = _row_errors(result)
    assert "line 2, column 1" in errors[1]
    assert "frist_name" in errors[1]
    assert not ChannelItem.objects.exists()


def test_an_imported_row_naming_another_workspaces_segment_is_an_error(
    superuser_client: Client, cast: Cast, campaign: Campaign
) -> None:
    segment_services.segment_create(workspace=cast.other_workspace, name="Their customers", rules={"all": []})
    csv = (
        "workspace,campaign,channel,name,sms_text,segments\nacme,Spring launch,sms,Text,Hi,Their customers\n"
    )

    result = _import(superuser_client, ITEMS, csv)

    assert "There is no segment “Their customers” in this workspace." in _row_errors(result)[1]
    assert not ChannelItem.objects.exists()


def test_an_imported_row_for_a_scheduled_item_is_refused(
    superuser_client: Client, cast: Cast, email_item: ChannelItem
) -> None:
    _schedule(cast, email_item)
    csv = "workspace,campaign,channel,name,subject\nacme,Spring launch,email,Launch email,Changed\n"

    result = _import(superuser_client, ITEMS, csv)

    assert "scheduled items can't be changed by import" in _row_errors(result)[1]
    assert ChannelItem.objects.get(pk=email_item.pk).subject != "Changed"


def test_an_imported_campaign_names_the_personas_the_workspace_lacks(
    superuser_client: Client, cast: Cast
) -> None:
    csv = 'workspace,name,owner_team,personas\nacme,Autumn,,"Nobody, Somebody"\nacme,Winter,,\n'

    result = _import(superuser_client, CAMPAIGNS, csv)

    assert "There is no persona “Nobody”, “Somebody” in this workspace." in _row_errors(result)[1]
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Winter"]


def test_every_admin_page_renders(
    superuser_client: Client, cast: Cast, campaign: Campaign, email_item: ChannelItem
) -> None:
    items = [
        email_item,
        services.item_create(campaign=campaign, channel="sms", name="Text", sms_text="Hi"),
        services.item_create(campaign=campaign, channel="webhook", name="Push"),
        services.item_create(campaign=campaign, channel="direct_mail", name="Postcard"),
    ]
    pages = [CAMPAIGNS, f"{CAMPAIGNS}add/", f"{CAMPAIGNS}{campaign.id}/change/", f"{CAMPAIGNS}import/",
             f"{CAMPAIGNS}export/", ITEMS, f"{ITEMS}add/", f"{ITEMS}import/", f"{ITEMS}export/",
             *(f"{ITEMS}{item.id}/change/" for item in items)]  # fmt: skip

    statuses = {page: superuser_client.get(page).status_code for page in pages}

    assert set(statuses.values()) == {200}, statuses
    assert "Postcard" in superuser_client.get(f"{CAMPAIGNS}{campaign.id}/change/").content.decode()


def test_a_booked_planned_item_takes_results_but_not_content(
    superuser_client: Client, cast: Cast, campaign: Campaign
) -> None:
    booked = _schedule(cast, services.item_create(campaign=campaign, channel="outdoor", name="Billboard"))
    results = {
        "results-TOTAL_FORMS": "1", "results-INITIAL_FORMS": "0", "results-0-recorded_on": "2027-03-20",
        "results-0-reach": "50000",
    }  # fmt: skip

    saved = superuser_client.post(f"{ITEMS}{booked.id}/change/", results)
    deleted = superuser_client.post(f"{ITEMS}{booked.id}/delete/", {"post": "yes"})

    stored = ChannelItem.objects.get(pk=booked.pk)
    assert saved.status_code == 302
    assert ChannelResult.objects.get().reach == 50000
    assert (stored.status, stored.version) == ("scheduled", booked.version)
    assert "is scheduled: cancel or unschedule it first" in deleted.content.decode()
