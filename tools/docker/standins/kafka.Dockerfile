# Stand-in for apache/kafka (JVM image), built from Debian's JRE and the
# broker's jars for machines that cannot reach a container registry. It keeps
# the official image's contract as far as polyshop uses it: KAFKA_* settings
# from the environment (KAFKA_FOO_BAR -> foo.bar), CLUSTER_ID, KAFKA_HEAP_OPTS,
# /opt/kafka/bin/kafka-topics.sh and kafka-broker-api-versions.sh, data in
# /var/lib/kafka/data, user appuser, CMD /etc/kafka/docker/run.
FROM polyshop-standin/debian:bookworm
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*
COPY libs /opt/kafka/libs
COPY bin /opt/kafka/bin
COPY log4j2.properties tools-log4j2.properties /opt/kafka/config/
COPY run /etc/kafka/docker/run
RUN useradd --create-home --home-dir /home/appuser --shell /bin/bash appuser \
    && mkdir -p /var/lib/kafka/data \
    && chown -R appuser:appuser /opt/kafka \
    && chown -R appuser:root /var/lib/kafka /etc/kafka
USER appuser
EXPOSE 9092
VOLUME ["/var/lib/kafka/data"]
CMD ["/etc/kafka/docker/run"]
