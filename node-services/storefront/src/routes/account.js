/**
 * GET /login, POST /login, POST /logout. The password goes to the gateway,
 * which issues the token; the token stays in the session, on this side.
 */
import { Router } from 'express';
import { LoginRefused } from '../backends.js';
import { chromeOf, redirect, sendPage } from '../pages.js';
import { signIn, signOut } from '../session.js';
import { loginMain } from '../views/shop.js';

export function accountRouter({ backends }) {
  const router = Router();

  router.get('/login', (req, res) => {
    const notice = req.query.expired ? 'Your session has ended: please log in again.' : null;
    const main = loginMain({ csrf: chromeOf(req).csrf, next: safeNext(req.query.next), notice });
    sendPage(req, res, { title: 'Log in', main });
  });

  router.post('/login', async (req, res) => {
    const username = String(req.body?.username ?? '').trim();
    const password = String(req.body?.password ?? '');
    const next = safeNext(req.body?.next);
    try {
      const { token, expiresIn } = await backends.login(username, password);
      await signIn(req, { username, token, expiresIn });
      redirect(res, next);
    } catch (error) {
      if (!(error instanceof LoginRefused)) throw error;
      const main = loginMain({
        csrf: chromeOf(req).csrf, next, username, error: 'Unknown user name or wrong password.',
      });
      sendPage(req, res, { title: 'Log in', main, status: 401 });
    }
  });

  router.post('/logout', async (req, res) => {
    await signOut(req, res);
    redirect(res, '/');
  });

  return router;
}

/** Only a path of this site: never another site (an open redirect). */
function safeNext(next) {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}
