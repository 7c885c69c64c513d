from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "zonewarden.registry"
    label = "registry"
    verbose_name = "Registry requests"
    default_auto_field = "django.db.models.BigAutoField"
