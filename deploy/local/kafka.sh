#!/usr/bin/env bash
# Real Apache Kafka (KRaft, one node, loopback only) from Maven Central jars; no Docker needed.
# usage: kafka.sh install | start <run-dir> <port> | stop <run-dir>
# install is idempotent: a second run downloads nothing (Maven caches in ~/.m2, jars in $LIBS).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIBS=${ONWARD_KAFKA_LIBS:-$ROOT/.run/kafka-libs}

install() {
  if ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 && [ -f "$LIBS/.complete" ] && [ "$LIBS/.complete" -nt "$HERE/pom.xml" ]; then
    return 0
  fi
  command -v java >/dev/null || { echo "kafka.sh: java (17+) is required" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "kafka.sh: maven is required to fetch the Kafka jars" >&2; exit 1; }
  rm -rf "$LIBS"; mkdir -p "$LIBS"
  echo "kafka.sh: fetching Kafka jars from Maven Central into $LIBS" >&2
  mvn -B -q -f "$HERE/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS"
  touch "$LIBS/.complete"
}

start() {
  local dir=$1 port=$2 cport=$(( $2 + 1 ))
  install
  mkdir -p "$dir/data"
  if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
    echo "kafka.sh: already running (pid $(cat "$dir/kafka.pid")) on $port" >&2; return 0
  fi
  sed -e "s#@PORT@#$port#g; s#@CPORT@#$cport#g; s#@DATA@#$dir/data#g" "$HERE/server.properties.in" > "$dir/server.properties"
  local cp="$LIBS/*"
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id; id=$(java -Xmx256m -cp "$cp" kafka.tools.StorageTool random-uuid)
    java -Xmx256m -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$cp" kafka.tools.StorageTool \
      format -t "$id" -c "$dir/server.properties" --ignore-formatted >"$dir/format.log" 2>&1 \
      || { cat "$dir/format.log" >&2; exit 1; }
  fi
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$cp" kafka.Kafka "$dir/server.properties" \
    >>"$dir/kafka.log" 2>&1 </dev/null &
  echo $! > "$dir/kafka.pid"
  # Kafka opens its listener only when ready; allow 90 s on a busy 2-core machine.
  for _ in $(seq 1 180); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "kafka.sh: ready on 127.0.0.1:$port" >&2; return 0; fi
    kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null || { echo "kafka.sh: broker exited; last log lines:" >&2; tail -30 "$dir/kafka.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "kafka.sh: broker not listening on $port after 90 s; see $dir/kafka.log" >&2; exit 1
}

stop() {
  local dir=$1 pid
  [ -f "$dir/kafka.pid" ] || return 0
  pid=$(cat "$dir/kafka.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/kafka.pid"
}

case "${1:-}" in
  install) install ;;
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  *) echo "usage: $0 install | start <run-dir> <port> | stop <run-dir>" >&2; exit 2 ;;
esac
