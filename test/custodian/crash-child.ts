// Child process for crash.test.ts: opens the vault and saves in a loop until it is killed. Each
// save adds one audit entry naming the generation it writes, so the parent can check that whatever
// generation it finds on disk is complete and consistent. Prints "ready G", then "saving" before
// and "saved G" after every save, so the parent can aim its kill inside a save. Every third save is
// followed by a compaction (a new snapshot, older files pruned), so kills land inside those too.
import { Vault } from '../../main/services/vault';

const [dir, passphrase] = process.argv.slice(2);
if (dir === undefined || passphrase === undefined) throw new Error('usage: crash-child DIR PASSPHRASE');
const v = await Vault.open(dir);
await v.unlock(passphrase);
process.stdout.write(`ready ${String(v.state.generation)}\n`);
for (;;) {
  process.stdout.write('saving\n');
  await v.update((tx) => {
    tx.audit({ event: 'settings', result: 'ok', detail: `save ${String(tx.state.generation + 1)}` });
  });
  process.stdout.write(`saved ${String(v.state.generation)}\n`);
  if (v.state.generation % 3 === 0) await v.compact();
}
