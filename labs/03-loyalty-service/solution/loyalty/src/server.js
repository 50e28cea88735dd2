/**
 * Starts loyalty: `node labs/03-loyalty-service/solution/loyalty/src/server.js`.
 *
 * Tracing starts first: it instruments Express and http as they load, so
 * the service itself (service.js) is imported only once it runs
 * (@polyshop/common/telemetry).
 */
import { startTelemetry } from '@polyshop/common/telemetry';

await startTelemetry({ service: 'loyalty' });
await import('./service.js');
