#!/bin/bash
source "$(dirname "$0")/tools-env.sh"
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.TopicCommand "$@"
