/**
 * Server-sent events: one response kept open, one `event:`/`data:` block per
 * message. A comment line every few seconds keeps the connection alive
 * through the gateway (which gives up on an upstream silent for its route's
 * timeout) and lets the browser notice a dead connection and reconnect.
 */
const KEEP_ALIVE_MS = 5000;
const RETRY_MS = 2000;

/**
 * @returns {{send: (event: string, data: object, id?: string) => void, onClose: (fn) => void}}
 */
export function openEventStream(req, res) {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.write(`retry: ${RETRY_MS}\n\n`);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  const closers = [() => clearInterval(keepAlive)];
  req.on('close', () => closers.forEach((close) => close()));
  return {
    send(event, data, id) {
      const idLine = id ? `id: ${id}\n` : '';
      res.write(`event: ${event}\n${idLine}data: ${JSON.stringify(data)}\n\n`);
    },
    onClose: (close) => closers.push(close),
  };
}
