# syntax=docker/dockerfile:1
#
# CPTS platform - production image (Django 5.2 + gunicorn, also used for the
# Celery worker and beat services, see docker-compose.yml).
#
#   docker build -t cpts .
#   docker run --env-file .env -p 8000:8000 cpts
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var

# Native libraries needed by WeasyPrint (PDF generation) + a basic font set.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
        gettext \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged user that runs the application.
RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Install the dependencies first (from pyproject.toml only) so this layer stays
# cached as long as the dependency list does not change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Application code, then install the project itself.
COPY . .
RUN pip install . \
    && rm -rf build *.egg-info

# Collect static files at build time (whitenoise serves them). The secret key
# is a throw-away value used only for this step; the real one comes from the
# environment at run time.
ARG SECRET_KEY=build-only-dummy-secret-key-not-used-at-runtime
RUN DEBUG=0 \
    SECRET_KEY="${SECRET_KEY}" \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    sh -c "python manage.py collectstatic --noinput && python manage.py compilemessages --ignore='*site-packages*'" \
    && rm -f /tmp/build.sqlite3

# Writable runtime directory (uploaded media, generated files). Created here
# and owned by the app user so named volumes mounted on /app/var/media inherit
# the right ownership.
RUN mkdir -p /app/var/media \
    && chown -R app:app /app/var

USER app

EXPOSE 8000

CMD ["gunicorn", "cpts.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
