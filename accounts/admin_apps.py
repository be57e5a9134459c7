"""``django.contrib.admin``'s app config with DevLab's admin site as the default site.

Its own module: ``accounts.apps`` may declare one app config only.
"""

from django.contrib.admin.apps import AdminConfig


class DevLabAdminConfig(AdminConfig):
    """The admin whose default site asks for the second factor (``accounts.admin_site``)."""

    default_site = "accounts.admin_site.DevLabAdminSite"
