/**
 * Polling with a deadline: the helper lives in src/testing.js, shared with
 * the services' tests.
 */
export { eventually } from '../../src/testing.js';
