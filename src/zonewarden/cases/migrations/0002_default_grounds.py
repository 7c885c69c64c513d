"""The legal grounds of paragraph 16 of the Rules (order No. 38/НҚ of 13 March 2018) and the audit chain's start."""

from __future__ import annotations

from typing import Any

from django.db import migrations

GROUNDS = [
    {
        "code": "unreliable-registrant",
        "reference": "Rules for registration, use and distribution of domain names in the Kazakhstan segment "
        "of the Internet, paragraph 16, sub-paragraph 1",
        "text_en": "Unreliable information about the registrant.",
        "text_ru": "Недостоверные сведения о регистранте.",
        "text_kk": "Тіркеуші туралы анық емес мәліметтер.",
    },
    {
        "code": "unremedied-incident",
        "reference": "Rules for registration, use and distribution of domain names in the Kazakhstan segment "
        "of the Internet, paragraph 16, sub-paragraph 4",
        "text_en": "The registrant does not eliminate an information-security incident of which the authorized "
        "body or the CERT notified it.",
        "text_ru": "Неустранение регистрантом инцидента информационной безопасности, о котором его уведомили "
        "уполномоченный орган или служба реагирования на компьютерные инциденты.",
        "text_kk": "Тіркеушінің уәкілетті орган немесе компьютерлік инциденттерге ден қою қызметі хабарлаған "
        "ақпараттық қауіпсіздік инцидентін жоймауы.",
    },
]


def forwards(apps: Any, schema_editor: Any) -> None:
    LegalGround = apps.get_model("cases", "LegalGround")
    for ground in GROUNDS:
        LegalGround.objects.update_or_create(code=ground["code"], defaults=ground)
    apps.get_model("cases", "AuditHead").objects.get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
