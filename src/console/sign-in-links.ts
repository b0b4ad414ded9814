/**
 * One-time sign-in links (what `latchkey up` prints): a random token, kept only as its hash,
 * good once and for a few minutes. Links live in the memory of the server that made them.
 */
import { createHash, randomBytes } from 'node:crypto';

/** How long a link stays good. */
export const LINK_SECONDS = 10 * 60;

/** Links kept at most (the oldest are dropped first). */
const MAX_LINKS = 1000;

/** One-time sign-in tokens bound to an access key id. */
export class SignInLinks {
  readonly #links = new Map<string, { accessKeyId: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new token for `accessKeyId`. */
  issue(accessKeyId: string, seconds = LINK_SECONDS): string {
    this.#sweep();
    if (this.#links.size >= MAX_LINKS) {
      const oldest = this.#links.keys().next().value;
      if (oldest !== undefined) this.#links.delete(oldest);
    }
    const token = randomBytes(32).toString('base64url');
    this.#links.set(hash(token), { accessKeyId, expiresAt: this.now() + seconds * 1000 });
    return token;
  }

  /** The access key id of a token, consuming it; undefined when unknown, used or expired. */
  consume(token: string): string | undefined {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const key = hash(token);
    const link = this.#links.get(key);
    if (link === undefined) return undefined;
    this.#links.delete(key);
    return link.expiresAt > this.now() ? link.accessKeyId : undefined;
  }

  #sweep(): void {
    const now = this.now();
    for (const [k, v] of this.#links) if (v.expiresAt <= now) this.#links.delete(k);
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
