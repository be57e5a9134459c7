from django.apps import AppConfig


class DevlabConfig(AppConfig):
    """The project package as an app: it has no models, only wiring that must run at start-up."""

    name = "devlab"
    verbose_name = "DevLab"

    def ready(self):
        from devlab import metrics

        metrics.connect()
