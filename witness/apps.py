from django.apps import AppConfig


class WitnessConfig(AppConfig):
    name = "witness"
    verbose_name = "Witness for other logs"
    default_auto_field = "django.db.models.BigAutoField"
