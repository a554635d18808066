/**
 * One HTTP request with a deadline, for webhooks and the Pushgateway health check. `fetch`
 * refuses URLs with user info, so credentials in the URL become a Basic authorization header.
 */
import { DeliveryError } from './redact.js';

export interface HttpOptions {
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly contentType?: string;
  readonly timeoutMs: number;
}

export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

export async function httpRequest(url: string, options: HttpOptions): Promise<HttpReply> {
  const target = new URL(url);
  const headers: Record<string, string> = { 'user-agent': 'stopword-refresh' };
  if (target.username !== '' || target.password !== '') {
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  const response = await fetch(target, {
    method: options.method,
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
    signal: AbortSignal.timeout(options.timeoutMs),
    redirect: 'error',
  });
  const body = await response.text();
  return { status: response.status, body };
}

/** POSTs JSON and fails unless the receiver answers 2xx. */
export async function postJson(url: string, payload: unknown, timeoutMs: number): Promise<void> {
  const reply = await httpRequest(url, {
    method: 'POST',
    body: JSON.stringify(payload),
    contentType: 'application/json',
    timeoutMs,
  });
  if (reply.status < 200 || reply.status >= 300) {
    // Slack answers with short codes such as `invalid_payload`; anything longer stays out.
    const hint = /^[\w .:-]{1,80}$/.test(reply.body.trim()) ? `: ${reply.body.trim()}` : '';
    throw new DeliveryError(`HTTP ${reply.status}${hint}`);
  }
}
