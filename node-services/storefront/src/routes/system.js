/**
 * GET /system (the page) and GET /system/events (its live data as
 * server-sent events: a `snapshot` every second, and each saga `step` the
 * moment its event is read). Nothing personal in it. With TRACE_VIEW_URL
 * set, each lane and step carries its order's trace link (`trace_url`).
 *
 * The operator's part of the page: POST /system/operator signs the session
 * in with the operator token (kept in the session, on this side, never in
 * the page), POST /system/operator/sign-out signs it out, and POST
 * /system/dead-letters/redrive redrives one dead letter; its outcome shows
 * on the page it leads back to. POST /system/faults turns a fault switch
 * on or off (docs/faults.md) by writing the flag file every piece watches
 * (FAULTS_FILE). Each is a form with the session's CSRF token, like every
 * form of the storefront, and each is the operator's only.
 */
import { Router } from 'express';
import {
  AlreadyRedriven, DeadLetterError, faultStates, HttpProblem, LetterId, setFault,
} from '@polyshop/common';
import { openEventStream } from '../live/sse.js';
import { chromeOf, redirect, sendPage } from '../pages.js';
import { withTraceUrl } from '../trace-links.js';
import { systemMain } from '../views/system.js';
import { sameToken } from './operator.js';

// Back to the page, its operator part (or the redrive's outcome) in view and focused.
const BACK = '/system#operator';
const RESULT = '/system#redrive-result';
const FAULTS = '/system#faults';

export function systemRouter({
  monitor, hub, deadLetters, operatorToken, traceLinks, faultsFile, logger,
}) {
  const router = Router();
  const linked = withTraceUrl(traceLinks);
  // Checked on every use: a new OPERATOR_TOKEN signs every operator out.
  const isOperator = (req) => sameToken(req.session?.operatorToken, operatorToken);

  function showSystem(req, res, { status = 200, tokenError } = {}) {
    const notice = req.session?.redriveNotice;
    if (notice) delete req.session.redriveNotice; // shown once
    const operator = { signedIn: isOperator(req), csrf: chromeOf(req).csrf, notice, tokenError };
    const faults = faultsFile && { states: faultStates(faultsFile), notice: req.session?.faultNotice };
    if (req.session?.faultNotice) delete req.session.faultNotice; // shown once
    sendPage(req, res, {
      title: 'System view', main: systemMain(operator, faults), scripts: ['system.js'], status,
    });
  }

  router.get('/system', (req, res) => showSystem(req, res));

  router.get('/system/events', (req, res) => {
    const stream = openEventStream(req, res);
    stream.onClose(monitor.subscribe((snapshot) => {
      stream.send('snapshot', { ...snapshot, lanes: snapshot.lanes.map(linked) });
    }));
    stream.onClose(hub.onStep(({ reason, ...step }) => stream.send('step', linked(step), step.id)));
  });

  router.post('/system/operator', async (req, res) => {
    const token = String(req.body?.token ?? '');
    if (!sameToken(token, operatorToken)) {
      return showSystem(req, res, { status: 401, tokenError: 'That is not the operator token.' });
    }
    await renewSession(req);
    req.session.operatorToken = token;
    return redirect(res, BACK);
  });

  router.post('/system/operator/sign-out', (req, res) => {
    delete req.session.operatorToken;
    delete req.session.redriveNotice;
    redirect(res, BACK);
  });

  router.post('/system/dead-letters/redrive', async (req, res) => {
    if (!isOperator(req)) {
      throw new HttpProblem(403, 'Forbidden', 'Sign in as operator on the system view to redrive.');
    }
    const letter = String(req.body?.letter ?? '');
    req.session.redriveNotice = await redriveNotice(deadLetters, letter, req.body?.again === 'true');
    redirect(res, RESULT);
  });

  router.post('/system/faults', (req, res) => {
    if (!isOperator(req)) {
      throw new HttpProblem(403, 'Forbidden', 'Sign in as operator on the system view to turn faults.');
    }
    if (!faultsFile) throw new HttpProblem(409, 'Conflict', 'This shop has no fault switches (FAULTS_FILE).');
    const name = String(req.body?.name ?? '');
    const on = req.body?.on === 'true';
    const where = String(req.body?.service ?? '');
    const services = on && where ? [where] : [];
    try {
      setFault(faultsFile, name, { on, services });
    } catch (error) {
      throw new HttpProblem(400, 'Bad Request', error.message);
    }
    logger.warn({ fault: name, on, services }, 'fault switch turned from the system view');
    const place = services.length > 0 ? ` in ${services.join(', ')}` : '';
    req.session.faultNotice = on ? `${name} is on${place || ' everywhere'}.` : `${name} is off.`;
    redirect(res, FAULTS);
  });

  return router;
}

/** What the page says of a redrive: where it went, or why not. */
async function redriveNotice(deadLetters, id, again) {
  try {
    const done = await deadLetters.redrive(LetterId.parse(id), { again });
    return { text: `Redriven ${id} to ${done.target} at ${done.time}.`, failed: false };
  } catch (error) {
    if (!(error instanceof DeadLetterError)) throw error;
    const refused = error instanceof AlreadyRedriven;
    return { text: error.message, failed: true, again: refused ? id : undefined };
  }
}

/**
 * A new session id when the session gains rights (a planted id would gain
 * them too: session fixation), its contents kept.
 */
function renewSession(req) {
  const { cookie, ...kept } = req.session;
  return new Promise((resolve, reject) => {
    req.session.regenerate((error) => {
      if (error) return reject(error);
      Object.assign(req.session, kept);
      req.session.cookie.maxAge = cookie.maxAge;
      return resolve();
    });
  });
}
