"""factory-boy factories for every model; later apps add theirs here."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from apps.accounts.models import User
from apps.contacts.models import Contact, ContactTag, CustomField, ImportPreset, Tag
from apps.core.roles import Role
from apps.workspaces import tokens
from apps.workspaces.models import ApiToken, Invitation, Membership, Team, TeamKind, Workspace

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class WorkspaceFactory(factory.django.DjangoModelFactory[Workspace]):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    time_zone = "Europe/Berlin"


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = TeamKind.MARKETING
    name = factory.Sequence(lambda n: f"Team {n}")


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.EDITOR
    team = None


class InvitationFactory(factory.django.DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.EDITOR
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


def issue_token(*, membership: Membership, role: str | None = None) -> tuple[ApiToken, str]:
    """A real token through the service, so tests use the same hashing as production."""
    issued = tokens.api_token_create(
        workspace=membership.workspace,
        name="Test integration",
        role=role or membership.role,
        created_by=membership.user,
        creator_role=Role(membership.role),
    )
    return issued.token, issued.key


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"tag-{n}")


class CustomFieldFactory(factory.django.DjangoModelFactory[CustomField]):
    class Meta:
        model = CustomField

    workspace = factory.SubFactory(WorkspaceFactory)
    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    field_type = "text"


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    """A plausible customer. Normalised columns are derived the way the services derive them."""

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    email_normalized = factory.LazyAttribute(lambda contact: contact.email.strip().lower())
    address_line1 = factory.Sequence(lambda n: f"Torstraße {n % 200 + 1}")
    city = "Berlin"
    country = "DE"

    @factory.post_generation
    def tags(self, create: bool, extracted: list[Tag] | None, **kwargs: object) -> None:
        if create and extracted:
            ContactTag.objects.bulk_create(ContactTag(contact=self, tag=tag) for tag in extracted)


class ImportPresetFactory(factory.django.DjangoModelFactory[ImportPreset]):
    """A saved mapping for a German shop export."""

    class Meta:
        model = ImportPreset

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Shop export {n}")
    mapping = factory.LazyFunction(lambda: {"E-Mail": "email", "Vorname": "first_name", "Notiz": ""})
    mode = "upsert"
    tags = factory.LazyFunction(list)
