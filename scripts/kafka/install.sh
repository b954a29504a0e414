#!/usr/bin/env bash
# Install a single-node Apache Kafka broker (jars only) from Maven Central, plus kcat.
#
# Usage: scripts/kafka/install.sh [--version X.Y.Z] [--no-kcat]
#   env: KAFKA_VERSION, KAFKA_CACHE (see common.sh)
#
# Jars go to $KAFKA_CACHE/libs (default ~/.cache/seismo/kafka-<version>/libs).
# Idempotent: if the libs dir is complete (marker file present) it does nothing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

WANT_KCAT=1
QUIET=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quiet-if-present) QUIET=1; shift ;;
    --version) export KAFKA_VERSION="$2"; shift 2 ;;
    --no-kcat) WANT_KCAT=0; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=common.sh
source "$HERE/common.sh"

if [[ "${SEISMO_SKIP_KAFKA:-0}" == "1" ]]; then
  echo "install.sh: SEISMO_SKIP_KAFKA=1, skipping the broker install (Kafka tests will be skipped)" >&2
  exit 0
fi

APT_UPDATED=0
# Debian packages: Java and Maven to resolve and run the broker, kcat as the third-party client.
apt_install() {
  local SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  if [[ $APT_UPDATED -eq 0 ]]; then
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  echo "install.sh: apt-get install $*" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  apt_install "$3"
  command -v "$1" >/dev/null 2>&1 || { echo "install.sh: '$1' still not found after installing $3 (need $2)" >&2; exit 1; }
}

install_kcat() {
  if command -v kcat >/dev/null 2>&1; then
    [[ $QUIET -eq 1 ]] || echo "kcat: already installed ($(command -v kcat))"
    return 0
  fi
  echo "kcat: installing from Debian packages"
  apt_install kcat
  command -v kcat >/dev/null
  echo "kcat: installed ($(command -v kcat))"
}

install_jars() {
  local marker="$KAFKA_LIBS/.complete"
  if [[ -f "$marker" ]]; then
    [[ $QUIET -eq 1 ]] || echo "kafka $KAFKA_VERSION: already installed in $KAFKA_LIBS ($(ls "$KAFKA_LIBS"/*.jar | wc -l) jars)"
    return 0
  fi
  need java "Java 17+" default-jre-headless
  need mvn "Maven 3" maven

  # Logging binding: Kafka 4.x logs through log4j2, Kafka 3.x through reload4j (log4j 1 API).
  local logdeps
  if [[ "$(kafka_major)" -ge 4 ]]; then
    logdeps='
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-1.2-api</artifactId><version>2.24.3</version></dependency>'
  else
    logdeps='
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>'
  fi

  mkdir -p "$KAFKA_CACHE"
  local work="$KAFKA_CACHE/resolve"
  rm -rf "$work" "$KAFKA_LIBS.tmp"
  mkdir -p "$work"
  cat > "$work/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.seismo</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$KAFKA_SCALA</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-metadata</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-storage</artifactId><version>$KAFKA_VERSION</version></dependency>
$logdeps
  </dependencies>
</project>
POM
  echo "kafka $KAFKA_VERSION: resolving jars from Maven Central (mvn dependency:copy-dependencies)"
  local t0=$SECONDS
  if ! mvn -B -q -f "$work/pom.xml" \
        org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp" >"$work/mvn.log" 2>&1; then
    echo "install.sh: mvn failed; log: $work/mvn.log" >&2
    tail -30 "$work/mvn.log" >&2
    exit 1
  fi
  [[ -f "$KAFKA_LIBS.tmp/kafka_$KAFKA_SCALA-$KAFKA_VERSION.jar" ]] || { echo "install.sh: kafka jar missing after resolve" >&2; exit 1; }
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  echo "$KAFKA_VERSION" > "$marker"
  echo "kafka $KAFKA_VERSION: $(ls "$KAFKA_LIBS"/*.jar | wc -l) jars in $KAFKA_LIBS ($((SECONDS - t0))s)"
}

install_jars
if [[ $WANT_KCAT -eq 1 ]]; then install_kcat; fi
