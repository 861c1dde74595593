from django.apps import AppConfig


class AdaptiveConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "adaptive"
    verbose_name = "Adaptive learning"
