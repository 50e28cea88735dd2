/**
 * Fan-out of what happens, to the open event streams of this process: the
 * timeline consumer publishes each new step, every stream that follows the
 * step's order (or the whole system) gets it.
 */
import { EventEmitter } from 'node:events';

export function createHub() {
  const hub = new EventEmitter();
  hub.setMaxListeners(0); // one listener per open browser tab
  return {
    publishStep: (step) => hub.emit('step', step),
    /** @returns {() => void} unsubscribes */
    onStep(listener) {
      hub.on('step', listener);
      return () => hub.off('step', listener);
    },
  };
}
