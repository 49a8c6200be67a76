import { createInterface } from 'node:readline';
import { CliUsageError } from './output.js';

/**
 * A password from standard input: the first line when stdin is a pipe, or typed at a prompt
 * without echo when it is a terminal.
 */
export async function readPassword(prompt = 'Password: '): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let data = '';
    for await (const chunk of stdin) data += chunk;
    const line = data.split(/\r?\n/)[0] ?? '';
    if (!line) throw new CliUsageError('no password on standard input');
    return line;
  }
  process.stderr.write(prompt);
  const rl = createInterface({ input: stdin, terminal: true });
  // Swallow the echo of typed characters.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}
