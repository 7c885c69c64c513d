from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "zonewarden.checks"
    verbose_name = "Re-checks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zonewarden.checks import schedule  # noqa: F401  (registers the job handlers)
