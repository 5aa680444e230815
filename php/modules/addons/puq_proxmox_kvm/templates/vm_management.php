<?php
/** VM Management: every VM with its state, addresses and admin actions (server-side list). */
if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}
$states = \PuqProxmoxKvm\Vms::states();
?>
<div class="puq-vms" data-source="vm_list">
  <div class="row puq-vms-toolbar">
    <div class="col-sm-3">
      <select class="form-control" data-filter="service_status" aria-label="Service status">
        <option value="">All Services</option>
        <?php foreach ($states['service_states'] as $state): ?><option value="<?= puq_e($state) ?>"><?= puq_e($state) ?></option><?php endforeach; ?>
      </select>
    </div>
    <div class="col-sm-3">
      <select class="form-control" data-filter="vm_status" aria-label="VM status">
        <option value="">All VM Statuses</option>
        <?php foreach ($states['vm_states'] as $state): ?><option value="<?= puq_e($state) ?>"><?= puq_e($state) ?></option><?php endforeach; ?>
      </select>
    </div>
    <div class="col-sm-offset-2 col-sm-4">
      <input type="search" class="form-control" name="search" placeholder="Search: service id, client, VM name, IP" aria-label="Search">
    </div>
  </div>
  <div class="alert alert-danger puq-error hidden" role="alert"></div>
  <table class="table table-striped table-condensed puq-vm-table">
    <thead>
      <tr>
        <th><a href="#" data-sort="id">ID</a></th>
        <th><a href="#" data-sort="client">Client</a></th>
        <th><a href="#" data-sort="product">Product</a></th>
        <th><a href="#" data-sort="server">Server</a></th>
        <th><a href="#" data-sort="vm">VM</a></th>
        <th><a href="#" data-sort="vm_status">VM Status</a></th>
        <th><a href="#" data-sort="service_status">Service</a></th>
        <th>IPs</th>
        <th>Actions</th>
      </tr>
    </thead>
    <tbody></tbody>
  </table>
  <div class="row">
    <div class="col-sm-6 puq-vm-info text-muted"></div>
    <div class="col-sm-6 text-right">
      <div class="btn-group">
        <button type="button" class="btn btn-default btn-sm" data-page="prev">Previous</button>
        <button type="button" class="btn btn-default btn-sm" data-page="next">Next</button>
      </div>
    </div>
  </div>
</div>

<div class="modal fade" id="puq-vm-log" tabindex="-1" role="dialog">
  <div class="modal-dialog modal-lg" role="document"><div class="modal-content">
    <div class="modal-header"><button type="button" class="close" data-dismiss="modal">&times;</button><h4 class="modal-title">VM Log</h4></div>
    <div class="modal-body"><div class="alert alert-danger puq-log-banner hidden"></div><div class="puq-log-runs"></div></div>
  </div></div>
</div>

<div class="modal fade" id="puq-vm-reset" tabindex="-1" role="dialog">
  <div class="modal-dialog" role="document"><div class="modal-content">
    <div class="modal-header"><button type="button" class="close" data-dismiss="modal">&times;</button><h4 class="modal-title">Reset VM Status</h4></div>
    <div class="modal-body">
      <div class="form-group" data-field="status">
        <label for="puq-reset-status">New status</label>
        <select class="form-control" id="puq-reset-status" name="status">
          <?php foreach ($states['reset_targets'] as $state): ?><option value="<?= puq_e($state) ?>"><?= puq_e($state) ?></option><?php endforeach; ?>
        </select>
        <span class="help-block puq-field-error"></span>
      </div>
      <table class="table table-condensed small">
        <tr><td><code>ready</code></td><td>Everything is fine: cron stops touching the VM. Use after a manual fix.</td></tr>
        <tr><td><code>creation</code></td><td>Retry the deploy from the beginning.</td></tr>
        <tr><td><code>set_ip</code></td><td>Retry from the step after IP allocation (the clone).</td></tr>
        <tr><td><code>change_package</code></td><td>Rerun the whole package change.</td></tr>
        <tr><td><code>set_dns_records</code></td><td>Queue a full DNS resync (delete and recreate). Fast and safe.</td></tr>
        <tr><td><code>terminate</code></td><td>Retry termination after <code>error_terminate</code>.</td></tr>
        <tr><td><code>remove</code></td><td>Mark removed without contacting Proxmox: only when the VM is already gone.</td></tr>
      </table>
    </div>
    <div class="modal-footer"><button type="button" class="btn btn-default" data-dismiss="modal">Cancel</button><button type="button" class="btn btn-warning" data-confirm="reset">Reset</button></div>
  </div></div>
</div>

<div class="modal fade" id="puq-vm-record" tabindex="-1" role="dialog">
  <div class="modal-dialog modal-lg" role="document"><div class="modal-content">
    <div class="modal-header"><button type="button" class="close" data-dismiss="modal">&times;</button><h4 class="modal-title">DB Record</h4></div>
    <div class="modal-body">
      <div class="alert alert-warning"><strong>Warning:</strong> direct database editing bypasses every safeguard of the state machine. Incorrect values cause deployment failures, incorrect IP accounting or data loss. Use it only when you know exactly what you are doing and Reset or Redeploy cannot help.</div>
      <div class="alert alert-danger puq-error hidden"></div>
      <form class="form-horizontal puq-record-fields"></form>
    </div>
    <div class="modal-footer"><button type="button" class="btn btn-default" data-dismiss="modal">Close</button><button type="button" class="btn btn-primary" data-confirm="record">Save</button></div>
  </div></div>
</div>

<div class="modal fade" id="puq-vm-delete" tabindex="-1" role="dialog">
  <div class="modal-dialog" role="document"><div class="modal-content">
    <div class="modal-header"><button type="button" class="close" data-dismiss="modal">&times;</button><h4 class="modal-title">Delete Record</h4></div>
    <div class="modal-body"><p>This removes the module's record of the VM only. It does <strong>not</strong> touch Proxmox or the WHMCS service.</p><div class="alert alert-danger puq-error hidden"></div></div>
    <div class="modal-footer"><button type="button" class="btn btn-default" data-dismiss="modal">Cancel</button><button type="button" class="btn btn-danger" data-confirm="delete">Delete Record</button></div>
  </div></div>
</div>
