# Shared settings for scripts/kafka/*.sh (sourced, not executed).
# Override with environment variables:
#   KAFKA_VERSION   broker version from Maven Central (default below)
#   KAFKA_CACHE     where jars are cached (default ~/.cache/seismo/kafka-$KAFKA_VERSION)
#   KAFKA_DIR       runtime dir: config, data, log, pidfile (default /tmp/seismo-kafka)
#   KAFKA_PORT      client listener port on 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default KAFKA_PORT+1)
#   KAFKA_HEAP_OPTS JVM heap (default -Xms256m -Xmx512m)
#   KAFKA_JVM_OPTS  other JVM flags (default -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1)
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_SCALA="${KAFKA_SCALA:-2.13}"
KAFKA_CACHE="${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seismo/kafka-$KAFKA_VERSION}"
KAFKA_LIBS="$KAFKA_CACHE/libs"
KAFKA_DIR="${KAFKA_DIR:-/tmp/seismo-kafka}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

kafka_major() { echo "${KAFKA_VERSION%%.*}"; }
