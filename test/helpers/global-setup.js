// Runs once before all test files: a place for the test output folder (screenshots, logs).
import { mkdirSync } from 'node:fs';

export default async function globalSetup() {
  mkdirSync(new URL('../../test-output/', import.meta.url), { recursive: true });
}
