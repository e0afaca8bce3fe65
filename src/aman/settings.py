"""Settings, read from the environment only.

With nothing set Aman runs embedded: SQLite in a local data folder, Celery tasks executed
eagerly in the web process. Production sets at least SECRET_KEY,
DATABASE_URL, ALLOWED_HOSTS and CELERY_BROKER_URL (see docs/deploy.md).
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from aman.registry.identity.translit import parse_letter_table

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _default_data_dir() -> Path:
    if (PROJECT_DIR / "pyproject.toml").exists():
        return PROJECT_DIR / "var"
    return Path.home() / ".local" / "share" / "aman"


DATA_DIR = Path(os.environ.get("AMAN_DATA_DIR") or _default_data_dir())
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)
# The embedded default has a fixed development key; any real deployment sets SECRET_KEY
# (`aman check --deploy` reports aman.E001 while the demo key is in use).
SECRET_KEY = os.environ.get("SECRET_KEY") or "aman-embedded-demo-key-not-for-production"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",
    "aman.core",
    "aman.geo",
    "aman.registry",
    "aman.dedup",
    "aman.transport",
    "aman.shelter",
    "aman.planning",
    "aman.public",
    "aman.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "aman.core.middleware.RequestContextMiddleware",
    "aman.api.middleware.ApiErrorShapeMiddleware",
]

ROOT_URLCONF = "aman.urls"
WSGI_APPLICATION = "aman.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aman.core.context_processors.aman",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'aman.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer commits; IMMEDIATE takes the write lock at
    # BEGIN so concurrent writers queue instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiled the registry's search plans for 60–480 ms each and never
    # paid that back (bench/RESULTS.md); Aman's queries are short. Set per connection.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = (options.get("options", "") + " -c jit=off").strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 12 * 3600)
# Failed sign-ins allowed per address and per username within the window (core/login_throttle).
AMAN_LOGIN_MAX_FAILURES_PER_IP = envint("AMAN_LOGIN_MAX_FAILURES_PER_IP", 30)
AMAN_LOGIN_MAX_FAILURES_PER_USER = envint("AMAN_LOGIN_MAX_FAILURES_PER_USER", 10)
AMAN_LOGIN_WINDOW_SECONDS = envint("AMAN_LOGIN_WINDOW_SECONDS", 15 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", False) else None
)
# Behind a reverse proxy that sets X-Forwarded-For, take the client address from it (for the
# audit log and rate limits). Never enable it when clients can reach the app directly.
USE_X_FORWARDED_FOR = envbool("USE_X_FORWARDED_FOR", False)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LANGUAGE_CODE = os.environ.get("AMAN_LANGUAGE", "en")
LANGUAGES = [("kk", _("Kazakh")), ("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# Typed dates read the same in every language (aman/formats: dd.mm.yyyy and ISO only).
FORMAT_MODULE_PATH = ["aman.formats"]
USE_I18N = True
TIME_ZONE = os.environ.get("AMAN_TIME_ZONE", "Asia/Almaty")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

CACHES = {
    "default": (
        {
            "BACKEND": "aman.core.cache.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
        if os.environ.get("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: eager in the embedded default, a real broker when CELERY_BROKER_URL is set.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# The worker runs these too (`aman worker` starts an embedded beat): a safety net that
# registers queued submissions should the run asked for by the last of them have died.
CELERY_BEAT_SCHEDULE = {
    "intake-pending": {"task": "aman.registry.intake_process", "schedule": 60.0},
    # Boarding-pass files are deleted 24 hours after they were made (docs/transport.md).
    "pass-prints-tidy": {"task": "aman.transport.pass_prints_tidy", "schedule": 3600.0},
    # Just after midnight (CELERY_TIMEZONE): the priority of whoever had a birthday that
    # crossed an age limit of the policy (docs/registry.md, Priority).
    "priority-ages": {
        "task": "aman.registry.priority_ages_refresh",
        "schedule": crontab(hour=0, minute=10),
    },
}

# Public pages: registrations per address per hour, failed status look-ups per 15 minutes.
AMAN_PUBLIC_REGISTRATIONS_PER_HOUR = envint("AMAN_PUBLIC_REGISTRATIONS_PER_HOUR", 20)
# Surge mode for the public form: take each registration into a queue (a pending intake
# record with its reference codes reserved) and register it in the background, in batches.
AMAN_INTAKE_QUEUE = envbool("AMAN_INTAKE_QUEUE", False)
AMAN_PUBLIC_LOOKUPS_PER_15_MINUTES = envint("AMAN_PUBLIC_LOOKUPS_PER_15_MINUTES", 10)
# Updates sent from the status page per address per hour (each is kept as an intake record).
AMAN_PUBLIC_UPDATES_PER_HOUR = envint("AMAN_PUBLIC_UPDATES_PER_HOUR", 30)
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400

# Where imports run: "worker" (Celery, the default with a broker), "thread" (a thread of
# the web process, the default without one: the page returns at once) or "inline".
AMAN_IMPORTS_RUN = os.environ.get("AMAN_IMPORTS_RUN", "")
# A leg's boarding passes print in the background; the page prints a leg of at most this
# many passes at once (1–2 s), the file ready when the page answers.
AMAN_PASSES_INLINE_MAX = envint("AMAN_PASSES_INLINE_MAX", 20)

# Encryption at rest and keyed hashes of personal identifiers (aman/core/crypto.py).
AMAN_FIELD_KEYS = envlist("AMAN_FIELD_KEYS", "")
AMAN_HASH_KEY = os.environ.get("AMAN_HASH_KEY", "")

# Where the shared reference data lives (border crossings and later lists).
AMAN_REFERENCE_DATA_DIR = Path(
    os.environ.get("AMAN_REFERENCE_DATA_DIR") or (PACKAGE_DIR / "geo" / "data")
)
AMAN_HOME_COUNTRY = os.environ.get("AMAN_HOME_COUNTRY", "KZ")
# The currency the cost ledger converts every contract currency to (ISO 4217).
AMAN_HOME_CURRENCY = os.environ.get("AMAN_HOME_CURRENCY", "KZT")
AMAN_CITY_MIN_POPULATION = envint("AMAN_CITY_MIN_POPULATION", 15000)
# The ministry's own passport-Latin letters, over ICAO Doc 9303 and the Kazakh letters
# (`registry/identity/translit.py`): JSON, one letter to Latin, e.g. {"Й": "Y", "й": "y"}.
AMAN_TRANSLIT_EXTRA = parse_letter_table(os.environ.get("AMAN_TRANSLIT_EXTRA", ""))

# The REST API's lists: 100 a page unless asked, never more than 500 (a list of people is
# personal data: a client pages through it, and each page is audited).
NINJA_PAGINATION_PER_PAGE = 100
NINJA_PAGINATION_MAX_LIMIT = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
