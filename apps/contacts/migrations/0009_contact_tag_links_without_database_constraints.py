"""Contact-tag links keep their foreign keys in Django, without constraints in the database.

The constraint checks (two per link, each locking the referenced row `FOR KEY SHARE`) took 28 s of
CPU for the 1.5 million links of a million-row import. Django still cascades as declared; see the
`ContactTag` docstring and docs/architecture.md ("Model and indexes"). On PostgreSQL this drops two
constraints, which takes no time; SQLite rebuilds the table.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("contacts", "0008_slimmer_contact_indexes")]

    operations = [
        migrations.AlterField(
            model_name="contacttag",
            name="contact",
            field=models.ForeignKey(
                db_constraint=False,
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
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="contacts.tag",
            ),
        ),
    ]
