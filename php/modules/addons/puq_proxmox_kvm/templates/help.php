<?php
/** Help: where to look when something needs attention. */
if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}
?>
<div class="panel panel-default">
  <div class="panel-body">
    <h4>PUQ Proxmox KVM</h4>
    <ul>
      <li>Installation, the PHP extension and the cron line: see the module's README, "Install into WHMCS".</li>
      <li>Errors of the module are written to <strong>Utilities &rarr; Logs &rarr; Module Log</strong> (enable module logging there).</li>
      <li>Build: <code><?= puq_e(\PuqProxmoxKvm\Module::version()) ?></code>, PHP API <code><?= puq_e(\PuqProxmoxKvm\Module::buildInfo()['php_api']) ?></code>.</li>
    </ul>
  </div>
</div>
