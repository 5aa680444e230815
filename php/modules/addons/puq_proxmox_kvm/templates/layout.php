<?php
/** The addon's frame: navigation, then the page named in $view['page']. */
if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}
$assets = '../modules/addons/puq_proxmox_kvm/assets';
?>
<link rel="stylesheet" href="<?= puq_e($assets) ?>/addon.css">
<div class="puq-kvm" id="puq-kvm" data-link="<?= puq_e($view['link']) ?>" data-token="<?= puq_e($view['token']) ?>">
  <ul class="nav nav-tabs puq-nav">
    <?php foreach ($view['pages'] as $key => $label): ?>
      <li class="<?= $key === $view['page'] ? 'active' : '' ?>">
        <a href="<?= puq_e($view['link'] . ($key === 'home' ? '' : '&page=' . $key)) ?>" data-page="<?= puq_e($key) ?>"><?= puq_e($label) ?></a>
      </li>
    <?php endforeach; ?>
    <li class="pull-right puq-version"><span class="label label-default">v<?= puq_e($view['version']) ?></span></li>
  </ul>
  <div class="puq-page" data-page="<?= puq_e($view['page']) ?>">
    <?php if ($view['error'] !== null): ?>
      <div class="alert alert-danger"><?= puq_e($view['error']) ?></div>
    <?php else: include __DIR__ . '/' . $view['page'] . '.php'; endif; ?>
  </div>
</div>
<script src="<?= puq_e($assets) ?>/addon.js"></script>
