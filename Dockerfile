# The production image: the web process (gunicorn), the Celery worker and beat share it.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VERZUIM_ENV=production
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
# Static files and catalogues are built with throwaway values: nothing here is secret or used later.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    VERZUIM_MASTER_KEYS=1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ALLOWED_HOSTS=build \
    DATABASE_URL=postgres://build@build/build REDIS_URL=redis://build:6379/0 EMAIL_HOST=build \
    sh -c "python manage.py collectstatic --no-input -v0 && python manage.py compile_catalogues" \
 && useradd --system --uid 1000 verzuim
USER verzuim
EXPOSE 8000
CMD ["gunicorn", "verzuim.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
