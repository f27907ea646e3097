// A post-deploy hook in JavaScript: logs a summary of the deploy (service, version, who, where,
// how long) and the commit deployed, read with `git rev-parse HEAD` (an allow-listed program the
// user grants; without the grant the hook says why and goes on).
//
// Build: node sdk/js/build.mjs examples/hooks/js-notify/notify.js -o examples/hooks/js-notify/js-notify.wasm

import { exec, hook, log, HookFailed, ProcessError } from 'wharf-plugin';

function commit() {
  try {
    return exec('git', ['rev-parse', 'HEAD']).stdout.trim();
  } catch (e) {
    if (!(e instanceof ProcessError)) throw e;
    log.warn(`no commit in the summary: ${e.message}`);
    return undefined;
  }
}

export const run = hook((ctx) => {
  if (!ctx.version) throw new HookFailed('KAMAL_VERSION is not set');
  let line = `${ctx.service ?? 'the service'} ${ctx.version} deployed`;
  if (ctx.performer) line += ` by ${ctx.performer}`;
  if (ctx.destination) line += ` to ${ctx.destination}`;
  if (ctx.hosts.length) line += ` on ${ctx.hosts.join(', ')}`;
  if (ctx.runtime) line += ` in ${ctx.runtime}s`;
  const sha = commit();
  if (sha) line += ` (commit ${sha.slice(0, 12)})`;
  log.info(line);
});
