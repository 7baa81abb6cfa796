// Child process for rotate-crash.test.ts: rotates the KEK of DIR to the key file TARGET (or
// resumes an interrupted rotation with TARGET "resume") and prints each step: "prepared N", then
// "object I" after each object is under the new KEK, then "finished". The parent SIGKILLs it
// after a chosen line (plus a random delay), so kills land before, between and inside the writes.
import { rotateKek } from '../../agent/kek/rotate';

const [dir, target] = process.argv.slice(2);
if (dir === undefined || target === undefined) throw new Error('usage: rotate-crash-child DIR TARGET|resume');
process.stdout.write('started\n');
await rotateKek(dir, target === 'resume' ? 'resume' : { provider: 'file', path: target }, {
  operator: 'crash-test',
  onProgress: (p) => {
    if (p.phase === 'prepared') process.stdout.write(`prepared ${String(p.total)}\n`);
    else if (p.phase === 'object') process.stdout.write(`object ${String(p.done)}\n`);
    else process.stdout.write('finished\n');
  },
});
process.stdout.write('exited\n');
