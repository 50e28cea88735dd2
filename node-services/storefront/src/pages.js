/**
 * Answering a browser: a page in the site's frame, a redirect after a form
 * (post/redirect/get: a reload never sends the form again), and errors as
 * pages. A client that does not ask for HTML (a script, curl) gets the
 * same errors as problem JSON from the common handler instead.
 */
import http from 'node:http';
import { HttpProblem, ServiceUnavailable, UpstreamError } from '@polyshop/common';
import { csrfToken, currentUser } from './session.js';
import { errorPage, layout } from './views/layout.js';

/** What every page's frame shows: who is signed in, the CSRF token, the cart's size. */
export function chromeOf(req) {
  const cart = req.session?.cart ?? {};
  return {
    user: currentUser(req),
    csrf: csrfToken(req),
    cartCount: Object.values(cart).reduce((sum, quantity) => sum + quantity, 0),
    path: req.path,
  };
}

export function sendPage(req, res, { title, main, scripts, status = 200 }) {
  const page = layout({ title, chrome: chromeOf(req), main, scripts });
  res.status(status).set('Cache-Control', 'no-store').type('html').send(page.toString());
}

/** 303 See Other: the browser follows with a GET. */
export function redirect(res, location) {
  res.redirect(303, location);
}

/** Pages that need a signed-in user send others to the log-in page, and back after it. */
export function requireUser(req, res, next) {
  req.user = currentUser(req);
  if (req.user) return next();
  const notice = req.session?.expired ? '&expired=1' : '';
  return redirect(res, `/login?next=${encodeURIComponent(req.originalUrl)}${notice}`);
}

/** The error middleware for browsers: an HTML page with the error's status. */
export function errorPages({ logger }) {
  return (error, req, res, next) => {
    if (!req.accepts(['html', 'json']) || req.accepts(['html', 'json']) === 'json') {
      return next(toProblem(error) ?? error);
    }
    const problem = toProblem(error);
    if (!problem) {
      logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
    }
    const { status, title, detail } = problem ?? { status: 500, title: 'Something went wrong' };
    if (problem?.headers) res.set(problem.headers);
    const page = errorPage({ status, title, detail, chrome: chromeOf(req) });
    return res.status(status).type('html').send(page.toString());
  };
}

/** The error as an HttpProblem a user can be shown, or null for a bug. */
function toProblem(error) {
  if (error instanceof HttpProblem) return error;
  if (error.code === 'EBADCSRFTOKEN') {
    return new HttpProblem(403, 'Forbidden', 'The form is missing its security token or it expired: go back, reload the page and try again.');
  }
  if (error instanceof ServiceUnavailable) {
    return new HttpProblem(503, 'Service Unavailable', `${error.service} cannot be reached right now; try again in a moment.`, {
      headers: { 'Retry-After': '2' },
    });
  }
  if (error instanceof UpstreamError) {
    return new HttpProblem(502, 'Bad Gateway', `${error.service} answered ${error.status}.`);
  }
  if (Number.isInteger(error.status) && error.status >= 400 && error.status < 500) {
    return new HttpProblem(error.status, http.STATUS_CODES[error.status], error.message);
  }
  return null;
}
