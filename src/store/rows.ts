/** Helpers shared by the repositories for mapping rows. */

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** PostgreSQL returns int8 as a string unless told otherwise; this keeps both stores on numbers. */
export function toNumber(value: number | string | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(value);
}

export function toOptionalNumber(value: number | string | bigint | null | undefined): number | undefined {
  return value === null || value === undefined ? undefined : toNumber(value);
}
