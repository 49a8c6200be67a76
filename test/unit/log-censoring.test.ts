import { describe, expect, it } from '@jest/globals';
import { createLogger, CENSORED } from '../../src/logging/logger.js';

/** Log lines as the logger writes them (any: parsed JSON whose fields the assertions read freely). */
function capture(): { lines: () => Array<Record<string, any>>; logger: ReturnType<typeof createLogger> } {
  const out: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void out.push(line) } });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, any>) };
}

const SECRET_KEYS = ['password', 'secret', 'client_secret', 'clientSecret', 'bindPassword', 'token', 'access_token', 'refresh_token', 'id_token', 'code', 'privateKey', 'masterKey'];

describe('secrets never reach the log', () => {
  it('censors secret keys at the top level and one level down', () => {
    const { logger, lines } = capture();
    for (const key of SECRET_KEYS) {
      logger.info({ [key]: 'hunter2', body: { [key]: 'hunter2', keep: 'visible' } }, 'line');
    }
    for (const line of lines()) {
      expect(JSON.stringify(line)).not.toContain('hunter2');
      expect(line.body.keep).toBe('visible');
    }
    expect(lines()[0]).toMatchObject({ password: CENSORED, body: { password: CENSORED } });
  });

  it('censors authorization and cookie headers, at the top level and one level down, whatever their case', () => {
    const { logger, lines } = capture();
    logger.info({ headers: { Authorization: 'Basic c2VjcmV0', cookie: 'sid=1', 'set-cookie': 'sid=2', accept: 'text/html' } }, 'a');
    logger.info({ req: { headers: { authorization: 'Bearer abc', 'user-agent': 'curl' } } }, 'b');
    const [a, b] = lines();
    expect(a!.headers).toEqual({ Authorization: CENSORED, cookie: CENSORED, 'set-cookie': CENSORED, accept: 'text/html' });
    expect(b!.req.headers).toEqual({ authorization: CENSORED, 'user-agent': 'curl' });
  });

  it('censors child bindings, leaves the logged object itself untouched and errors serialised', () => {
    const { logger, lines } = capture();
    const object = { password: 'hunter2', err: new Error('boom') };
    logger.child({ token: 'abc', requestId: 'r1' }).error(object, 'failed');
    expect(object.password).toBe('hunter2');
    const [line] = lines();
    expect(line).toMatchObject({ token: CENSORED, requestId: 'r1', password: CENSORED, err: { message: 'boom', type: 'Error' } });
  });
});
