from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "apps.contacts"
    label = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from apps.contacts.importing.retention import delete_files_with_import
        from apps.contacts.models import ImportJob

        post_delete.connect(delete_files_with_import, sender=ImportJob, dispatch_uid="contacts.import_files")
