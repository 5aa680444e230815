<?php
/** Dashboard: live counts from the `dashboard` action, and links to the main sections. */
if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}
$cards = [
    'ip_pools' => ['IP Pools', 'Configured IPv4 and IPv6 address pools', 'ip_pools'],
    'dns_zones' => ['DNS Zones', 'Configured forward and reverse DNS zones', 'dns_zones'],
    'kvm_services' => ['KVM Services', 'Active services of Proxmox KVM products', 'vm_management'],
];
?>
<div class="row puq-cards" data-source="dashboard">
  <?php foreach ($cards as $key => [$title, $hint, $target]): ?>
    <div class="col-sm-4">
      <div class="panel panel-default puq-card" data-card="<?= puq_e($key) ?>">
        <div class="panel-body">
          <div class="puq-count" data-field="<?= puq_e($key) ?>">&hellip;</div>
          <div class="puq-card-title"><a href="<?= puq_e($view['link'] . '&page=' . $target) ?>"><?= puq_e($title) ?></a></div>
          <div class="puq-card-hint text-muted"><?= puq_e($hint) ?></div>
        </div>
      </div>
    </div>
  <?php endforeach; ?>
</div>
<div class="row puq-cards">
  <div class="col-sm-6">
    <div class="panel panel-default puq-card" data-card="vm_management">
      <div class="panel-body">
        <div class="puq-card-title"><a href="<?= puq_e($view['link'] . '&page=vm_management') ?>">VM Management</a></div>
        <div class="text-muted">Every VM across your Proxmox servers: state, addresses, deploy logs and actions.</div>
      </div>
    </div>
  </div>
  <div class="col-sm-6">
    <div class="panel panel-default puq-card" data-card="settings">
      <div class="panel-body">
        <div class="puq-card-title"><a href="<?= puq_e($view['link'] . '&page=settings') ?>">Settings</a></div>
        <div class="text-muted">API timeouts, post-clone migration, cron mode and task intervals.</div>
      </div>
    </div>
  </div>
</div>
<div class="alert alert-danger puq-error hidden" role="alert"></div>
