<?php
/**
 * IP Pools: the pools of every Proxmox server with their usage and reverse zone, and the Add / Edit
 * dialog. Rows come from the `ip_pools` action; changes go through POST actions with the CSRF token.
 */
if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}
$fields = [
    'server_id' => ['Server', 'select', 'The Proxmox server whose VMs use these addresses'],
    'type' => ['Type', 'select', ''],
    'bridge' => ['Bridge', 'text', 'Network bridge, e.g. vmbr0'],
    'vlan' => ['Vlan', 'number', 'VLAN tag, 0 for untagged'],
    'gateway' => ['Gateway', 'text', 'e.g. 192.168.130.1'],
    'mask' => ['Mask', 'number', 'Prefix length: 1-32 for IPv4, 1-128 for IPv6'],
    'dns1' => ['DNS 1', 'text', 'e.g. 8.8.8.8'],
    'dns2' => ['DNS 2', 'text', 'e.g. 1.1.1.1'],
    'address_start' => ['Address Start', 'text', 'First address handed out'],
    'address_stop' => ['Address Stop', 'text', 'Last address handed out'],
];
?>
<div class="puq-ip-pools" data-source="ip_pools">
  <div class="clearfix puq-toolbar">
    <p class="pull-left text-muted">Blocks of IPv4 and IPv6 addresses handed to VMs at provisioning, pools first, then the server's Assigned IP Addresses.</p>
    <button type="button" class="btn btn-success pull-right puq-add-pool">+ Add IP Pool</button>
  </div>
  <div class="alert alert-danger puq-error hidden" role="alert"></div>
  <table class="table table-striped table-condensed puq-pool-table">
    <thead>
      <tr>
        <th>ID</th><th>Server</th><th>Type</th><th>Bridge</th><th>Vlan</th><th>Gateway</th><th>Mask</th>
        <th>Addresses</th><th class="puq-usage-col">Usage</th><th class="text-right">Actions</th>
      </tr>
    </thead>
    <tbody><tr class="puq-loading"><td colspan="10" class="text-muted">Loading&hellip;</td></tr></tbody>
  </table>

  <div class="modal fade" id="puq-pool-modal" tabindex="-1" role="dialog" aria-labelledby="puq-pool-modal-title">
    <div class="modal-dialog" role="document">
      <form class="modal-content puq-pool-form" novalidate>
        <div class="modal-header">
          <button type="button" class="close" data-dismiss="modal" aria-label="Close"><span aria-hidden="true">&times;</span></button>
          <h4 class="modal-title" id="puq-pool-modal-title">Add IP Pool</h4>
        </div>
        <div class="modal-body form-horizontal">
          <input type="hidden" name="id" value="">
          <div class="alert alert-danger puq-error hidden" role="alert"></div>
          <?php foreach ($fields as $name => [$label, $kind, $hint]): ?>
            <div class="form-group" data-field="<?= puq_e($name) ?>">
              <label class="col-sm-4 control-label" for="puq-pool-<?= puq_e($name) ?>"><?= puq_e($label) ?></label>
              <div class="col-sm-8">
                <?php if ($name === 'type'): ?>
                  <select class="form-control" name="type" id="puq-pool-type"><option>IPv4</option><option>IPv6</option></select>
                <?php elseif ($kind === 'select'): ?>
                  <select class="form-control" name="<?= puq_e($name) ?>" id="puq-pool-<?= puq_e($name) ?>"></select>
                <?php else: ?>
                  <input class="form-control" type="<?= puq_e($kind) ?>" name="<?= puq_e($name) ?>" id="puq-pool-<?= puq_e($name) ?>" placeholder="<?= puq_e($hint) ?>">
                <?php endif; ?>
                <span class="help-block puq-field-error"></span>
              </div>
            </div>
          <?php endforeach; ?>
        </div>
        <div class="modal-footer">
          <button type="button" class="btn btn-default" data-dismiss="modal">Cancel</button>
          <button type="submit" class="btn btn-primary puq-save-pool">Save</button>
        </div>
      </form>
    </div>
  </div>
</div>
