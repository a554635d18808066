/**
 * The same alert as a Slack message, a generic JSON document and an e-mail.
 */
import type { AlertMessage, Severity } from './alert-message.js';

const SLACK_SECTION_MAX = 2900;

const ICON: Record<Severity, string> = {
  critical: ':rotating_light:',
  warning: ':warning:',
  info: ':white_check_mark:',
};

/** Slack incoming-webhook payload: `text` is the notification fallback, blocks the body. */
export function slackPayload(message: AlertMessage): Record<string, unknown> {
  const body = message.lines.map(slackEscape).join('\n');
  return {
    text: message.title,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `${ICON[message.severity]} *${slackEscape(message.title)}*` },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: body.length > SLACK_SECTION_MAX ? `${body.slice(0, SLACK_SECTION_MAX)}…` : body,
        },
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Runbook: ${slackEscape(message.runbook)}` }],
      },
    ],
  };
}

/** The generic webhook receives everything as one JSON document. */
export function webhookPayload(message: AlertMessage): Record<string, unknown> {
  return {
    source: 'stopword-refresh',
    event: message.event,
    severity: message.severity,
    host: message.host,
    at: message.at,
    title: message.title,
    text: message.lines.join('\n'),
    runbook: message.runbook,
    result: message.result,
  };
}

export function emailSubject(message: AlertMessage): string {
  return `[stopword-refresh] [${message.severity}] ${message.title}`;
}

export function emailBody(message: AlertMessage): string {
  return [
    message.title,
    '',
    ...message.lines,
    '',
    `Runbook: ${message.runbook}`,
    `Host: ${message.host}`,
    `Raised at: ${message.at}`,
    '',
  ].join('\n');
}

function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
