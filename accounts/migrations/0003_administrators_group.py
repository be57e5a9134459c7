"""The Administrators group: what being an admin means in the admin site.

Exactly: view and change users, view audit entries (not notes: users' private
text stays private). Django creates permissions after migrations (post_migrate),
so on a fresh database they are created here first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Administrators"
PERMISSIONS = (("accounts", "view_user"), ("accounts", "change_user"), ("audit", "view_auditentry"))


def create_group(apps, schema_editor):
    for app_label in {app_label for app_label, _ in PERMISSIONS}:
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_cache_table"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
