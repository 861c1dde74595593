#!/usr/bin/env bash
# `make run`: migrate, load the demo, then serve Pathwise with two Celery workers (queues
# `default` with embedded beat, and `ml`), as production runs `worker`, `worker-ml` and beat.
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

mkdir -p var/celery-broker var/celery-control var/celery-processed var/media var/models var/log
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

# Two workers, so that an answer's update never waits behind a training: `default` (online
# updates, reconciliation, schedules; beat embedded) and `ml` (training, refreshes; one at a time).
$VENV/bin/celery -A config worker --beat --queues default --concurrency 2 --hostname default@%h \
  --loglevel INFO --schedule var/celerybeat-schedule --logfile var/log/worker.log &
pids+=($!)
ml_flags=()
# With Redis the ml worker reserves nothing ahead: a waiting training stays in the queue.
[[ -n "${REDIS_URL:-}" ]] && ml_flags+=(--disable-prefetch)
$VENV/bin/celery -A config worker --queues ml --concurrency 1 --hostname ml@%h "${ml_flags[@]}" \
  --loglevel INFO --logfile var/log/worker-ml.log &
pids+=($!)
echo "Celery workers started: default with embedded beat (log: var/log/worker.log), ml (log: var/log/worker-ml.log)."

$PY manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
echo "Pathwise is at http://$HOST:$PORT/ (API docs: /api/docs/, admin: /admin/). Ctrl-C stops it."

# Stop everything as soon as either process ends on its own.
wait -n "${pids[@]}" || true
