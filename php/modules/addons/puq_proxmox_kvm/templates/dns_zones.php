<?php
/**
 * DNS Zones: the list (Zone, Type, Test / Edit / Delete) and the add/edit form, whose fields
 * follow the provider chosen in Type. Data comes from the dns_zone* actions; secrets never
 * reach this page (they read KEEP, and the form leaves them empty to keep them).
 */
if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}
$providers = \PuqProxmoxKvm\DnsZones::providers();
?>
<div class="puq-dns-zones">
  <div class="alert alert-danger puq-error hidden" role="alert"></div>
  <p>
    <button type="button" class="btn btn-success puq-dns-add">+ Add DNS Zone</button>
    <span class="text-muted">Each VM's A/AAAA and PTR records go to every zone that matches them; zones that match nothing are skipped.</span>
  </p>
  <form class="puq-dns-form panel panel-default hidden form-horizontal" novalidate autocomplete="off">
    <div class="panel-heading"><strong class="puq-dns-form-title">Add DNS Zone</strong></div>
    <div class="panel-body">
      <div class="alert alert-danger puq-form-error hidden" role="alert"></div>
      <input type="hidden" name="id" value="">
      <div class="form-group" data-field="zone">
        <label class="col-sm-3 control-label" for="puq-dns-zone">Zone</label>
        <div class="col-sm-5"><input class="form-control" id="puq-dns-zone" name="zone" placeholder="example.com or 130.168.192.in-addr.arpa"></div>
        <div class="col-sm-4"><span class="help-block puq-field-error"></span></div>
      </div>
      <div class="form-group" data-field="type">
        <label class="col-sm-3 control-label" for="puq-dns-type">Type</label>
        <div class="col-sm-5">
          <select class="form-control" id="puq-dns-type" name="type">
            <?php foreach ($providers as $p): ?>
              <option value="<?= puq_e($p['type']) ?>"><?= puq_e($p['label']) ?></option>
            <?php endforeach; ?>
          </select>
        </div>
        <div class="col-sm-4"><span class="help-block puq-field-error"></span></div>
      </div>
      <?php foreach ($providers as $p): ?>
        <fieldset class="puq-dns-provider" data-provider="<?= puq_e($p['type']) ?>">
          <?php foreach ($p['fields'] as $f): ?>
            <div class="form-group" data-field="<?= puq_e($f['name']) ?>">
              <label class="col-sm-3 control-label" for="puq-dns-<?= puq_e($p['type'] . '-' . $f['name']) ?>"><?= puq_e($f['label']) ?></label>
              <div class="col-sm-5">
                <input class="form-control" id="puq-dns-<?= puq_e($p['type'] . '-' . $f['name']) ?>" name="<?= puq_e($f['name']) ?>"
                  type="<?= $f['secret'] ? 'password' : 'text' ?>" <?= $f['secret'] ? 'data-secret="1" autocomplete="new-password"' : '' ?>>
              </div>
              <div class="col-sm-4"><span class="help-block"><?= puq_e($f['hint']) ?></span><span class="help-block puq-field-error"></span></div>
            </div>
          <?php endforeach; ?>
        </fieldset>
      <?php endforeach; ?>
      <div class="form-group">
        <div class="col-sm-offset-3 col-sm-9">
          <button type="submit" class="btn btn-primary">Save</button>
          <button type="button" class="btn btn-default puq-dns-cancel">Cancel</button>
        </div>
      </div>
    </div>
  </form>
  <table class="table table-striped puq-dns-table">
    <thead><tr><th>Zone</th><th>Type</th><th class="text-right">Actions</th></tr></thead>
    <tbody><tr class="puq-loading"><td colspan="3" class="text-muted">Loading&hellip;</td></tr></tbody>
  </table>
  <div class="puq-toast alert hidden" role="status" aria-live="polite"></div>
</div>
