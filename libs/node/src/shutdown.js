/**
 * Leaving cleanly on SIGTERM or SIGINT (what `docker stop` and Ctrl-C send).
 *
 * The handler runs once; the process then exits 0. A handler that throws, or
 * that takes longer than `timeoutMs`, exits 1: an orchestrator must see that
 * the stop was not clean, and must not wait forever. A second signal while
 * stopping (an impatient Ctrl-C) is logged and ignored, so the handler is
 * never cut off half-way or run twice.
 */
const SIGNALS = ['SIGTERM', 'SIGINT'];

/**
 * @param {() => (void|Promise<void>)} handler closes what the process opened,
 *   in order: deregister first, so no caller is sent to a closed port.
 * @returns {() => void} removes the signal listeners again
 */
export function onShutdown(handler, { timeoutMs = 10000, logger } = {}) {
  let stopping = false;

  async function stop(signal) {
    if (stopping) {
      logger.warn({ signal }, 'already stopping; signal ignored');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    // Not unref'd: if the handler hangs on something that keeps no handle
    // open, this timer is what still ends the process, with a failure code.
    const timer = setTimeout(() => {
      logger.error({ timeout_ms: timeoutMs }, 'shutdown took too long');
      process.exit(1);
    }, timeoutMs);
    try {
      await handler();
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    clearTimeout(timer);
    logger.info('stopped');
    process.exit(0);
  }

  for (const signal of SIGNALS) process.on(signal, stop);
  return () => {
    for (const signal of SIGNALS) process.off(signal, stop);
  };
}
