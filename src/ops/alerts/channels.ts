/**
 * The configured alert channels, with their `${VAR}` references resolved here, where the values
 * are used. A channel whose configuration cannot be resolved is reported as failed, not thrown:
 * one broken channel must not silence the others.
 */
import { resolveChecked } from '../../config/env-refs.js';
import type { AlertsConfig } from '../../config/types.js';
import { postJson } from '../http.js';
import { endpointOf, failureReason, type Scrubber } from '../redact.js';
import type { AlertMessage } from './alert-message.js';
import { emailBody, emailSubject, slackPayload, webhookPayload } from './formats.js';

export type ChannelName = 'slack' | 'webhook' | 'email';

export interface AlertChannel {
  readonly name: ChannelName;
  /** Scheme, host and port only: safe to print. */
  readonly endpoint: string;
  send(message: AlertMessage): Promise<void>;
  /** Connects without sending anything, where the protocol allows it (SMTP). */
  verify?(): Promise<void>;
}

export interface ChannelProblem {
  readonly name: ChannelName;
  readonly reason: string;
}

export interface ChannelSetup {
  readonly channels: readonly AlertChannel[];
  /** Channels that are configured but cannot be used (an unset variable, say). */
  readonly problems: readonly ChannelProblem[];
}

export interface ChannelOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly scrubber: Scrubber;
  readonly timeoutMs: number;
}

export function alertChannels(alerts: AlertsConfig, options: ChannelOptions): ChannelSetup {
  const channels: AlertChannel[] = [];
  const problems: ChannelProblem[] = [];
  const { env, scrubber, timeoutMs } = options;
  const attempt = (name: ChannelName, build: () => AlertChannel): void => {
    try {
      channels.push(build());
    } catch (error) {
      problems.push({ name, reason: failureReason(error, scrubber) });
    }
  };

  const slackUrl = alerts.slack.webhookUrl;
  if (slackUrl !== null) {
    attempt('slack', () => {
      const url = resolveChecked(slackUrl, 'alerts.slack.webhookUrl', env);
      scrubber.add(url);
      return {
        name: 'slack',
        endpoint: endpointOf(url),
        send: (message) => postJson(url, slackPayload(message), timeoutMs),
      };
    });
  }

  const webhookUrl = alerts.webhook.url;
  if (webhookUrl !== null) {
    attempt('webhook', () => {
      const url = resolveChecked(webhookUrl, 'alerts.webhook.url', env);
      scrubber.add(url);
      return {
        name: 'webhook',
        endpoint: endpointOf(url),
        send: (message) => postJson(url, webhookPayload(message), timeoutMs),
      };
    });
  }

  const { email } = alerts;
  const smtpRef = email.smtpUrl;
  if (smtpRef !== null) {
    attempt('email', () => {
      const smtpUrl = resolveChecked(smtpRef, 'alerts.email.smtpUrl', env);
      scrubber.add(smtpUrl);
      const from = resolveChecked(email.from ?? '', 'alerts.email.from', env);
      const to = email.to.map((ref, i) => resolveChecked(ref, `alerts.email.to[${i}]`, env));
      // Loaded only to send: most runs send no e-mail, and loading it costs 40 ms of start-up.
      const transport = async () =>
        (await import('nodemailer')).createTransport({
          url: smtpUrl,
          connectionTimeout: timeoutMs,
          greetingTimeout: timeoutMs,
          socketTimeout: timeoutMs,
          logger: false,
        });
      return {
        name: 'email',
        endpoint: endpointOf(smtpUrl),
        async send(message) {
          const transporter = await transport();
          try {
            await transporter.sendMail({
              from,
              to: [...to],
              subject: emailSubject(message),
              text: emailBody(message),
            });
          } finally {
            transporter.close();
          }
        },
        async verify() {
          const transporter = await transport();
          try {
            await transporter.verify();
          } finally {
            transporter.close();
          }
        },
      };
    });
  }
  return { channels, problems };
}

export type Delivery = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Sends to every channel at once; never throws. One entry per configured channel. */
export async function deliver(
  message: AlertMessage,
  setup: ChannelSetup,
  scrubber: Scrubber,
): Promise<Map<ChannelName, Delivery>> {
  const out = new Map<ChannelName, Delivery>();
  for (const problem of setup.problems)
    out.set(problem.name, { ok: false, reason: problem.reason });
  const settled = await Promise.allSettled(setup.channels.map((channel) => channel.send(message)));
  for (const [i, channel] of setup.channels.entries()) {
    const outcome = settled[i];
    out.set(
      channel.name,
      outcome === undefined || outcome.status === 'fulfilled'
        ? { ok: true }
        : { ok: false, reason: failureReason(outcome.reason, scrubber) },
    );
  }
  return out;
}
