import { isGatehouseError } from '../errors/gatehouse-error.js';
import { ConfigError } from '../config/load-config.js';

/** How a command prints: JSON for machines (--json), aligned text for people. */
export interface Output {
  json: boolean;
  /** Prints the result: `value` as JSON, or the text `human` renders. */
  result(value: unknown, human: () => string): void;
  /** Progress and notes for people; silent in --json mode so stdout stays parseable. */
  note(text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
    },
    note(text) {
      if (!json) process.stderr.write(`${text}\n`);
    },
  };
}

/** A table with a header row; columns padded to their widest cell. */
export function table(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Usage and validation mistakes exit with 2, failed operations with 1. */
export class CliUsageError extends Error {}

export function reportError(error: unknown, json: boolean): number {
  let code = 'error';
  let message = error instanceof Error ? error.message : String(error);
  let exit = 1;
  if (error instanceof ConfigError) {
    code = 'config.invalid';
    exit = 2;
  } else if (error instanceof CliUsageError) {
    code = 'usage';
    exit = 2;
  } else if (isGatehouseError(error)) {
    code = error.code;
    if (!error.expose) message = `${message} (internal error)`;
    if (error.status === 400 || error.status === 422) exit = 2;
  }
  if (json) process.stdout.write(`${JSON.stringify({ error: code, message })}\n`);
  else process.stderr.write(`gatehouse: ${message}\n`);
  return exit;
}
