#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1; start them where this machine can.
set -u

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! postgres_up; then
  echo "PostgreSQL is down; starting it..."
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -n 1)" main start || true
  fi
  for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
fi
if ! redis_up; then
  echo "Redis is down; starting it..."
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi

postgres_up || { echo "PostgreSQL does not answer on 127.0.0.1:5432. Start it, or set TEST_DATABASE_URL." >&2; exit 1; }
redis_up || { echo "Redis does not answer on 127.0.0.1:6379. Start it, or set TEST_BROKER_URL." >&2; exit 1; }
# The suite creates its own test database; the named one must exist too (migration checks use it).
if command -v psql >/dev/null; then
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'ensemble'" | grep -q 1 \
    || createdb -h 127.0.0.1 -U postgres ensemble || true
fi
echo "PostgreSQL and Redis are up."
