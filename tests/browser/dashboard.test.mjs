// The addon's dashboard (puq_proxmox_kvm_output, no action) in the admin shell.
//
// Markup contract with the addon:
//   - its navigation is a Bootstrap `.nav` (or a <nav>) inside #contentarea, one link per section:
//     Home, IP Pools, DNS Zones, VM Management, Settings, Help;
//   - each dashboard card carries data-card="<name>" (kvm_services, ip_pools, dns_zones, ...), and a
//     card that counts shows the number in a `.puq-count` element (it may be filled in by a JSON action).

import test from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot, startHarness, waitForText } from './lib.mjs';

const NAVIGATION = ['Home', 'IP Pools', 'DNS Zones', 'VM Management', 'Settings', 'Help'];

test('dashboard: navigation, and the KVM service count from the database', async (t) => {
  const whmcs = await startHarness('dashboard');
  t.after(() => whmcs.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('requestfailed', (request) => pageErrors.push(`request failed: ${request.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()}: ${r.url()}`); });

  const response = await page.goto(`${whmcs.baseUrl}/admin/addonmodules.php?module=puq_proxmox_kvm`);
  assert.equal(response.status(), 200, await response.text());
  assert.equal(await page.locator('#whmcs-topbar .navbar-brand').textContent(), 'WHMCS Admin');

  const navigation = (await page.locator('#contentarea nav a, #contentarea .nav a').allTextContents())
    .map((text) => text.replace(/\s+/g, ' ').trim());
  for (const section of NAVIGATION) {
    assert.ok(navigation.includes(section), `navigation has ${section}: ${JSON.stringify(navigation)}`);
  }

  await waitForText(page.locator('[data-card="kvm_services"] .puq-count'), String(whmcs.facts.activeKvmServices));
  assert.equal(await page.locator('[data-card="ip_pools"]').count(), 1);
  assert.equal(await page.locator('[data-card="dns_zones"]').count(), 1);

  await screenshot(page, 'dashboard.png');
  assert.deepEqual(pageErrors, [], 'no script errors or failed requests');
});
