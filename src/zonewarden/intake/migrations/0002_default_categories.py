"""The incident taxonomy and which feed labels map to each category (data, editable in the admin)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

CATEGORIES = [
    ("phishing", "Phishing", "Фишинг", "Фишинг", ["phishing", "phish_url", "phish"]),
    (
        "malware",
        "Malware distribution",
        "Распространение вредоносного ПО",
        "Зиянды бағдарламаны тарату",
        ["malware", "malware_download", "malware_url", "malware_distribution"],
    ),
    ("defacement", "Defacement", "Дефейс", "Дефейс", ["defacement"]),
    (
        "compromised",
        "Compromised site",
        "Взломанный сайт",
        "Бұзылған сайт",
        ["compromised", "compromised_website", "remote_compromise"],
    ),
    ("other", "Other", "Другое", "Басқа", []),
]


def forwards(apps: Any, schema_editor: Any) -> None:
    Category = apps.get_model("intake", "Category")
    for code, en, ru, kk, labels in CATEGORIES:
        Category.objects.update_or_create(
            code=code, defaults={"name_en": en, "name_ru": ru, "name_kk": kk, "feed_labels": labels}
        )


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
