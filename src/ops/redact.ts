/**
 * Keeping secrets out of logs, alerts and `check` output. Webhook URLs carry their token in the
 * path, SMTP and Pushgateway URLs may carry a password: only scheme, host and port are ever shown.
 */

/** `https://hooks.slack.com/services/T/B/x` → `https://hooks.slack.com`. */
export function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    return scheme === undefined ? '<unparseable URL>' : `${scheme}://<unparseable>`;
  }
}

/** The parts of a secret value that must not appear in any text we emit. */
export function secretPartsOf(value: string): string[] {
  const parts = new Set<string>([value]);
  try {
    const parsed = new URL(value);
    for (const part of [parsed.password, parsed.username]) {
      if (part !== '') {
        parts.add(part);
        parts.add(safeDecode(part));
      }
    }
    const tail = `${parsed.pathname}${parsed.search}`;
    // A path such as `/0` (a Redis database) is no secret, and scrubbing it would mangle text.
    if (tail.length >= 8) parts.add(tail);
    if (parsed.search.length >= 8) parts.add(parsed.search);
  } catch {
    // Not a URL: the whole value is the secret.
  }
  return [...parts].filter((part) => part.length >= 4);
}

/** Replaces every occurrence of the given secrets (longest first) by `[redacted]`. */
export class Scrubber {
  private readonly secrets: string[] = [];

  add(value: string | null | undefined): this {
    if (value === null || value === undefined || value === '') return this;
    for (const part of secretPartsOf(value))
      if (!this.secrets.includes(part)) this.secrets.push(part);
    this.secrets.sort((a, b) => b.length - a.length);
    return this;
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.replaceAll(secret, '[redacted]');
    // Whatever URL is left (one we were not told about) loses its user info, path and query.
    return out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/'"<>]*@/gi, '$1[redacted]@');
  }
}

/**
 * A short reason for a failed delivery, built from error codes rather than messages where
 * possible: client libraries like to quote the URL they could not reach.
 */
export function failureReason(error: unknown, scrubber: Scrubber): string {
  if (error instanceof DeliveryError) return scrubber.scrub(error.message);
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current instanceof Error; depth++) {
    const { code, responseCode } = current as { code?: unknown; responseCode?: unknown };
    if (typeof code === 'string' && !parts.includes(code)) parts.push(code);
    if (typeof responseCode === 'number') parts.push(`SMTP ${responseCode}`);
    if (current.name === 'TimeoutError' || current.name === 'AbortError') parts.push('timed out');
    current = current.cause;
  }
  if (parts.length > 0) return parts.join(', ');
  const message = error instanceof Error ? error.message : String(error);
  return scrubber.scrub(message.split('\n')[0] ?? message).slice(0, 200);
}

/** A failure whose message we wrote ourselves and know to be safe. */
export class DeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryError';
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
