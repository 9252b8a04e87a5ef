FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
WORKDIR /app

COPY requirements.txt pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.txt
# The pure core and ledgerctl are a distribution of their own; the service runs from /app and
# is not installed.
COPY verifier ./verifier
RUN pip install --no-cache-dir --no-deps ./verifier
COPY . .
RUN DJANGO_DEBUG=1 python manage.py collectstatic --no-input \
    && useradd --system --home /app ledger && mkdir -p /app/var && chown ledger /app/var
USER ledger

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
