import type { z } from 'zod';

/** One readable line per problem: `field.path: what is wrong`. */
export function zodProblems(prefix: string, error: z.ZodError, sourceOf?: (key: string) => string | undefined): string[] {
  return error.issues.map((issue) => {
    const key = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return `${key ? `${key}: ` : ''}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    const message = issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'is required' : issue.message;
    const source = sourceOf?.(key);
    return `${key ? `${key}: ` : ''}${message}${source ? ` (from ${source})` : ''}`;
  });
}

export function formatZodError(prefix: string, error: z.ZodError): string {
  return zodProblems(prefix, error).join('; ');
}
