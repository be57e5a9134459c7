"""Ends every session stored before sessions were keyed by a hash (accounts/sessions.py).

Their rows hold the raw session keys, which a copy of the table would let
anyone use as a cookie. They are deleted rather than re-keyed, so that keys
already copied (a backup made before this release) stop working too: admins
log in again once.
"""

from django.db import migrations


def end_sessions(apps, schema_editor):
    apps.get_model("sessions", "Session").objects.using(schema_editor.connection.alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_merge_0004_blank_refresh_tokens_0004_recovery_codes"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(end_sessions, migrations.RunPython.noop, elidable=True)]
