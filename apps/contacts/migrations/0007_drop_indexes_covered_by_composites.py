"""Drop three single-column foreign-key indexes that composite indexes already serve.

contacts_contact.workspace_id: `contacts_ws_id` (workspace_id, id) and every (workspace_id, ...)
index start with it. contacts_contacttag.contact_id: the unique (contact_id, tag_id).
contacts_contacttag.tag_id: `contacts_contacttag_tag` (tag_id, contact_id). Each was one more index
to keep on every write: a million-row import inserts a million contacts and 1.5 million links.

Only the indexes go. Django's own AlterField would also drop and re-add each foreign-key constraint,
which re-checks every row of the table under a lock; the constraints do not change, so the
database side is a plain DROP INDEX (the same names on PostgreSQL and SQLite).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "contacts_contact_workspace_id_c425fb7f": ("contacts_contact", "workspace_id"),
    "contacts_contacttag_contact_id_7419fc13": ("contacts_contacttag", "contact_id"),
    "contacts_contacttag_tag_id_5d4815b8": ("contacts_contacttag", "tag_id"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0006_consent_pending"),
        ("workspaces", "0003_contact_pressure"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="workspace",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="contacts",
                        to="workspaces.workspace",
                    ),
                ),
                migrations.AlterField(
                    model_name="contacttag",
                    name="contact",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contacts.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="contacttag",
                    name="tag",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contacts.tag",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    reverse_sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})",
                )
                for name, (table, column) in INDEXES.items()
            ],
        ),
    ]
