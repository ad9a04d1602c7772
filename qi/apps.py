from django.apps import AppConfig


class QiConfig(AppConfig):
    name = "qi"
    verbose_name = "Quality improvement"
