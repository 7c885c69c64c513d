from django.apps import AppConfig


class PublishConfig(AppConfig):
    name = "zonewarden.publish"
    verbose_name = "DNS publishing"
    default_auto_field = "django.db.models.BigAutoField"
