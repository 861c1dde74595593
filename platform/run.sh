#!/usr/bin/env bash
# `make run`: migrate, load the demo, then serve Pathwise with one Celery worker (embedded beat).
# With DATABASE_URL / REDIS_URL unset it runs on SQLite and Celery's filesystem broker under var/.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PY=$VENV/bin/python
HOST=${PATHWISE_HOST:-127.0.0.1}
PORT=${PATHWISE_PORT:-8000}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
export PYTHONUNBUFFERED=1
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}  # TensorFlow's C++ start-up chatter

if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
  echo "Port $PORT on $HOST is already in use: stop what runs there or set PATHWISE_PORT." >&2
  exit 1
fi

mkdir -p var/celery-broker var/celery-processed var/media var/models var/log
echo "Database: ${DATABASE_URL:-SQLite at var/pathwise.sqlite3}"
echo "Broker:   ${REDIS_URL:-filesystem broker at var/celery-broker}"

bash platform/ensure_media_tools.sh  # espeak-ng for the demo's narration; never fails
$PY manage.py migrate --noinput
$PY manage.py seed_demo
# Demo learners' mastery and paths from the cold-start model now; on the first start the worker
# then trains a GRU on the demo attempts, gates it and refreshes every path again.
for course in foundations-of-algebra introduction-to-statistics; do
  $PY manage.py refresh_paths --course "$course"
  $PY manage.py queue_retrain --course "$course" --if-none
done

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping Pathwise..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop INT TERM EXIT

# One worker serves both queues here; production runs `worker` and `worker-ml` apart.
$VENV/bin/celery -A config worker --beat --queues default,ml --concurrency 1 \
  --loglevel INFO --schedule var/celerybeat-schedule --logfile var/log/worker.log &
pids+=($!)
echo "Celery worker with embedded beat started (log: var/log/worker.log)."

$PY manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
echo "Pathwise is at http://$HOST:$PORT/ (API docs: /api/docs/, admin: /admin/). Ctrl-C stops it."

# Stop everything as soon as either process ends on its own.
wait -n "${pids[@]}" || true
