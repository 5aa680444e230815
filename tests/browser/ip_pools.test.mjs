// The IP Pools page: add a pool in the dialog, see it listed with its reverse zone and an empty usage
// bar, allocate addresses through the PHP API, reload and see the bar move, get the server's
// validation message next to the field, and see a delete refused while addresses are assigned.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { launchBrowser, repoRoot, screenshot, startHarness, waitForText } from './lib.mjs';

const run = promisify(execFile);

/** Allocates the service's addresses with PuqProxmoxKvm\IpPools::allocate() in a PHP CLI process. */
async function allocate(db, serviceId) {
  const extension = process.env.PUQ_EXTENSION || path.join(repoRoot, 'target/release/libpuq_proxmox_kvm.so');
  assert.ok(existsSync(extension), `the extension is built: ${extension}`);
  const code = `$m = PuqProxmoxKvm\\Module::connect(['host' => '127.0.0.1', 'port' => 3306, 'user' => 'root', 'password' => '', 'database' => $argv[1]]);
    echo json_encode($m->ipPools()->allocate((int) $argv[2]));`;
  const { stdout } = await run(process.env.PHP || 'php', ['-d', `extension=${extension}`, '-r', code, db, String(serviceId)]);
  return JSON.parse(stdout);
}

test('ip pools: add, list with zone and usage, validation next to the field, delete refused while in use', async (t) => {
  const whmcs = await startHarness('ip_pools');
  t.after(() => whmcs.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => dialog.accept());
  const url = `${whmcs.baseUrl}/admin/addonmodules.php?module=puq_proxmox_kvm&page=ip_pools`;

  await page.goto(url);
  await page.locator('.puq-pool-table tr.puq-empty').waitFor();

  // Add a pool through the dialog.
  await page.getByRole('button', { name: '+ Add IP Pool' }).click();
  const modal = page.locator('#puq-pool-modal');
  await modal.waitFor({ state: 'visible' });
  await modal.locator('[name="server_id"] option', { hasText: 'pve-waw1' }).waitFor({ state: 'attached' });
  await modal.locator('[name="server_id"]').selectOption({ label: 'pve-waw1 (pve-waw1.example.net)' });
  await modal.locator('[name="type"]').selectOption('IPv4');
  const values = {
    bridge: 'vmbr0', vlan: '0', gateway: '192.168.130.1', mask: '24', dns1: '8.8.8.8', dns2: '1.1.1.1',
    address_start: '192.168.130.2', address_stop: '192.168.130.254',
  };
  for (const [name, value] of Object.entries(values)) {
    await modal.locator(`[name="${name}"]`).fill(value);
  }
  await modal.getByRole('button', { name: 'Save' }).click();
  await modal.waitFor({ state: 'hidden' });

  const row = page.locator('.puq-pool-table tr[data-pool-id]');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  const cells = (await row.locator('> td').allTextContents()).map((c) => c.replace(/\s+/g, ' ').trim());
  assert.deepEqual(cells.slice(1, 7), ['pve-waw1', 'IPv4', 'vmbr0', '0', '192.168.130.1', '/24']);
  assert.equal(await row.locator('.puq-rdns-zone').textContent(), '130.168.192.in-addr.arpa');
  assert.match(cells[7], /192\.168\.130\.2 - 192\.168\.130\.254/);
  assert.match(cells[7], /253 addresses/);
  const bar = row.locator('.progress-bar');
  assert.equal(await bar.getAttribute('data-used'), '0');
  assert.equal(await bar.evaluate((el) => el.style.width), '0%');

  // Allocate through the API, reload: the bar moves.
  const addresses = await allocate(whmcs.db, whmcs.facts.service);
  assert.deepEqual(addresses.map((a) => a.address), ['192.168.130.2', '192.168.130.3']);
  await page.reload();
  await waitForText(page.locator('.puq-usage-text'), '2 / 253 used (0.79%)');
  assert.equal(await page.locator('.progress-bar').getAttribute('data-used'), '2');
  assert.equal(await page.locator('.progress-bar').evaluate((el) => el.style.width), '1%');

  // An invalid gateway: the server's message appears next to the field, nothing is saved.
  await page.locator('.puq-edit-pool').click();
  await modal.waitFor({ state: 'visible' });
  await waitForText(modal.locator('.modal-title'), 'Edit IP Pool #' + (await row.getAttribute('data-pool-id')));
  await modal.locator('[name="gateway"]').fill('192.168.130.300');
  await modal.getByRole('button', { name: 'Save' }).click();
  const gatewayGroup = modal.locator('[data-field="gateway"]');
  await gatewayGroup.locator('.puq-field-error').filter({ hasText: 'not an IPv4 or IPv6 address' }).waitFor();
  assert.match(await gatewayGroup.getAttribute('class'), /has-error/);
  assert.equal(await modal.locator('[data-field="bridge"] .puq-field-error').textContent(), '');
  await modal.getByRole('button', { name: 'Cancel' }).click();
  await modal.waitFor({ state: 'hidden' });

  // Delete is refused while addresses are assigned, naming how many and which service.
  await page.locator('.puq-delete-pool').click();
  const error = page.locator('.puq-ip-pools > .puq-error');
  await error.filter({ hasText: 'still has 2 address(es)' }).waitFor();
  assert.match(await error.textContent(), new RegExp(`#${whmcs.facts.service}\\b`));
  assert.equal(await page.locator('.puq-pool-table tr[data-pool-id]').count(), 1);
  await screenshot(page, 'ip_pools.png');

  // Every change needs the CSRF token: a POST without it is refused before the module sees it.
  const forged = await page.evaluate(async (link) => {
    const response = await fetch(`${link}&action=create_ip_pool`, {
      method: 'POST',
      body: new URLSearchParams({ server_id: '1', type: 'IPv4', bridge: 'vmbr0', vlan: '0', gateway: '10.0.0.1', mask: '24', address_start: '10.0.0.2', address_stop: '10.0.0.9' }),
    });
    return [response.status, await response.text()];
  }, await page.locator('#puq-kvm').getAttribute('data-link'));
  assert.deepEqual(forged, [403, 'Invalid CSRF Protection Token']);
  await page.reload();
  await page.locator('.puq-pool-table tr[data-pool-id]').first().waitFor();
  assert.equal(await page.locator('.puq-pool-table tr[data-pool-id]').count(), 1, 'nothing was created');

  // The Dashboard counts the pool.
  await page.goto(`${whmcs.baseUrl}/admin/addonmodules.php?module=puq_proxmox_kvm`);
  await waitForText(page.locator('[data-card="ip_pools"] .puq-count'), '1');

  assert.deepEqual(pageErrors, [], 'no script errors');
});
