"""The formal letters to the registry: one row per name with its incidents, notices, last check and
legal grounds; rendered as PDF (WeasyPrint, DejaVu for the Kazakh letters) and DOCX (python-docx).

Everything that came from a feed or a web page is escaped in the PDF's HTML by the template
engine, and shown defanged, so the letter holds no live link to a malicious site.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation

from zonewarden.cases.models import Case
from zonewarden.checks.models import Check
from zonewarden.notices.models import Notice
from zonewarden.notices.outbox import defanged

PHRASES: dict[str, dict[str, str]] = {
    "ru": {
        "escalation_title": "О приостановлении делегирования доменных имён",
        "restoration_title": "О возобновлении делегирования доменных имён",
        "to": "Администратору реестра {registry}; в уполномоченный орган: {authority}",
        "escalation_intro": (
            "{cert} сообщает, что на перечисленных ниже доменных именах выявлены инциденты "
            "информационной безопасности, которые не устранены владельцами после направленных им "
            "уведомлений. Просим приостановить делегирование этих доменных имён (статус serverHold) на "
            "основании, указанном для каждого имени, в течение одного рабочего дня с момента получения."
        ),
        "restoration_intro": (
            "{cert} сообщает, что владельцы перечисленных ниже доменных имён устранили инциденты, что "
            "подтверждено повторной проверкой. Просим возобновить делегирование этих доменных имён."
        ),
        "number": "Исх. №",
        "date": "Дата",
        "domain": "Доменное имя",
        "incidents": "Инциденты",
        "notices": "Уведомления",
        "last_check": "Последняя проверка",
        "grounds": "Основание",
        "none": "нет",
        "count": "Всего доменных имён: {count}",
        "signature": "Руководитель {cert}",
    },
    "kk": {
        "escalation_title": "Домендік атаулардың делегациясын тоқтата тұру туралы",
        "restoration_title": "Домендік атаулардың делегациясын қайта жаңарту туралы",
        "to": "{registry} тізілім әкімшісіне; уәкілетті органға: {authority}",
        "escalation_intro": (
            "{cert} төменде көрсетілген домендік атауларда иелеріне хабарламалар жіберілгеннен кейін "
            "жойылмаған ақпараттық қауіпсіздік инциденттері анықталғанын хабарлайды. Осы домендік "
            "атаулардың делегациясын (serverHold мәртебесі) әр атау үшін көрсетілген негізде алған "
            "сәттен бастап бір жұмыс күні ішінде тоқтата тұруды сұраймыз."
        ),
        "restoration_intro": (
            "{cert} төменде көрсетілген домендік атаулардың иелері инциденттерді жойғанын, бұл қайта "
            "тексерумен расталғанын хабарлайды. Осы домендік атаулардың делегациясын қайта жаңартуды сұраймыз."
        ),
        "number": "Шығыс №",
        "date": "Күні",
        "domain": "Домендік атау",
        "incidents": "Инциденттер",
        "notices": "Хабарламалар",
        "last_check": "Соңғы тексеру",
        "grounds": "Негіз",
        "none": "жоқ",
        "count": "Барлық домендік атаулар: {count}",
        "signature": "{cert} басшысы",
    },
    "en": {
        "escalation_title": "Request to suspend the delegation of domain names",
        "restoration_title": "Request to restore the delegation of domain names",
        "to": "To the registry administrator {registry}; to the authorized body: {authority}",
        "escalation_intro": (
            "{cert} reports security incidents on the domain names below that their owners have not "
            "removed after the notices sent to them. We ask you to suspend the delegation of these names "
            "(status serverHold) on the ground given for each, within one business day of receipt."
        ),
        "restoration_intro": (
            "{cert} reports that the owners of the domain names below have removed the incidents, as a "
            "re-check confirmed. We ask you to restore the delegation of these names."
        ),
        "number": "Ref. No.",
        "date": "Date",
        "domain": "Domain name",
        "incidents": "Incidents",
        "notices": "Notices",
        "last_check": "Last check",
        "grounds": "Ground",
        "none": "none",
        "count": "Domain names in all: {count}",
        "signature": "Head of {cert}",
    },
}


@dataclass
class Row:
    domain: str
    alabel: str
    incidents: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    last_check: str = ""
    grounds: list[str] = field(default_factory=list)


def _date(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).date().isoformat() if moment else ""


def rows_for(cases: Sequence[Case], language: str | None = None) -> list[Row]:
    """Gather each case's facts for the letter in a fixed number of queries, in its language."""
    with translation.override(language or settings.ZONEWARDEN_LETTER_LANGUAGE):
        return _rows_for(cases)


def _rows_for(cases: Sequence[Case]) -> list[Row]:
    ids = [case.pk for case in cases]
    loaded = (
        Case.objects.filter(pk__in=ids)
        .select_related("domain")
        .prefetch_related(
            "grounds",
            Prefetch("incidents", to_attr="letter_incidents"),
            Prefetch(
                "notices",
                queryset=Notice.objects.filter(state=Notice.State.SENT, kind=Notice.Kind.OWNER).order_by(
                    "number"
                ),
                to_attr="letter_notices",
            ),
        )
    )
    by_id = {case.pk: case for case in loaded}
    checks: dict[int, Check] = {}
    for check in (
        Check.objects.filter(incident__case_id__in=ids).select_related("incident").order_by("at", "pk")
    ):
        assert check.incident is not None
        checks[check.incident.case_id or 0] = check  # the latest one per case wins
    rows = []
    for case_id in ids:
        case = by_id[case_id]
        row = Row(case.domain.unicode_name or case.domain.name, case.domain.name)
        for incident in sorted(case.letter_incidents, key=lambda i: (i.first_seen, i.pk)):
            row.incidents.append(
                f"{defanged(incident.url)} ({incident.category_id}, {_date(incident.first_seen)})"
            )
        row.notices = [f"№{n.number} {_date(n.sent_at)}" for n in case.letter_notices]
        last = checks.get(case_id)
        if last is not None:
            row.last_check = f"{_date(last.at)}: {last.get_verdict_display()} — {last.reason[:160]}"
        row.grounds = [ground.reference for ground in case.grounds.all()]
        rows.append(row)
    return rows


def context(
    kind: str, number: str, date: dt.datetime, rows: list[Row], language: str | None = None
) -> dict[str, Any]:
    lang = language or settings.ZONEWARDEN_LETTER_LANGUAGE
    words = PHRASES.get(lang, PHRASES["ru"])
    names = {
        "cert": settings.ZONEWARDEN_CERT_NAME,
        "registry": settings.ZONEWARDEN_REGISTRY_NAME,
        "authority": settings.ZONEWARDEN_AUTHORITY_NAME,
        "count": len(rows),
    }
    return {
        "lang": lang,
        "words": words,
        "title": words[f"{kind}_title"],
        "to": words["to"].format(**names),
        "intro": words[f"{kind}_intro"].format(**names),
        "count": words["count"].format(**names),
        "signature": words["signature"].format(**names),
        "number": number,
        "date": _date(date),
        "rows": rows,
        "cert": settings.ZONEWARDEN_CERT_NAME,
    }


def render_pdf(data: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    markup = render_to_string("registry/letter.html", data)
    return bytes(HTML(string=markup).write_pdf())


def render_docx(data: dict[str, Any]) -> bytes:
    from docx import Document
    from docx.shared import Pt

    words = data["words"]
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(9)
    document.add_paragraph(data["cert"])
    document.add_paragraph(f"{words['number']} {data['number']}    {words['date']} {data['date']}")
    document.add_paragraph(data["to"])
    document.add_heading(data["title"], level=1)
    document.add_paragraph(data["intro"])
    table = document.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, label in zip(
        table.rows[0].cells, ("domain", "incidents", "notices", "last_check", "grounds"), strict=True
    ):
        cell.text = words[label]
    for row in data["rows"]:
        cells = table.add_row().cells
        cells[0].text = row.domain if row.domain == row.alabel else f"{row.domain}\n{row.alabel}"
        cells[1].text = "\n".join(row.incidents) or words["none"]
        cells[2].text = "\n".join(row.notices) or words["none"]
        cells[3].text = row.last_check or words["none"]
        cells[4].text = "\n".join(row.grounds)
    document.add_paragraph(data["count"])
    document.add_paragraph(data["signature"])
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()
