"""Indexes for the list's real order (newest created_at first, id breaking ties).

Measured with EXPLAIN at a million rows on PostgreSQL: ordering by id, a
since/until window in the past was a backward scan of the primary key that
filtered out every newer row (95 ms six months back); with (filter,
created_at, id) every filter and window is one index range scan.

created_at's own index is dropped in SQL only: an AlterField would make
SQLite rebuild the table, and the rebuilt table would lose the append-only
triggers of 0002.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_append_only_triggers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditentry',
            options={'ordering': ['-created_at', '-id'], 'verbose_name': 'audit entry', 'verbose_name_plural': 'audit entries'},
        ),
        migrations.RemoveIndex(
            model_name='auditentry',
            name='audit_action_id_idx',
        ),
        migrations.RemoveIndex(
            model_name='auditentry',
            name='audit_actor_id_idx',
        ),
        migrations.RemoveIndex(
            model_name='auditentry',
            name='audit_ip_id_idx',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='auditentry',
                    name='created_at',
                    field=models.DateTimeField(verbose_name='time'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX "audit_auditentry_created_at_b5668ee0"',
                    'CREATE INDEX "audit_auditentry_created_at_b5668ee0" ON "audit_auditentry" ("created_at")',
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['created_at', 'id'], name='audit_created_idx'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['action', 'created_at', 'id'], name='audit_action_created_idx'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['actor', 'created_at', 'id'], name='audit_actor_created_idx'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['ip', 'created_at', 'id'], name='audit_ip_created_idx'),
        ),
    ]
