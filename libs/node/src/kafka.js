/**
 * The one module that knows which Kafka client library polyshop uses.
 *
 * Services ask this module for a client and never import kafkajs themselves,
 * so the library can be swapped in one place (see docs/adr/0003). The client
 * logs through our pino logger, as JSON lines like every other component.
 */
import { Kafka, logLevel as kafkaLevel, Partitioners } from 'kafkajs';

const TO_KAFKA_LEVEL = {
  trace: kafkaLevel.DEBUG,
  debug: kafkaLevel.DEBUG,
  info: kafkaLevel.INFO,
  warn: kafkaLevel.WARN,
  error: kafkaLevel.ERROR,
  fatal: kafkaLevel.ERROR,
  silent: kafkaLevel.NOTHING,
};

const TO_PINO_METHOD = {
  [kafkaLevel.ERROR]: 'error',
  [kafkaLevel.WARN]: 'warn',
  [kafkaLevel.INFO]: 'info',
  [kafkaLevel.DEBUG]: 'debug',
};

/**
 * Parses KAFKA_BOOTSTRAP_SERVERS ("host:port,host:port") into a broker list.
 * The caller's config module reads the environment and passes the value in.
 */
export function brokersFromEnv(value) {
  const brokers = String(value ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers.length === 0) {
    throw new Error('KAFKA_BOOTSTRAP_SERVERS is empty; expected host:port[,host:port...]');
  }
  const malformed = brokers.find((broker) => !/^\S+:\d+$/.test(broker));
  if (malformed) throw new Error(`KAFKA_BOOTSTRAP_SERVERS: "${malformed}" is not host:port`);
  return brokers;
}

/** @returns {Kafka} a kafkajs client; nothing connects until a producer/consumer does */
export function createKafka({ brokers, clientId, logger }) {
  return new Kafka({
    brokers,
    clientId,
    logLevel: TO_KAFKA_LEVEL[logger.level] ?? kafkaLevel.INFO,
    logCreator: pinoLogCreator(logger.child({ component: 'kafka' })),
  });
}

/**
 * A producer whose partitioner is the murmur2 one of the Java and Python
 * clients: the same key (an order id) lands on the same partition whichever
 * language produced it, which keeps the events of one order in order.
 */
export function createProducer(kafka, options = {}) {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...options });
}

function pinoLogCreator(log) {
  return () => ({ namespace, level, log: entry }) => {
    // kafkajs adds its own timestamp and logger name; pino has both already.
    const { message, timestamp, logger, ...fields } = entry;
    const method = TO_PINO_METHOD[level] ?? 'info';
    log[method]({ namespace, ...fields }, message);
  };
}
