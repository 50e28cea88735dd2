# Sourced by the command-line tools: a small heap, a quick start, warnings only.
export KAFKA_HEAP_OPTS="-Xmx256M"
export KAFKA_JVM_PERFORMANCE_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
export KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties"
