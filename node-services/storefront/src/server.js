/**
 * Starts the storefront: `node node-services/storefront/src/server.js`.
 *
 * Tracing starts first: it instruments Express and http as they load, so
 * the service itself (service.js) is imported only once it runs
 * (@polyshop/common/telemetry).
 */
import { startTelemetry } from '@polyshop/common/telemetry';

await startTelemetry({ service: 'storefront' });
await import('./service.js');
