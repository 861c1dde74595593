#!/usr/bin/env bash
# Container entry point: `migrate` (one one-shot service) migrates the database; `web` serves
# (static files were collected into the image); the other roles start their Celery process.
set -euo pipefail
role=${1:-web}
shift || true

case "$role" in
  migrate)
    # Run once per deployment, before any web replica or worker starts (docker-compose.yml).
    exec python manage.py migrate --noinput "$@"
    ;;
  web)
    exec gunicorn config.wsgi:application -c platform/gunicorn.conf.py "$@"
    ;;
  worker)
    exec celery -A config worker --queues default --concurrency "${CELERY_CONCURRENCY:-2}" \
      --loglevel INFO "$@"
    ;;
  worker-ml)
    # Concurrency 1: one training job holds the GPU at a time; TensorFlow loads inside the task.
    exec celery -A config worker --queues ml --concurrency 1 --loglevel INFO "$@"
    ;;
  beat)
    exec celery -A config beat --loglevel INFO "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
