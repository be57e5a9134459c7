"""Blanks the refresh tokens simplejwt stored in full before DevLab stopped storing them.

``OutstandingToken.token`` held each refresh token's text: a credential,
valid until it expired, for anyone who could read the table. Revocation and
reuse detection read only the ``jti`` (accounts/tokens.py), so the text is
erased, not hashed. There is nothing to restore on the way back.
"""

from django.db import migrations


def blank_tokens(apps, schema_editor):
    OutstandingToken = apps.get_model("token_blacklist", "OutstandingToken")
    OutstandingToken.objects.using(schema_editor.connection.alias).exclude(token="").update(token="")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_administrators_group"),
        ("token_blacklist", "0013_alter_blacklistedtoken_options_and_more"),
    ]

    operations = [migrations.RunPython(blank_tokens, migrations.RunPython.noop, elidable=True)]
