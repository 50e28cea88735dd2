/**
 * Browser sessions: the pattern to copy for browser clients.
 *
 * The browser never holds the JWT. It holds a session cookie (HttpOnly, so
 * no script can read it; SameSite=Strict, so no other site's page can send
 * it; signed with SESSION_SECRET, so a tampered one is refused), and the
 * user's token stays here, in the storefront's database, for the calls the
 * storefront makes on the user's behalf. Every form that changes something
 * carries a CSRF token kept in the session (the synchroniser token
 * pattern): a request without it, or with another session's, is refused
 * with 403.
 *
 * express-session does the cookie; the store below keeps sessions in
 * SQLite, so a restart of the storefront logs nobody out.
 */
import { csrfSync } from 'csrf-sync';
import session from 'express-session';

const COOKIE_NAME = 'polyshop.sid';
// A visitor's cart lives this long without a visit; a signed-in session
// ends with its token.
const ANONYMOUS_TTL_MS = 24 * 60 * 60 * 1000;

export function sessions({ db, secret }) {
  return session({
    name: COOKIE_NAME,
    secret,
    store: new SqliteSessionStore(db),
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'strict', secure: 'auto', path: '/', maxAge: ANONYMOUS_TTL_MS },
  });
}

const csrf = csrfSync({
  getTokenFromRequest: (req) => req.body?._csrf ?? req.get('x-csrf-token'),
});

/** Refuses a state-changing request without the session's CSRF token (403). */
export const csrfProtection = csrf.csrfSynchronisedProtection;

/** The session's CSRF token, made on first use; forms carry it as `_csrf`. */
export const csrfToken = (req) => csrf.generateToken(req);

/**
 * Signs the user in: a new session id (the old one may have been planted by
 * someone else: session fixation), the cart kept, the token stored here.
 */
export function signIn(req, { username, token, expiresIn }) {
  const { cart } = req.session;
  return new Promise((resolve, reject) => {
    req.session.regenerate((error) => {
      if (error) return reject(error);
      Object.assign(req.session, { user: username, token, cart });
      req.session.tokenExpiresAt = Date.now() + expiresIn * 1000;
      req.session.cookie.maxAge = expiresIn * 1000;
      return resolve();
    });
  });
}

/** Signs out: the session and its token are deleted, the cookie cleared. */
export function signOut(req, res) {
  return new Promise((resolve, reject) => {
    req.session.destroy((error) => (error ? reject(error) : resolve()));
    res.clearCookie(COOKIE_NAME, { path: '/' });
  });
}

/** The signed-in user of the request, or null; a session whose token expired is ended. */
export function currentUser(req) {
  const { user, tokenExpiresAt } = req.session ?? {};
  if (!user) return null;
  if (Date.now() >= tokenExpiresAt) {
    delete req.session.user;
    delete req.session.token;
    req.session.expired = true;
    return null;
  }
  return { name: user, token: req.session.token };
}

/** express-session's store interface over the `sessions` table. */
class SqliteSessionStore extends session.Store {
  #db;

  constructor(db) {
    super();
    this.#db = db;
  }

  get(id, done) {
    const row = this.#db.prepare('SELECT data, expires_at FROM sessions WHERE id = ?').get(id);
    if (!row || row.expires_at <= Date.now()) return done(null, null);
    return done(null, JSON.parse(row.data));
  }

  set(id, data, done) {
    const expiresAt = new Date(data.cookie.expires ?? Date.now() + ANONYMOUS_TTL_MS).getTime();
    this.#db.prepare(
      `INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
    ).run(id, JSON.stringify(data), expiresAt);
    // Forget expired sessions as new ones come: no timer to stop.
    this.#db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(Date.now());
    done(null);
  }

  touch(id, data, done) {
    this.set(id, data, done);
  }

  destroy(id, done) {
    this.#db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
    done(null);
  }
}
