/**
 * The operator API (contracts/openapi/storefront-operator.yaml): the dead
 * letters, as JSON, for scripts and curl.
 *
 *   GET  /operator/dead-letters[?topic=&limit=]                 the newest, oldest first
 *   GET  /operator/dead-letters/{topic}/{partition}/{offset}    one, with key, headers and value
 *   POST /operator/dead-letters/{topic}/{partition}/{offset}/redrive
 *                                            {"to"?, "again"?}: where it went
 *
 * A dead letter's id is DLQTOPIC/PARTITION/OFFSET everywhere; in a path it is
 * three segments, not one with encoded slashes, which the gateway refuses.
 *
 * Every request carries `Authorization: Bearer OPERATOR_TOKEN`. A bearer
 * token is sent by the caller, never by a browser on its own, so these
 * routes need no session and no CSRF token: they are mounted before both.
 * Every error, a browser's included, is problem JSON.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { Router } from 'express';
import {
  AlreadyRedriven, BadLetterId, BadRequest, DeadLetterError, HttpProblem, KafkaUnavailable, LetterId,
  NotFound, sendProblem, UnknownDeadLetter,
} from '@polyshop/common';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
const LETTER_PATH = '/operator/dead-letters/:topic/:partition/:offset';
const LETTER_PATH_SHAPE = '/operator/dead-letters/DLQTOPIC/PARTITION/OFFSET';

/** Constant time whatever the lengths: both sides are hashed to the same size first. */
export function sameToken(given, expected) {
  const digest = (text) => createHash('sha256').update(String(text)).digest();
  return typeof given === 'string' && given.length > 0 && timingSafeEqual(digest(given), digest(expected));
}

export function operatorApi({ deadLetters, operatorToken, logger }) {
  const router = Router();
  router.use('/operator', (req, res, next) => {
    const [, token] = /^bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '') ?? [];
    if (!sameToken(token, operatorToken)) {
      throw new HttpProblem(401, 'Unauthorized', 'Send Authorization: Bearer with the operator token.', {
        headers: { 'WWW-Authenticate': 'Bearer realm="polyshop-operator"' },
      });
    }
    next();
  });

  router.get('/operator/dead-letters', async (req, res) => {
    const found = await deadLetters.letters({ topic: topicOf(req.query), limit: limitOf(req.query) });
    res.json({ dead_letters: found.map(summary) });
  });

  router.get(LETTER_PATH, async (req, res) => {
    res.json(details(await deadLetters.get(letterIdOf(req.params))));
  });

  router.post(`${LETTER_PATH}/redrive`, async (req, res) => {
    const options = redriveOptions(req.body ?? {});
    res.json({ ...await deadLetters.redrive(letterIdOf(req.params), options) });
  });

  router.use('/operator', (req) => {
    const hint = req.path.startsWith('/dead-letters/') ? `: a dead letter is ${LETTER_PATH_SHAPE}` : '';
    throw new NotFound(`no route for ${req.method} ${req.originalUrl.split('?')[0]}${hint}`);
  });
  router.use('/operator', (error, req, res, next) => sendProblem(res, problemOf(error, logger, req)));
  return router;
}

/** The id the three segments name, parsed as everywhere else, so a bad one is the same 400. */
function letterIdOf({ topic, partition, offset }) {
  return LetterId.parse(`${topic}/${partition}/${offset}`);
}

function topicOf({ topic }) {
  if (topic === undefined) return undefined;
  if (typeof topic !== 'string' || topic === '') throw new BadRequest('topic is one topic name');
  return topic;
}

/** `{to?, again?}`, strictly: a field misspelt is refused, not ignored. */
function redriveOptions(body) {
  if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequest('the body is a JSON object');
  const { to, again = false, ...unknown } = body;
  const extra = Object.keys(unknown);
  if (extra.length > 0) throw new BadRequest(`unknown fields: ${extra.join(', ')}`);
  if (to !== undefined && (typeof to !== 'string' || to === '')) throw new BadRequest('"to" is a topic name');
  if (typeof again !== 'boolean') throw new BadRequest('"again" is true or false');
  return { to, again };
}

function limitOf({ limit }) {
  if (limit === undefined) return DEFAULT_LIMIT;
  const value = Number(limit);
  if (!/^\d+$/.test(limit) || value < 1 || value > MAX_LIMIT) {
    throw new BadRequest(`limit is a whole number from 1 to ${MAX_LIMIT}`);
  }
  return value;
}

const STATUS_OF = [
  [BadLetterId, 400], [UnknownDeadLetter, 404], [AlreadyRedriven, 409], [KafkaUnavailable, 503],
  // Anything else the library refuses names a topic that is not there.
  [DeadLetterError, 422],
];

function problemOf(error, logger, req) {
  if (error instanceof HttpProblem) return error;
  const status = STATUS_OF.find(([kind]) => error instanceof kind)?.[1]
    ?? (error.status >= 400 && error.status < 500 ? error.status : 500);
  if (status === 500) logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
  const title = http.STATUS_CODES[status];
  const detail = status === 500 ? undefined
    : error.type === 'entity.parse.failed' ? 'the body is not valid JSON' : error.message;
  const headers = status === 503 ? { 'Retry-After': '2' } : {};
  const extensions = error instanceof AlreadyRedriven ? { redrive: { ...error.redrive } } : {};
  return { status, title, detail, headers, extensions };
}

/** One dead letter in a list: where it lies, when, why, and its redrive. */
export function summary(letter) {
  return {
    id: String(letter.id),
    time: new Date(letter.timestampMs).toISOString(),
    topic: letter.origin,
    group: letter.group,
    reason: letter.reason,
    redrive: letter.redrive ? { ...letter.redrive } : null,
  };
}

/** One dead letter in full: its value as JSON when it is JSON, and always its exact bytes. */
function details(letter) {
  return {
    ...summary(letter),
    key: letter.key?.toString() ?? null,
    headers: letter.headers.map(([name, value]) => ({ name, value: value?.toString() ?? null })),
    value_json: parsed(letter.value),
    value_base64: letter.value?.toString('base64') ?? null,
    value_length: letter.value?.length ?? null,
  };
}

function parsed(value) {
  try {
    return value === null ? null : JSON.parse(value.toString());
  } catch {
    return null;
  }
}
