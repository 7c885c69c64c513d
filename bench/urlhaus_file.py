"""Write a URLhaus csv_recent-shaped file of N rows with a fixed seed, for the intake benchmark."""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADER = "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter"
WORDS = [
    "alma",
    "dala",
    "shop",
    "bank",
    "pay",
    "kino",
    "tour",
    "med",
    "nur",
    "aru",
    "gold",
    "tech",
    "agro",
    "food",
]
OTHER_TLDS = ["com", "net", "org", "ru", "xyz", "top", "info", "cn", "br", "de"]
PATHS = ["/i", "/bins/x86", "/mozi.m", "/files/invoice.exe", "/wp-content/upd.zip", "/login.php", "/"]


def _host(rng: random.Random) -> str:
    roll = rng.random()
    label = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.randint(1, 400)}"
    if roll < 0.20:
        return f"{rng.choice(['', 'www.', 'cdn.'])}{label}.kz"
    if roll < 0.30:
        return f"{label}.com.kz"
    if roll < 0.40:  # IP literals, as URLhaus is full of them
        return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return f"{label}.{rng.choice(OTHER_TLDS)}"


def write_urlhaus(path: Path, rows: int, seed: int = 20261128) -> None:
    """Write `rows` data rows under URLhaus's commented header."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("#" * 63 + "\n# abuse.ch URLhaus Database Dump (CSV - recent URLs only)\n#\n")
        out.write(HEADER + "\n")
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for number in range(rows):
            host = _host(rng)
            port = f":{rng.randint(1024, 65000)}" if rng.random() < 0.2 else ""
            url = f"http://{host}{port}{rng.choice(PATHS)}"
            added = f"2026-11-{rng.randint(1, 27):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
            writer.writerow(
                [
                    3800000 + number,
                    added,
                    url,
                    rng.choice(["online", "offline"]),
                    "",
                    rng.choice(["malware_download", "malware_download", "phishing"]),
                    rng.choice(["elf,mozi", "exe", "32-bit,elf,mips", ""]),
                    f"https://urlhaus.abuse.ch/url/{3800000 + number}/",
                    rng.choice(["abuse_ch", "geenensp", "lrz_urlhaus"]),
                ]
            )
