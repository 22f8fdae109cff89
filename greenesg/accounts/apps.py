from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "greenesg.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"
    default_auto_field = "django.db.models.BigAutoField"
