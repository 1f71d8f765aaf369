"""Search indexes for the contact list at a million rows (PostgreSQL only; SQLite scans).

- Names: Django's `icontains` compiles to `UPPER(col) LIKE UPPER('%term%')`, so the trigram
  indexes are on `UPPER(...)`.
- Email: prefix search (`LIKE 'term%'`) needs `text_pattern_ops` under a non-C collation.
- Phone: digits anywhere in the E.164 number, a trigram index.
"""

from django.db import migrations

INDEXES = {
    "contacts_first_name_trgm": "USING gin (UPPER(first_name) gin_trgm_ops)",
    "contacts_last_name_trgm": "USING gin (UPPER(last_name) gin_trgm_ops)",
    "contacts_phone_trgm": "USING gin (phone_e164 gin_trgm_ops)",
    "contacts_email_prefix": "(workspace_id, email_normalized text_pattern_ops)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON contacts_contact {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
