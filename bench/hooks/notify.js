// bench/plugins.sh: the JavaScript twin of examples/hooks/rust-notify (one summary line, same
// wording), so that the benchmark compares languages doing the same work.

import { hook, log, HookFailed } from 'wharf-plugin';

export const run = hook((ctx) => {
  if (!ctx.version) throw new HookFailed('KAMAL_VERSION is not set');
  let line = `${ctx.service ?? 'the service'} ${ctx.version} deployed`;
  if (ctx.performer) line += ` by ${ctx.performer}`;
  if (ctx.destination) line += ` to ${ctx.destination}`;
  if (ctx.hosts.length) line += ` on ${ctx.hosts.join(', ')}`;
  if (ctx.runtime) line += ` in ${ctx.runtime}s`;
  log.info(line);
});
