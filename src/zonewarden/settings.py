"""Django settings for zonewarden, every one read from the environment with a safe default."""

from __future__ import annotations

import os
from pathlib import Path

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from zonewarden.envconf import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    sqlite_database,
)

# Lets admin classes be written ModelAdmin[Model] for the type checker.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("ZONEWARDEN_VAR_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("ZONEWARDEN_DEBUG", False)
# The embedded mode runs on a developer's machine without any secret configured; a production
# deployment must set one (check --deploy says so).
SECRET_KEY = env_str("ZONEWARDEN_SECRET_KEY", "")
if not SECRET_KEY:
    SECRET_KEY = "zonewarden-embedded-insecure-key-set-ZONEWARDEN_SECRET_KEY"  # noqa: S105
ALLOWED_HOSTS = env_list("ZONEWARDEN_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "zonewarden.accounts",
    "zonewarden.workdays",
    "zonewarden.domains",
    "zonewarden.intake",
    "zonewarden.cases",
    "zonewarden.jobs",
    "zonewarden.notices",
    "zonewarden.checks",
    "zonewarden.publish",
    "zonewarden.registry",
    "zonewarden.api",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "zonewarden API",
    "DESCRIPTION": "Incidents, cases, notices, checks and registry requests of a ccTLD's abuse handling.",
    "VERSION": "0.1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],  # the schema is no secret
    # The documentation page loads Swagger UI from the package's own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RequestKindEnum": "zonewarden.registry.models.RegistryRequest.Kind",
        "NoticeKindEnum": "zonewarden.notices.models.Notice.Kind",
        "InboundKindEnum": "zonewarden.notices.models.InboundMail.Kind",
    },
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's, the API docs' and our own static files from the packages themselves,
    # so one `zonewarden serve` (gunicorn) needs no separate web server and no collectstatic.
    "zonewarden.staticfiles.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "zonewarden.loginlimit.LoginLimitMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "zonewarden.urls"
WSGI_APPLICATION = "zonewarden.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "zonewarden.pages.navigation",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL", "")
DATABASES = {
    "default": database_from_url(_database_url, base_dir=Path.cwd())
    if _database_url
    else sqlite_database(VAR_DIR / "zonewarden.sqlite3")
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("ZONEWARDEN_LANGUAGE", "ru")
LANGUAGES = [("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")]
TIME_ZONE = env_str("ZONEWARDEN_TIME_ZONE", "Asia/Almaty")
USE_I18N = True
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = True  # straight from the installed apps; collectstatic is optional

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

# Without ZONEWARDEN_SMTP_HOST mail goes to the embedded sink (kept in the database, shown at
# /mail/); with it, through SMTP. ZONEWARDEN_EMAIL_BACKEND overrides both.
_SMTP_HOST = env_str("ZONEWARDEN_SMTP_HOST", "")
EMAIL_BACKEND = env_str(
    "ZONEWARDEN_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if _SMTP_HOST else "zonewarden.notices.sink.SinkBackend",
)
EMAIL_HOST = _SMTP_HOST or "127.0.0.1"
EMAIL_PORT = env_int("ZONEWARDEN_SMTP_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("ZONEWARDEN_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("ZONEWARDEN_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("ZONEWARDEN_SMTP_STARTTLS", False)
EMAIL_TIMEOUT = env_int("ZONEWARDEN_SMTP_TIMEOUT", 30, minimum=1)

# --- notices (issue 4) ---
# The languages of a notice, in order (Kazakh and Russian, English below); per address in admin.
ZONEWARDEN_NOTICE_LANGUAGES = env_list("ZONEWARDEN_NOTICE_LANGUAGES", ["kk", "ru", "en"])
# Where links in notices point: the address of this system as owners reach it.
ZONEWARDEN_BASE_URL = env_str("ZONEWARDEN_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# How long the owner's link in a notice stays valid.
ZONEWARDEN_OWNER_LINK_DAYS = env_int("ZONEWARDEN_OWNER_LINK_DAYS", 90, minimum=1)
# An address that gets a blind copy of every notice (the CERT's archive); when the archive's
# Maildir is polled, its copy proves a notice went out even if the worker died right after.
ZONEWARDEN_NOTICE_ARCHIVE = env_str("ZONEWARDEN_NOTICE_ARCHIVE", "")
# How long a worker may talk to the SMTP server about one notice before the notice is taken
# to be unconfirmed (the worker died): never sent again without proof or an analyst.
ZONEWARDEN_SEND_LEASE_SECONDS = env_int("ZONEWARDEN_SEND_LEASE_SECONDS", 600, minimum=5)
# A Maildir the worker reads bounces, replies and archive copies from (empty: none).
ZONEWARDEN_MAILDIR = env_str("ZONEWARDEN_MAILDIR", "")

# --- contacts (issue 4) ---
from zonewarden.whois.client import parse_endpoint  # noqa: E402  (pure Python: checks the entries below)

# The WHOIS server of each zone, "zone=host:port" (.kz and .қаз fall back to whois.nic.kz:43).
ZONEWARDEN_WHOIS_SERVERS = env_list(
    "ZONEWARDEN_WHOIS_SERVERS", ["kz=whois.nic.kz:43", "xn--80ao21a=whois.nic.kz:43"]
)
for _entry in ZONEWARDEN_WHOIS_SERVERS:
    _zone, _equals, _where = _entry.partition("=")
    try:
        if not _equals or not _zone.strip():
            raise ValueError("expected zone=host:port")
        parse_endpoint(_where)
    except ValueError as _error:
        raise ImproperlyConfigured(f"ZONEWARDEN_WHOIS_SERVERS entry {_entry!r}: {_error}") from None
# How long a WHOIS answer is used before the server is asked again (whois --fresh always asks).
ZONEWARDEN_WHOIS_CACHE_SECONDS = env_int("ZONEWARDEN_WHOIS_CACHE_SECONDS", 86400, minimum=0)
# Seconds a WHOIS query may take, connecting and reading included.
ZONEWARDEN_WHOIS_TIMEOUT = env_int("ZONEWARDEN_WHOIS_TIMEOUT", 10, minimum=1)
# Seconds between two queries to one WHOIS server (whois.nic.kz limits its clients).
ZONEWARDEN_WHOIS_INTERVAL = float(env_int("ZONEWARDEN_WHOIS_INTERVAL_MS", 1000, minimum=0)) / 1000
# Look up MX/A records of contacts' mail domains in the registrant-data checks (DNS traffic).
ZONEWARDEN_CHECK_MAIL_DNS = env_bool("ZONEWARDEN_CHECK_MAIL_DNS", False)

# --- re-checks (issue 5) ---
# Names, addresses or CIDR blocks the checker may reach although they are not public (tests
# allow their loopback server); everything private, loopback, link-local … is refused.
ZONEWARDEN_CHECK_ALLOW = env_list("ZONEWARDEN_CHECK_ALLOW", [])
# A static table of "name=address" entries consulted before DNS.
ZONEWARDEN_CHECK_HOSTS = env_list("ZONEWARDEN_CHECK_HOSTS", [])
# Look names that are not in the table up in the DNS; false: they do not resolve (no DNS traffic).
ZONEWARDEN_CHECK_DNS = env_bool("ZONEWARDEN_CHECK_DNS", True)
# The nameservers the checker asks ("address" or "address:port", IPv6 as "[::1]:5353"); empty:
# the system's resolver (getaddrinfo: /etc/hosts, then resolv.conf's servers).
from zonewarden.checks.nameservers import parse_nameserver  # noqa: E402  (pure Python: checks the entries)

ZONEWARDEN_CHECK_NAMESERVERS = env_list("ZONEWARDEN_CHECK_NAMESERVERS", [])
for _entry in ZONEWARDEN_CHECK_NAMESERVERS:
    try:
        parse_nameserver(_entry)
    except ValueError as _error:
        raise ImproperlyConfigured(f"ZONEWARDEN_CHECK_NAMESERVERS entry {_entry!r}: {_error}") from None
ZONEWARDEN_CHECK_TIMEOUT = env_int("ZONEWARDEN_CHECK_TIMEOUT", 15, minimum=1)
ZONEWARDEN_CHECK_MAX_BYTES = env_int("ZONEWARDEN_CHECK_MAX_BYTES", 2 << 20, minimum=1024)
ZONEWARDEN_CHECK_EVIDENCE_BYTES = env_int("ZONEWARDEN_CHECK_EVIDENCE_BYTES", 8192, minimum=0)
ZONEWARDEN_CHECK_MAX_REDIRECTS = env_int("ZONEWARDEN_CHECK_MAX_REDIRECTS", 5, minimum=0)
ZONEWARDEN_CHECK_CONCURRENCY = env_int("ZONEWARDEN_CHECK_CONCURRENCY", 100, minimum=1)
ZONEWARDEN_CHECK_PER_HOST = env_int("ZONEWARDEN_CHECK_PER_HOST", 4, minimum=1)
ZONEWARDEN_CHECK_USER_AGENT = env_str(
    "ZONEWARDEN_CHECK_USER_AGENT", "zonewarden/0.1 (incident re-check by {cert}; +mailto:info@{domain})"
)
ZONEWARDEN_CHECK_SCREENSHOTS = env_bool("ZONEWARDEN_CHECK_SCREENSHOTS", False)
ZONEWARDEN_CHROMIUM = env_str("ZONEWARDEN_CHROMIUM", "/usr/bin/chromium")

# --- DNS publishing (issue 6) ---
# How suspensions reach the DNS: rfc2136 (signed UPDATE to the authoritative server), zonefile,
# rpz; several at once.
ZONEWARDEN_PUBLISHERS = env_list("ZONEWARDEN_PUBLISHERS", ["zonefile", "rpz"])
ZONEWARDEN_DNS_SERVER = env_str("ZONEWARDEN_DNS_SERVER", "127.0.0.1:53")
ZONEWARDEN_DNS_TSIG_NAME = env_str("ZONEWARDEN_DNS_TSIG_NAME", "")
ZONEWARDEN_DNS_TSIG_SECRET = env_str("ZONEWARDEN_DNS_TSIG_SECRET", "")
ZONEWARDEN_DNS_TSIG_ALGORITHM = env_str("ZONEWARDEN_DNS_TSIG_ALGORITHM", "hmac-sha256")
ZONEWARDEN_DNS_TTL = env_int("ZONEWARDEN_DNS_TTL", 3600, minimum=1)
ZONEWARDEN_DNS_TIMEOUT = env_int("ZONEWARDEN_DNS_TIMEOUT", 5, minimum=1)
ZONEWARDEN_PUBLISH_MAX_ATTEMPTS = env_int("ZONEWARDEN_PUBLISH_MAX_ATTEMPTS", 50, minimum=1)
ZONEWARDEN_RPZ_ORIGIN = env_str("ZONEWARDEN_RPZ_ORIGIN", "rpz.zonewarden.")
ZONEWARDEN_ZONEFILE_DIR = env_str("ZONEWARDEN_ZONEFILE_DIR", str(VAR_DIR / "zones"))
ZONEWARDEN_ZONE_PRIMARY = env_str("ZONEWARDEN_ZONE_PRIMARY", "ns1.nic.kz.")
ZONEWARDEN_ZONE_CONTACT = env_str("ZONEWARDEN_ZONE_CONTACT", "hostmaster.nic.kz.")

# Failed log-ins allowed per address and per user name within the window, then 429.
ZONEWARDEN_LOGIN_FAILURES = env_int("ZONEWARDEN_LOGIN_FAILURES", 10, minimum=1)
ZONEWARDEN_LOGIN_WINDOW_SECONDS = env_int("ZONEWARDEN_LOGIN_WINDOW_SECONDS", 900, minimum=1)

# Production hardening: ZONEWARDEN_PRODUCTION=true (with a secret key and the allowed hosts set)
# turns on HTTPS only, secure cookies and HSTS; `zonewarden check --deploy` is then clean.
PRODUCTION = env_bool("ZONEWARDEN_PRODUCTION", False)
SESSION_COOKIE_SECURE = env_bool(
    "ZONEWARDEN_SECURE_COOKIES", PRODUCTION or (not DEBUG and bool(env_str("ZONEWARDEN_SECRET_KEY", "")))
)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("ZONEWARDEN_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ZONEWARDEN_HSTS_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("ZONEWARDEN_HSTS_PRELOAD", PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("ZONEWARDEN_SSL_REDIRECT", PRODUCTION)
# A load balancer probes /healthz over plain HTTP: it gets the answer, not a redirect to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("ZONEWARDEN_BEHIND_PROXY", False):  # a reverse proxy that terminates TLS sets the header
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A replay clock for a whole non-production database (see zonewarden.clock): a fixed moment or a
# shift of the real time that the web application, the worker and every command honour.
_clock = env_str("ZONEWARDEN_CLOCK", "").strip()
if _clock and PRODUCTION:
    raise ImproperlyConfigured(
        "ZONEWARDEN_CLOCK replays a test database: it is refused under ZONEWARDEN_PRODUCTION"
    )
if _clock:
    from zoneinfo import ZoneInfo

    from zonewarden.clock import ReplayClock

    ZONEWARDEN_CLOCK: ReplayClock | None = ReplayClock.parse(_clock, zone=ZoneInfo(TIME_ZONE))
else:
    ZONEWARDEN_CLOCK = None
if PRODUCTION and (DEBUG or not env_str("ZONEWARDEN_SECRET_KEY", "")):
    raise ImproperlyConfigured(
        "ZONEWARDEN_PRODUCTION needs ZONEWARDEN_SECRET_KEY set and ZONEWARDEN_DEBUG off"
    )

# --- zonewarden ---------------------------------------------------------------------------
# The registry's zones as A-label suffixes; .қаз is xn--80ao21a.
ZONEWARDEN_ZONES = env_list("ZONEWARDEN_ZONES", ["kz", "xn--80ao21a"])
# Incidents from these sources (ingest --source LABEL) are confirmed without an analyst.
ZONEWARDEN_TRUSTED_SOURCES = env_list("ZONEWARDEN_TRUSTED_SOURCES", [])
# A feed file larger than this is refused before it is read.
ZONEWARDEN_INGEST_MAX_BYTES = env_int("ZONEWARDEN_INGEST_MAX_BYTES", 1 << 30, minimum=1024)
# From this size on, `ingest` parses a file in a second process while it stores (uses two cores).
ZONEWARDEN_INGEST_PARALLEL_BYTES = env_int("ZONEWARDEN_INGEST_PARALLEL_BYTES", 8 << 20, minimum=0)
# Country whose public holidays and government transfers make the working-day calendar.
ZONEWARDEN_CALENDAR_COUNTRY = env_str("ZONEWARDEN_CALENDAR_COUNTRY", "KZ")
# The CERT's mail domain: notices come From incident@ and ask for replies at info@.
ZONEWARDEN_CERT_NAME = env_str("ZONEWARDEN_CERT_NAME", "KZ-CERT")
ZONEWARDEN_CERT_DOMAIN = env_str("ZONEWARDEN_CERT_DOMAIN", "cert.kz")
ZONEWARDEN_REGISTRY_NAME = env_str("ZONEWARDEN_REGISTRY_NAME", "KazNIC")
# The authorized body the escalation letters also go to, and the letters' language (kk, ru, en).
ZONEWARDEN_AUTHORITY_NAME = env_str(
    "ZONEWARDEN_AUTHORITY_NAME", "Ministry of Digital Development, Innovation and Aerospace Industry"
)
ZONEWARDEN_LETTER_LANGUAGE = env_str("ZONEWARDEN_LETTER_LANGUAGE", "ru")
# How long a worker may hold a claimed job before another may take it over (the first died).
ZONEWARDEN_JOB_LEASE_SECONDS = env_int("ZONEWARDEN_JOB_LEASE_SECONDS", 300, minimum=5)
ZONEWARDEN_TICK_SECONDS = env_int("ZONEWARDEN_TICK_SECONDS", 60, minimum=1)
# `zonewarden serve` starts its worker again when it exits; more than this many restarts within the
# window (about five minutes of a worker that dies at once, given the growing pauses) and serve stops
# the web server and exits 1 rather than serve pages over a dead worker.
ZONEWARDEN_WORKER_RESTARTS = env_int("ZONEWARDEN_WORKER_RESTARTS", 10, minimum=0)
ZONEWARDEN_WORKER_RESTART_WINDOW_SECONDS = env_int("ZONEWARDEN_WORKER_RESTART_WINDOW_SECONDS", 600, minimum=1)
# The bearer token Prometheus scrapes /metrics with (empty: staff's sessions only); or _FILE.
ZONEWARDEN_METRICS_TOKEN = env_str("ZONEWARDEN_METRICS_TOKEN", "").strip()

DEFAULT_FROM_EMAIL = f"incident@{ZONEWARDEN_CERT_DOMAIN}"
ZONEWARDEN_CHECK_USER_AGENT = ZONEWARDEN_CHECK_USER_AGENT.format(
    cert=ZONEWARDEN_CERT_NAME, domain=ZONEWARDEN_CERT_DOMAIN
)

if env_bool("ZONEWARDEN_TESTING", False) or "PYTEST_VERSION" in os.environ:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    LANGUAGE_CODE = "en"  # pages' tests read English unless they ask for Kazakh or Russian

if not ZONEWARDEN_ZONES:
    raise ImproperlyConfigured("ZONEWARDEN_ZONES is empty: name at least one zone, e.g. kz")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"zonewarden": {"handlers": ["console"], "level": env_str("ZONEWARDEN_LOG_LEVEL", "INFO")}},
}
