// oidc-provider 9 warns on every import that Node 20 is not its supported runtime (it works; the
// Docker image uses Node 22). The warning is expected here, so it is dropped from test output.
const warn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
  warn(...args);
};
