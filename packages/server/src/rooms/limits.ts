import { HeraldError } from '../errors.js';
import type { SocketSession } from '../session.js';

/** What one socket may hold and send: bounds no desk reaches, so one client cannot take the server. */
export interface SocketLimits {
  /** Rooms a socket may be in, its own and the automatic ones included (--max-rooms). */
  maxRooms: number;
  /** Documents a socket may have open (--max-open-docs). */
  maxOpenDocs: number;
  /** Characters of a doctype, document name or task id (--max-name-length). */
  maxNameLength: number;
  /** Events a socket may send per second, on average (--rate-limit; 0: no limit). */
  ratePerSecond: number;
  /** Events a socket may send at once, above the rate (--rate-burst). */
  rateBurst: number;
}

const SETTING = { rooms: '--max-rooms', open_docs: '--max-open-docs' } as const;
const HOLDS = { rooms: 'rooms', open_docs: 'open documents' } as const;

/** The error of a request that would take a socket past one of its limits. */
export function limitReached(
  event: string,
  limit: keyof typeof SETTING,
  limits: SocketLimits,
): HeraldError {
  const max = limit === 'rooms' ? limits.maxRooms : limits.maxOpenDocs;
  return new HeraldError(
    'HERALD_LIMIT_REACHED',
    `${event}: this socket already holds ${max} ${HOLDS[limit]}, the most allowed (${SETTING[limit]}); nothing was joined`,
    { hint: `leave or close some first (or raise ${SETTING[limit]} on the server)` },
  );
}

/** A socket's event budget: a token bucket, made at its first event. */
export interface RateState {
  /** Events it may still send now. */
  tokens: number;
  /** When `tokens` was last topped up (ms, performance.now()). */
  at: number;
  /** Events refused since the last one allowed. */
  refused: number;
}

/** What to do with a socket's event: take it, refuse it, or drop the socket that keeps going. */
export type RateVerdict = 'take' | 'refuse' | 'drop';

/**
 * Spends one event of a socket's budget. Refused events are answered; a socket that sends as many
 * refused events again as its burst, without pausing, is dropped.
 */
export function spendEvent(session: SocketSession, limits: SocketLimits, now: number): RateVerdict {
  if (limits.ratePerSecond <= 0) return 'take';
  let state = session.rate;
  if (state === undefined) {
    state = { tokens: limits.rateBurst, at: now, refused: 0 };
    session.rate = state;
  } else {
    state.tokens = Math.min(
      limits.rateBurst,
      state.tokens + ((now - state.at) * limits.ratePerSecond) / 1000,
    );
    state.at = now;
  }
  if (state.tokens >= 1) {
    state.tokens -= 1;
    state.refused = 0;
    return 'take';
  }
  state.refused += 1;
  return state.refused > limits.rateBurst ? 'drop' : 'refuse';
}

/** The answer to a refused event. */
export function rateLimited(event: string, limits: SocketLimits): HeraldError {
  return new HeraldError(
    'HERALD_RATE_LIMITED',
    `${event}: this socket sends more than ${limits.ratePerSecond} events a second (burst ${limits.rateBurst}); the event was not handled`,
    {
      hint: 'slow down: a socket that keeps sending past its limit is disconnected (--rate-limit, --rate-burst)',
    },
  );
}
