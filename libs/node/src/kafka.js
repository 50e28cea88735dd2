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
 * Idempotent, as the Python producers are: a send retried after a broker
 * was lost is written once (every send asks acks=all, as idempotence needs).
 */
export function createProducer(kafka, options = {}) {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, ...options,
  });
}

function pinoLogCreator(log) {
  return () => ({ namespace, level, log: entry }) => {
    // kafkajs adds its own timestamp and logger name; pino has both already.
    const { message, timestamp, logger, ...fields } = entry;
    const method = TO_PINO_METHOD[level] ?? 'info';
    log[method]({ namespace, ...fields }, message);
  };
}

/**
 * How far behind each consumer group is: for every group, the records it has
 * not committed yet on the topics it consumes (those where it has committed
 * at least once; on such a topic, a partition never committed counts its
 * whole retained log).
 *
 * @param {Kafka} kafka
 * @param {string[]} topics the topics to look at
 * @returns {Promise<{group: string, state: string, lag: number}[]>}
 */
export async function consumerGroupLags(kafka, topics) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await logEnds(admin, topics);
    const { groups } = await admin.listGroups();
    const described = await admin.describeGroups(groups.map((group) => group.groupId));
    const lags = [];
    for (const { groupId, state } of described.groups) {
      const consumed = (await admin.fetchOffsets({ groupId, topics }))
        .filter(({ partitions }) => partitions.some(({ offset }) => Number(offset) >= 0));
      if (consumed.length === 0) continue;
      let lag = 0;
      for (const { topic, partitions } of consumed) {
        for (const { partition, offset } of partitions) {
          const { low, high } = ends[topic][partition];
          lag += high - (Number(offset) >= 0 ? Number(offset) : low);
        }
      }
      lags.push({ group: groupId, state, lag });
    }
    return lags.sort((a, b) => a.group.localeCompare(b.group));
  } finally {
    await admin.disconnect();
  }
}

/**
 * The records each topic holds now (end offset minus start offset, summed
 * over its partitions).
 * @returns {Promise<Record<string, number>>}
 */
export async function topicSizes(kafka, topics) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await logEnds(admin, topics);
    return Object.fromEntries(Object.entries(ends).map(([topic, partitions]) => [
      topic,
      Object.values(partitions).reduce((sum, { low, high }) => sum + high - low, 0),
    ]));
  } finally {
    await admin.disconnect();
  }
}

async function logEnds(admin, topics) {
  const ends = {};
  for (const topic of topics) {
    ends[topic] = {};
    for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
      ends[topic][partition] = { low: Number(low), high: Number(high) };
    }
  }
  return ends;
}

/**
 * A read-only follower of some topics, for views (not for work): each record
 * goes to `onRecord({topic, partition, offset, key, value, headers, timestamp})`
 * with headers as strings, and its offset is committed after it. A view
 * that fails to show one record logs it and moves on: nothing is lost, the
 * record stays in its topic.
 *
 * @returns {{start: () => void, stop: () => Promise<void>, isRunning: boolean}}
 */
export function createTopicTail({ kafka, groupId, topics, onRecord, logger }) {
  const log = logger.child({ component: 'topic-tail', group: groupId });
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 2000 });
  const tail = { isRunning: false, start, stop };
  let running = null;

  async function run() {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {})
          .map(([name, value]) => [name, value?.toString() ?? '']));
        try {
          await onRecord({
            topic, partition, offset: message.offset, key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? '', headers, timestamp: Number(message.timestamp),
          });
        } catch (error) {
          log.error({ err: error, topic, partition, offset: message.offset }, 'view failed');
        }
      },
    });
    tail.isRunning = true;
  }

  function start() {
    running ??= run().catch((error) => log.error({ err: error }, 'could not follow the topics'));
  }

  async function stop() {
    tail.isRunning = false;
    await running;
    await consumer.disconnect();
  }

  return tail;
}
