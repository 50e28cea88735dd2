/**
 * GET /system (the page) and GET /system/events (its live data as
 * server-sent events: a `snapshot` every second, and each saga `step` the
 * moment its event is read). Read-only, and nothing personal in it.
 */
import { Router } from 'express';
import { openEventStream } from '../live/sse.js';
import { sendPage } from '../pages.js';
import { systemMain } from '../views/system.js';

export function systemRouter({ monitor, hub }) {
  const router = Router();

  router.get('/system', (req, res) => {
    sendPage(req, res, { title: 'System view', main: systemMain(), scripts: ['system.js'] });
  });

  router.get('/system/events', (req, res) => {
    const stream = openEventStream(req, res);
    stream.onClose(monitor.subscribe((snapshot) => stream.send('snapshot', snapshot)));
    stream.onClose(hub.onStep(({ reason, ...step }) => stream.send('step', step, step.id)));
  });

  return router;
}
