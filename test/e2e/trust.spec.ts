import { TestAgent } from './lib/world';
import { framesFor } from '../../main/services/qr-files';
import { digits, expect, LANGS, onScreen, pasteText, say, shot, test, withVault } from './lib/ui';

// Trust in each language: the agent's card opened (file dialog in one language, pasted as QR text
// in the other), its code compared (a wrong code keeps "Pin" disabled), pinned; a key replacement notice
// from another key refused, the one signed by the pinned key applied.
for (const lang of LANGS) {
  test(`pin the agent after comparing its code, then a key replacement [${lang}]`, async ({ app, host }) => {
    const agent = new TestAgent(lang === 'en' ? 'Agent prod-eu-1' : '代理 生产-华东-1');
    await withVault(app, host, lang);
    const trust = await onScreen(app, 'trust', 'none');

    if (lang === 'en') {
      await host.openFiles([{ name: 'agent-card.custos', bytes: agent.card }]);
      await trust.getByRole('button', { name: say(lang, 'chooseFile') }).click();
    } else {
      // Pasted as QR text (what a scanner app gives).
      await pasteText(app, framesFor('agent-card', agent.card).join('\n'));
    }
    await onScreen(app, 'trust', 'preview');
    expect(digits(await trust.getByTestId('agent-code').textContent())).toBe(digits(agent.code));
    await shot(app, lang, 'trust-preview');

    const field = trust.getByLabel(say(lang, 'typeCode'));
    const pin = trust.getByRole('button', { name: say(lang, 'pinAgent') });
    const wrong = digits(agent.code).replace(/^./, (d) => String((Number(d) + 1) % 10));
    await field.fill(wrong);
    await expect(trust.getByTestId('code-match')).toHaveAttribute('data-match', 'no');
    await expect(pin).toBeDisabled();
    await shot(app, lang, 'trust-code-mismatch');

    await field.fill(agent.code.replace(/ /g, ''));
    await expect(trust.getByTestId('code-match')).toHaveAttribute('data-match', 'yes');
    await pin.click();
    await onScreen(app, 'trust', 'pinned');
    expect((await host.ok('trust:status', {})).agent?.code).toBe(agent.code);
    await shot(app, lang, 'trust-pinned');

    // A replacement notice signed by some other key changes nothing.
    const stranger = new TestAgent('Not our agent');
    await host.openFiles([{ name: 'rotation.custos', bytes: stranger.rotationTo(new TestAgent('Intruder')) }]);
    await trust.getByTestId('rotation-input').getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await expect(trust.getByTestId('problem')).toBeVisible();
    await shot(app, lang, 'trust-rotation-refused');
    expect((await host.ok('trust:status', {})).agent?.code).toBe(agent.code);

    const next = new TestAgent(lang === 'en' ? 'Agent prod-eu-2' : '代理 生产-华东-2');
    await host.openFiles([{ name: 'rotation.custos', bytes: agent.rotationTo(next) }]);
    await trust.getByTestId('rotation-input').getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await onScreen(app, 'trust', 'rotated');
    await expect(trust.getByTestId('rotated')).toContainText(next.code);
    const status = await host.ok('trust:status', {});
    expect(status.agent?.code).toBe(next.code);
    expect(status.previous.map((p) => p.code)).toEqual([agent.code]);
    await shot(app, lang, 'trust-rotated');
  });
}

// Approvers in each language: the agent pinned with a call-back contact typed on the screen; an
// approver's card opened, a wrong code keeps "Trust" disabled, the right code and their contact pin
// it; a second card under the same name with another key refused; the agent-signed roster pinned
// with the agent's code, its approver without a contact given one in its row, and an older version
// of it refused.
for (const lang of LANGS) {
  test(`pin approvers from their cards and the agent's roster, with call-back contacts [${lang}]`, async ({ app, host }) => {
    const agent = new TestAgent(lang === 'en' ? 'Agent prod-eu-1' : '代理 生产-华东-1');
    await withVault(app, host, lang);
    const trust = await onScreen(app, 'trust', 'none');
    await host.openFiles([{ name: 'agent-card.custos', bytes: agent.card }]);
    await trust.getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await onScreen(app, 'trust', 'preview');
    await trust.getByLabel(say(lang, 'typeCode')).fill(agent.code);
    const ops = lang === 'en' ? { name: 'Li Wei (ops on call)', reach: '+86 21 5555 0100' } : { name: '王芳（值班运维）', reach: '+86 21 5555 0100' };
    const agentContact = trust.getByTestId('agent-contact-fields');
    await agentContact.getByLabel(say(lang, 'contactName')).fill(ops.name);
    await agentContact.getByLabel(say(lang, 'contactReach')).fill(ops.reach);
    await shot(app, lang, 'trust-preview-contact');
    await trust.getByRole('button', { name: say(lang, 'pinAgent') }).click();
    await onScreen(app, 'trust', 'pinned');
    await expect(trust.getByTestId('agent-contact-now')).toHaveText(say(lang, 'recCallBack', ops));
    expect((await host.ok('approvers:list', {})).agentContact).toEqual(ops);

    const approvers = trust.getByTestId('approvers');
    await expect(approvers.getByTestId('approvers-none')).toBeVisible();
    const name = lang === 'en' ? 'Alice Zhang (security)' : '张敏（安全）';
    const alice = agent.approverCard(name);
    await host.openFiles([{ name: 'approver-card.custos', bytes: alice.card }]);
    await approvers.getByTestId('approver-card-input').getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await expect(approvers).toHaveAttribute('data-state', 'preview');
    expect(digits(await approvers.getByTestId('approver-code').textContent())).toBe(digits(alice.code));
    const field = approvers.getByLabel(say(lang, 'typeApproverCode'));
    const pin = approvers.getByRole('button', { name: say(lang, 'pinApprover') });
    await field.fill(digits(alice.code).replace(/^./, (d) => String((Number(d) + 1) % 10)));
    await expect(approvers.getByTestId('approver-code-match')).toHaveAttribute('data-match', 'no');
    await expect(pin).toBeDisabled();
    await field.fill(alice.code);
    const contact = approvers.getByTestId('approver-contact');
    await contact.getByLabel(say(lang, 'contactName')).fill(name);
    await contact.getByLabel(say(lang, 'contactReach')).fill('+86 10 5555 0199');
    await shot(app, lang, 'trust-approver-preview');
    await pin.click();
    await expect(approvers.getByTestId('approver-pinned')).toBeVisible();
    await expect(approvers.getByTestId('approver-list').locator('li')).toHaveCount(1);
    await expect(approvers.getByTestId('approver-list')).toContainText(say(lang, 'recCallBack', { name, reach: '+86 10 5555 0199' }));
    const listed = await host.ok('approvers:list', {});
    expect(listed.approvers.map((a) => [a.name, a.code, a.via])).toEqual([[name, alice.code, 'card']]);

    // The same name with another key: refused, said plainly.
    const forged = new TestAgent('someone else').approverCard(name);
    await host.openFiles([{ name: 'approver-card.custos', bytes: forged.card }]);
    await approvers.getByTestId('approver-card-input').getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await approvers.getByLabel(say(lang, 'typeApproverCode')).fill(forged.code);
    await pin.click();
    await expect(approvers.getByTestId('problem')).toBeVisible();
    await shot(app, lang, 'trust-approver-key-changed');
    expect((await host.ok('approvers:list', {})).approvers).toHaveLength(1);
    await approvers.getByRole('button', { name: say(lang, 'cancel') }).click();

    // The roster: version 2 pinned with the agent's code, version 1 then refused.
    const bob = lang === 'en' ? 'Bob Li (business owner)' : '李博（业务负责人）';
    const roster = approvers.getByTestId('roster');
    await host.openFiles([{ name: 'approver-roster.custos', bytes: agent.roster(2, [name, bob]) }]);
    await roster.getByTestId('roster-input').getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await expect(roster).toHaveAttribute('data-state', 'preview');
    const pinRoster = roster.getByRole('button', { name: say(lang, 'pinRoster') });
    await expect(pinRoster).toBeDisabled();
    await roster.getByLabel(say(lang, 'rosterTypeAgentCode')).fill(agent.code);
    await shot(app, lang, 'trust-roster-preview');
    await pinRoster.click();
    await expect(roster.getByTestId('roster-pinned')).toBeVisible();
    await expect(approvers.getByTestId('approver-list').locator('li')).toHaveCount(2);
    // Issue 12 (H14): the roster pinned Bob without a call-back contact: the screen says so, and his
    // row records one, as a card's preview does.
    await expect(approvers.getByTestId('roster-contact-hint')).toBeVisible();
    const bobRow = approvers.getByTestId('approver-list').locator('li', { hasText: bob });
    await expect(bobRow).toContainText(say(lang, 'contactNone'));
    await bobRow.getByTestId('approver-contact-edit').click();
    const form = bobRow.getByTestId('approver-contact-form');
    const bobContact = lang === 'en' ? { name: 'Bob Li (mobile)', reach: '+86 138 0000 0199' } : { name: '李博（手机）', reach: '+86 138 0000 0199' };
    const save = form.getByRole('button', { name: say(lang, 'saveContact') });
    await form.getByLabel(say(lang, 'contactName')).fill(bobContact.name);
    await expect(save).toBeDisabled();
    await form.getByLabel(say(lang, 'contactReach')).fill(bobContact.reach);
    await shot(app, lang, 'trust-roster-contact-form');
    await save.click();
    await expect(bobRow).toContainText(say(lang, 'recCallBack', bobContact));
    await expect(approvers.getByTestId('roster-contact-hint')).toHaveCount(0);
    const withContacts = await host.ok('approvers:list', {});
    expect(withContacts.approvers.find((a) => a.name === bob)).toMatchObject({ via: 'roster', contact: bobContact });
    await expect(bobRow.getByTestId('approver-contact-edit')).toHaveText(say(lang, 'approverContact_change'));
    await shot(app, lang, 'trust-approvers', { fullPage: true });
    await host.openFiles([{ name: 'approver-roster.custos', bytes: agent.roster(1, [name]) }]);
    await roster.getByTestId('roster-input').getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await roster.getByRole('button', { name: say(lang, 'pinRoster') }).click();
    await expect(roster.getByTestId('problem')).toBeVisible();
    await shot(app, lang, 'trust-roster-rollback');
    expect((await host.ok('approvers:list', {})).roster?.version).toBe(2);
  });
}
