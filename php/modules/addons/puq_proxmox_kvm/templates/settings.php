<?php
/** Settings: General and Cron. Values load from and save to the `settings` actions. */
if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}
$numbers = [
    'General' => [
        ['default_timeout', 'Default Timeout (seconds)', 1, 300, 'Proxmox API requests from admin and client pages. 1-300, default 10.'],
        ['heavy_timeout', 'Heavy Operations Timeout (seconds)', 1, 600, 'Cron operations: deploy, clone, terminate, change package. 1-600, default 60.'],
        ['migration_timeout', 'Migration Timeout (seconds)', 1, 3600, 'How long one cron run waits for a post-clone migration; it resumes on the next run. Default 300.'],
    ],
    'Cron' => [
        ['cron_lock_timeout', 'Lock Timeout (seconds)', 60, 86400, 'A cron lock older than this is stale and taken over. Default 600.'],
        ['cron_time_budget', 'Time Budget per Run (seconds)', 10, 3600, 'How long one Process Virtual Machines run may start new steps; a VM continues on the next run. Default 50.'],
        ['cron_max_steps', 'Steps per VM per Run', 0, 100, '0: as many as the time budget allows (a VM is ready in one run when Proxmox is quick); 1: one step per run. Default 0.'],
        ['cron_node_concurrency', 'VMs at Once per Node', 1, 64, 'VMs worked on at the same time on one Proxmox node, so a slow node does not hold up the others. Default 4.'],
    ],
];
$switches = [
    ['migration_enabled', 'Enable post-clone migration', 'Move a VM cloned on the template\'s node to its target node and storage.'],
    ['delete_tables_on_deactivate', 'Delete all database tables when the module is deactivated', 'Off keeps every table for a safe update (deactivate, replace the files, activate).'],
];
?>
<form class="puq-settings form-horizontal" data-action="save_settings" novalidate>
  <div class="alert alert-success puq-saved hidden">Settings saved.</div>
  <div class="alert alert-danger puq-error hidden" role="alert"></div>
  <h3>General</h3>
  <?php foreach ($numbers['General'] as [$name, $label, $min, $max, $hint]): ?>
    <div class="form-group" data-field="<?= puq_e($name) ?>">
      <label class="col-sm-3 control-label" for="puq-<?= puq_e($name) ?>"><?= puq_e($label) ?></label>
      <div class="col-sm-3"><input class="form-control" type="number" id="puq-<?= puq_e($name) ?>" name="<?= puq_e($name) ?>" min="<?= $min ?>" max="<?= $max ?>"></div>
      <div class="col-sm-6"><span class="help-block"><?= puq_e($hint) ?></span><span class="help-block puq-field-error"></span></div>
    </div>
  <?php endforeach; ?>
  <div class="form-group" data-field="dns_endpoint_allow">
    <label class="col-sm-3 control-label" for="puq-dns_endpoint_allow">DNS endpoint allow-list</label>
    <div class="col-sm-3"><input class="form-control" type="text" id="puq-dns_endpoint_allow" name="dns_endpoint_allow" placeholder="192.0.2.10, 198.51.100.0/24"></div>
    <div class="col-sm-6"><span class="help-block">Addresses or networks allowed to read the legacy <code>modules/servers/puqProxmoxKVM/lib/dns/dns.php</code> list, comma separated. Empty: nobody.</span><span class="help-block puq-field-error"></span></div>
  </div>
  <?php foreach ($switches as [$name, $label, $hint]): ?>
    <div class="form-group" data-field="<?= puq_e($name) ?>">
      <div class="col-sm-offset-3 col-sm-9">
        <div class="checkbox"><label><input type="checkbox" name="<?= puq_e($name) ?>" value="1"> <?= puq_e($label) ?></label></div>
        <span class="help-block"><?= puq_e($hint) ?></span><span class="help-block puq-field-error"></span>
      </div>
    </div>
  <?php endforeach; ?>
  <h3>Cron</h3>
  <div class="form-group" data-field="cron_mode">
    <label class="col-sm-3 control-label" for="puq-cron_mode">Cron Mode</label>
    <div class="col-sm-3">
      <select class="form-control" id="puq-cron_mode" name="cron_mode">
        <option value="hook">WHMCS Hook</option>
        <option value="standalone">Standalone cron file</option>
      </select>
    </div>
    <div class="col-sm-6"><span class="help-block">WHMCS Hook runs with WHMCS's own cron; Standalone runs <code>php modules/addons/puq_proxmox_kvm/cron.php</code> from the system crontab every minute.</span><span class="help-block puq-field-error"></span></div>
  </div>
  <?php foreach ($numbers['Cron'] as [$name, $label, $min, $max, $hint]): ?>
    <div class="form-group" data-field="<?= puq_e($name) ?>">
      <label class="col-sm-3 control-label" for="puq-<?= puq_e($name) ?>"><?= puq_e($label) ?></label>
      <div class="col-sm-3"><input class="form-control" type="number" id="puq-<?= puq_e($name) ?>" name="<?= puq_e($name) ?>" min="<?= $min ?>" max="<?= $max ?>"></div>
      <div class="col-sm-6"><span class="help-block"><?= puq_e($hint) ?></span><span class="help-block puq-field-error"></span></div>
    </div>
  <?php endforeach; ?>
  <div class="form-group puq-crontab" data-mode="standalone">
    <div class="col-sm-offset-3 col-sm-9">
      <div class="alert alert-info">
        <strong>Crontab Setup</strong>: add this line to the system crontab of the user that runs WHMCS (crontab -e):<br>
        <code class="puq-crontab-line">* * * * * php <?= puq_e(ROOTDIR . '/modules/addons/puq_proxmox_kvm/cron.php') ?> &gt; /dev/null 2&gt;&amp;1</code><br>
        CLI: <code>php cron.php --help</code> for all options, <code>--task=processVirtualMachines</code> to run one task, <code>--list</code> for the status.
      </div>
    </div>
  </div>
  <h4>Task Intervals</h4>
  <table class="table table-condensed puq-tasks" data-source="cron_tasks">
    <thead><tr><th>Task</th><th style="width: 160px">Interval (min)</th><th>Last Run (UTC)</th><th>Status</th><th>Result</th></tr></thead>
    <tbody></tbody>
  </table>
  <p class="text-muted">An interval of 0 disables a task.</p>
  <div class="form-group">
    <div class="col-sm-offset-3 col-sm-9"><button type="submit" class="btn btn-primary">Save</button></div>
  </div>
</form>
