"""Create the database cache table (the default CACHE_URL) with the schema.

Throttle and lockout counters live in the cache; with the database cache,
every worker and replica shares them without extra infrastructure.
createcachetable is idempotent and does nothing for a Redis CACHE_URL.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False)]
