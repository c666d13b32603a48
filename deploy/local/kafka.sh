#!/usr/bin/env bash
# Real Apache Kafka (KRaft, one node, loopback only) from Maven Central jars; no Docker needed.
# usage: kafka.sh install | start <run-dir> <port> | start-secure <run-dir> <port> | acls <run-dir> <port> | stop <run-dir>
# start-secure: SASL/SCRAM-SHA-512 over TLS, deny-by-default ACLs (StandardAuthorizer); it writes a
# self-signed certificate (ca.pem), random passwords (credentials.env) and admin.properties into <run-dir>.
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

USERS="admin onward-school-exit onward-la-tracker onward-ncs-referral onward-intake"

secure_setup() {  # certificate, passwords and the SCRAM users to format the storage with
  local dir=$1
  [ -f "$dir/credentials.env" ] && return 0
  local storepass; storepass=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 365 -dname "CN=127.0.0.1" \
    -ext "SAN=IP:127.0.0.1,DNS:localhost" -keystore "$dir/broker.p12" -storetype PKCS12 \
    -storepass "$storepass" -keypass "$storepass" >/dev/null 2>&1
  keytool -exportcert -rfc -alias broker -keystore "$dir/broker.p12" -storepass "$storepass" > "$dir/ca.pem" 2>/dev/null
  ( umask 077
    echo "KEYSTORE_PASSWORD=$storepass" > "$dir/credentials.env"
    for u in $USERS; do echo "$(echo "$u" | tr 'a-z-' 'A-Z_')_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"; done >> "$dir/credentials.env" )
}

password_of() { grep "^$(echo "$2" | tr 'a-z-' 'A-Z_')_PASSWORD=" "$1/credentials.env" | cut -d= -f2; }

start_secure() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  secure_setup "$dir"
  local admin_pw; admin_pw=$(password_of "$dir" admin)
  local ks_pw; ks_pw=$(grep '^KEYSTORE_PASSWORD=' "$dir/credentials.env" | cut -d= -f2)
  SCRAM_ARGS=()
  for u in $USERS; do SCRAM_ARGS+=(--add-scram "SCRAM-SHA-512=[name=$u,password=$(password_of "$dir" "$u")]"); done
  cat > "$dir/admin.properties" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_pw";
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ca.pem
PROPS
  chmod 600 "$dir/admin.properties"
  EXTRA_PROPS="
listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$(( port + 1 ))
advertised.listeners=SASL_SSL://127.0.0.1:$port
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$admin_pw\";
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/broker.p12
ssl.keystore.password=$ks_pw
ssl.key.password=$ks_pw
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ca.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:ANONYMOUS
auto.create.topics.enable=false"
  start "$dir" "$port"
}

acls() {  # the deny-by-default ACLs, from `onward kafka-acls --args` (one AclCommand per line)
  local dir=$1 port=$2 line
  while IFS= read -r line; do
    # shellcheck disable=SC2086
    java -Xmx256m -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$LIBS/*" org.apache.kafka.tools.AclCommand \
      --bootstrap-server "127.0.0.1:$port" --command-config "$dir/admin.properties" $line >/dev/null
  done
}

start() {
  local dir=$1 port=$2 cport=$(( $2 + 1 ))
  install
  mkdir -p "$dir/data"
  if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
    echo "kafka.sh: already running (pid $(cat "$dir/kafka.pid")) on $port" >&2; return 0
  fi
  sed -e "s#@PORT@#$port#g; s#@CPORT@#$cport#g; s#@DATA@#$dir/data#g" "$HERE/server.properties.in" > "$dir/server.properties"
  if [ -n "${EXTRA_PROPS:-}" ]; then  # later keys override earlier ones in a properties file
    printf '%s\n' "$EXTRA_PROPS" >> "$dir/server.properties"
  fi
  local cp="$LIBS/*"
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id; id=$(java -Xmx256m -cp "$cp" kafka.tools.StorageTool random-uuid)
    java -Xmx256m -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$cp" kafka.tools.StorageTool \
      format -t "$id" -c "$dir/server.properties" --ignore-formatted ${SCRAM_ARGS[@]+"${SCRAM_ARGS[@]}"} \
      >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; exit 1; }
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
  start-secure) install; start_secure "$2" "$3" ;;
  acls) acls "$2" "$3" ;;
  stop) stop "$2" ;;
  *) echo "usage: $0 install | start <run-dir> <port> | stop <run-dir>" >&2; exit 2 ;;
esac
