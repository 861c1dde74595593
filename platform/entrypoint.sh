#!/usr/bin/env bash
# Container entry point: `web` migrates and serves; the other roles start their Celery process.
set -euo pipefail
role=${1:-web}
shift || true

case "$role" in
  web)
    python manage.py migrate --noinput
    python manage.py collectstatic --noinput
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
