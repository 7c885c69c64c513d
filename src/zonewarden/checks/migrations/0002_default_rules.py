"""The default verdict rules per category (editable in admin afterwards)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

EXECUTABLE_TYPES = [
    "application/x-dosexec",
    "application/x-msdownload",
    "application/x-msdos-program",
    "application/octet-stream",
    "application/zip",
    "application/x-zip-compressed",
    "application/x-rar-compressed",
    "application/vnd.rar",
    "application/x-7z-compressed",
    "application/gzip",
    "application/x-gzip",
    "application/java-archive",
    "application/vnd.android.package-archive",
    "application/x-executable",
    "application/x-elf",
    "application/x-sh",
    "application/hta",
]
MARKERS = ["hacked by", "defaced by", "h4ck3d", "owned by", "greetz", "was here"]

RULES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "phishing": [("credential_form", {}), ("same_title", {}), ("similar_body", {"min_similarity": 0.8})],
    "malware": [("same_payload", {}), ("content_type", {"types": EXECUTABLE_TYPES, "magic": True})],
    "defacement": [("marker_text", {"markers": MARKERS})],
    "compromised": [("similar_body", {"min_similarity": 0.9}), ("marker_text", {"markers": MARKERS})],
    "other": [("similar_body", {"min_similarity": 0.9}), ("same_payload", {})],
}


def forwards(apps: Any, schema_editor: Any) -> None:
    category_model = apps.get_model("intake", "Category")
    rule_model = apps.get_model("checks", "VerdictRule")
    for code, rules in RULES.items():
        if not category_model.objects.filter(pk=code).exists():
            continue
        for kind, parameters in rules:
            rule_model.objects.get_or_create(category_id=code, kind=kind, defaults={"parameters": parameters})


class Migration(migrations.Migration):
    dependencies = [("checks", "0001_initial"), ("intake", "0002_default_categories")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
