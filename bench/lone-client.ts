import { performance } from 'node:perf_hooks';
import { connect } from '../sdk/index.js';

/**
 * One SDK client in a process of its own, as a service runs it: started by the sdk bench beside the
 * 1,000 clients that share the bench's process, so that the fan-out table shows what one client
 * sees of a change (the server as loaded by all of them) apart from what running the others on one
 * event loop adds. Prints `ready`, then one JSON line per value of `file` it hears:
 * `{ "value": …, "at": <ms since the epoch> }`, on the clock the bench reads too.
 */
const [zk, service, env, file] = process.argv.slice(2) as [string, string, string, string];
const config = await connect({ zk, service, env, instance: { host: 'bench-lone-client' } });
config.watch(file, (value) => {
  process.stdout.write(`${JSON.stringify({ value, at: performance.timeOrigin + performance.now() })}\n`);
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void config.close().then(() => process.exit(0));
});
