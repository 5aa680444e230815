/* PUQ Proxmox KVM admin pages: talks to the module's JSON actions (same module link). */
(function ($) {
  'use strict';
  var root = $('#puq-kvm');
  if (!root.length) { return; }
  var link = root.data('link');
  var token = root.data('token');

  /** Calls a JSON action; resolves with `data`, rejects with {error, field}. */
  function api(action, params, method) {
    method = method || 'GET';
    var data = $.extend({}, params || {});
    if (method === 'POST') { data.token = token; }
    return $.ajax({ url: link + '&action=' + encodeURIComponent(action), method: method, data: data, dataType: 'json' })
      .then(function (body) { return body.data; }, function (xhr) {
        var body = xhr.responseJSON || {};
        return $.Deferred().reject({ error: body.error || ('request failed: HTTP ' + xhr.status), field: body.field });
      });
  }

  function showError(scope, message) {
    scope.find('.puq-error').first().text(message).removeClass('hidden');
  }

  /** Shows a failed save next to the field it names (data-field), else above the form. */
  function showFieldError(form, err) {
    var group = err.field ? form.find('[data-field="' + err.field + '"]') : $();
    if (group.length) {
      group.addClass('has-error').find('.puq-field-error').text(err.error);
    } else {
      showError(form, err.error);
    }
  }
  // Shared with the page scripts below.
  window.PuqKvm = { api: api, showError: showError, showFieldError: showFieldError };


  // Dashboard cards.
  $('[data-source="dashboard"]').each(function () {
    var cards = $(this);
    api('dashboard').then(function (data) {
      cards.find('.puq-count').each(function () {
        var value = data[$(this).data('field')];
        $(this).text(value === null || value === undefined ? 'n/a' : value);
        if (value === null) { $(this).attr('title', 'Not available in this version yet'); }
      });
    }, function (err) { showError(root, err.error); });
  });

  // Settings form.
  $('form.puq-settings').each(function () {
    var form = $(this);
    function fill(values) {
      $.each(values, function (name, value) {
        var input = form.find('[name="' + name + '"]');
        if (input.attr('type') === 'checkbox') { input.prop('checked', !!value); } else { input.val(value); }
      });
    }
    var tasks = form.find('[data-source="cron_tasks"] tbody');
    function showMode() {
      form.find('.puq-crontab').toggleClass('hidden', form.find('[name="cron_mode"]').val() !== 'standalone');
    }
    form.on('change', '[name="cron_mode"]', showMode);
    $.when(api('settings'), tasks.length ? api('cron_tasks') : []).then(function (values, list) {
      tasks.empty();
      $.each(list || [], function (_, t) {
        var name = 'interval_' + t.task;
        var row = $('<tr>').attr('data-task', t.task).attr('data-field', name);
        row.append($('<td>').append($('<strong>').text(t.label), $('<div class="text-muted small">').text(t.description)));
        row.append($('<td>').append($('<input type="number" min="0" max="10080" class="form-control input-sm">').attr('name', name),
          $('<span class="small text-muted">').text('default: ' + t.default_interval), $('<span class="help-block puq-field-error">')));
        row.append($('<td class="puq-last-run">').text(t.last_started_at || 'never'));
        var status = t.interval === 0 ? 'DISABLED' : (t.locked_by ? 'RUNNING' : 'ACTIVE');
        row.append($('<td>').append($('<span class="label">').addClass(status === 'ACTIVE' ? 'label-success' : 'label-default').text(status)));
        row.append($('<td class="puq-last-status">').text(t.last_status + (t.last_message ? ' - ' + t.last_message : '')));
        tasks.append(row);
      });
      fill(values);
      showMode();
    }, function (err) { showError(form, err.error); });
    form.on('submit', function (event) {
      event.preventDefault();
      form.find('.has-error').removeClass('has-error');
      form.find('.puq-field-error').text('');
      form.find('.puq-error, .puq-saved').addClass('hidden');
      var values = {};
      form.find('[name]').each(function () {
        var input = $(this);
        values[input.attr('name')] = input.attr('type') === 'checkbox' ? (input.prop('checked') ? '1' : '0') : input.val();
      });
      api('save_settings', values, 'POST').then(function (saved) {
        fill(saved);
        form.find('.puq-saved').removeClass('hidden');
      }, function (err) {
        showFieldError(form, err);
      });
    });
  });

  // IP Pools: the table, the Add / Edit dialog and Delete.
  $('[data-source="ip_pools"]').each(function () {
    var section = $(this);
    var body = section.find('.puq-pool-table tbody');
    var modal = section.find('#puq-pool-modal');
    var form = modal.find('form');
    var pools = {};

    function cell(text) { return $('<td>').text(text === null || text === undefined ? '' : String(text)); }

    function usage(pool) {
      var percent = Math.min(100, Math.max(0, Number(pool.usage_percent) || 0));
      var shown = pool.used > 0 && percent < 1 ? 1 : percent;
      var bar = $('<div class="progress-bar" role="progressbar" aria-valuemin="0">')
        .attr({ 'aria-valuenow': pool.used, 'aria-valuemax': pool.total, 'data-used': pool.used })
        .css('width', shown + '%')
        .toggleClass('progress-bar-warning', percent >= 80 && percent < 95)
        .toggleClass('progress-bar-danger', percent >= 95);
      return $('<td class="puq-usage">')
        .append($('<div class="progress puq-usage-bar">').append(bar))
        .append($('<small class="text-muted puq-usage-text">').text(pool.used + ' / ' + pool.total + ' used (' + percent + '%)'));
    }

    function addresses(pool) {
      var zone = $('<code class="puq-rdns-zone">').text(pool.rdns_zone);
      var copy = $('<button type="button" class="btn btn-default btn-xs puq-copy-zone" title="Copy the rDNS zone name">Copy</button>');
      copy.on('click', function () {
        if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(pool.rdns_zone); } else {
          var range = document.createRange();
          range.selectNodeContents(zone[0]);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          try { document.execCommand('copy'); } catch (e) { /* the zone stays selected for Ctrl+C */ }
        }
        copy.text('Copied');
        setTimeout(function () { copy.text('Copy'); }, 1500);
      });
      return $('<td class="puq-addresses">')
        .append($('<div>').text(pool.address_start + ' - ' + pool.address_stop))
        .append($('<div class="text-muted">').text(pool.total + ' addresses'))
        .append($('<div>').append('rDNS zone: ', zone, ' ', copy));
    }

    function render(list) {
      body.empty();
      pools = {};
      if (!list.length) {
        body.append($('<tr class="puq-empty">').append($('<td colspan="10" class="text-muted">').text('No IP pools yet: add one with "+ Add IP Pool".')));
        return;
      }
      $.each(list, function (_, pool) {
        pools[pool.id] = pool;
        var actions = $('<td class="text-right text-nowrap">')
          .append($('<button type="button" class="btn btn-default btn-xs puq-edit-pool">Edit</button>').data('id', pool.id), ' ')
          .append($('<button type="button" class="btn btn-danger btn-xs puq-delete-pool">Delete</button>').data('id', pool.id));
        body.append($('<tr>').attr('data-pool-id', pool.id).append(
          cell(pool.id), cell(pool.server_name), cell(pool.type), cell(pool.bridge), cell(pool.vlan),
          cell(pool.gateway), cell('/' + pool.mask), addresses(pool), usage(pool), actions));
      });
    }

    function load() {
      return api('ip_pools').then(render, function (err) { showError(section, err.error); });
    }

    function servers() {
      return api('ip_pool_servers').then(function (list) {
        var select = form.find('[name="server_id"]').empty();
        $.each(list, function (_, s) { select.append($('<option>').val(s.id).text(s.name + (s.hostname ? ' (' + s.hostname + ')' : ''))); });
      });
    }

    function clearErrors() {
      form.find('.has-error').removeClass('has-error');
      form.find('.puq-field-error').text('');
      form.find('.puq-error').addClass('hidden').text('');
    }

    function open(pool) {
      clearErrors();
      form[0].reset();
      modal.find('.modal-title').text(pool ? 'Edit IP Pool #' + pool.id : 'Add IP Pool');
      servers().then(function () {
        form.find('[name="id"]').val(pool ? pool.id : '');
        var values = pool || { type: 'IPv4', vlan: 0 };
        $.each(['server_id', 'type', 'bridge', 'vlan', 'gateway', 'mask', 'dns1', 'dns2', 'address_start', 'address_stop'], function (_, name) {
          if (values[name] !== undefined) { form.find('[name="' + name + '"]').val(values[name]); }
        });
        modal.modal('show');
      }, function (err) { showError(section, err.error); });
    }

    section.find('.puq-add-pool').on('click', function () { open(null); });
    body.on('click', '.puq-edit-pool', function () { open(pools[$(this).data('id')]); });
    body.on('click', '.puq-delete-pool', function () {
      var id = $(this).data('id');
      section.children('.puq-error').addClass('hidden');
      if (!window.confirm('Delete IP pool #' + id + '?')) { return; }
      api('delete_ip_pool', { id: id }, 'POST').then(load, function (err) { showError(section, err.error); });
    });

    form.on('submit', function (event) {
      event.preventDefault();
      clearErrors();
      var values = {};
      form.find('[name]').each(function () { values[$(this).attr('name')] = $(this).val(); });
      var action = values.id ? 'update_ip_pool' : 'create_ip_pool';
      if (!values.id) { delete values.id; }
      api(action, values, 'POST').then(function () {
        modal.modal('hide');
        load();
      }, function (err) {
        showFieldError(form, err);
      });
    });

    load();
  });
}(jQuery));

/* VM Management: server-side list, filters remembered in the browser, admin actions. */
(function ($) {
  'use strict';
  var root = $('#puq-kvm');
  var box = $('[data-source="vm_list"]');
  if (!root.length || !box.length) { return; }
  var store = window.localStorage;
  var state = { start: 0, length: 25, sort: 'id', dir: 'desc', search: '',
    service_status: store.getItem('puq_kvm.vm.service_status') || '',
    vm_status: store.getItem('puq_kvm.vm.vm_status') || '' };
  var current = null;

  var api = window.PuqKvm.api;
  function label(text, kind) { return $('<span class="label">').addClass('label-' + kind).text(String(text).toUpperCase()); }
  function vmKind(s) { return s === 'ready' ? 'success' : (s === 'error_terminate' ? 'danger' : (s === 'remove' ? 'default' : 'warning')); }
  function serviceKind(s) { return s === 'Active' ? 'success' : (s === 'Suspended' ? 'warning' : 'default'); }
  var showError = window.PuqKvm.showError;

  var buttons = {
    redeploy: ['btn-danger', 'Redeploy'], reset: ['btn-warning', 'Reset'], log: ['btn-info', 'Log'],
    record: ['btn-default', 'DB Record'], delete: ['btn-danger', 'Delete Record']
  };

  function render(page) {
    var body = box.find('tbody').empty();
    $.each(page.rows, function (_, vm) {
      var tr = $('<tr>').attr('data-service', vm.service_id);
      tr.append($('<td>').append($('<a>').attr('href', 'clientsservices.php?userid=' + vm.client_id + '&id=' + vm.service_id).text('#' + vm.service_id)));
      tr.append($('<td>').append(vm.client_id ? $('<a>').attr('href', 'clientssummary.php?userid=' + vm.client_id).text(vm.client) : '-'));
      tr.append($('<td>').text(vm.product || '-'));
      tr.append($('<td>').text(vm.server || '-'));
      tr.append($('<td class="puq-vm">').text(vm.vm_id ? vm.vm_id + ' ' + vm.vm_name : '-'));
      var status = $('<td class="puq-vm-status">').append(label(vm.vm_status, vmKind(vm.vm_status)));
      if (vm.last_error) { status.append($('<div class="small text-danger puq-vm-error">').text(vm.last_error)); }
      tr.append(status);
      tr.append($('<td class="puq-service-status">').append(label(vm.service_status || '-', serviceKind(vm.service_status))));
      var ips = $('<td class="puq-ips">');
      $.each(vm.ips, function (_, a) {
        var line = $('<div class="puq-ip">').append($('<span>').text(a.ip));
        if (a.rdns) { line.append($('<div class="small text-muted puq-rdns">').text(a.rdns)); }
        ips.append(line);
      });
      if (!vm.ips.length) { ips.text('-'); }
      tr.append(ips);
      var actions = $('<td class="puq-actions">');
      $.each(vm.actions, function (_, a) {
        actions.append($('<button type="button" class="btn btn-xs">').addClass(buttons[a][0]).attr('data-action', a).text(buttons[a][1]), ' ');
      });
      tr.append(actions);
      tr.data('vm', vm);
      body.append(tr);
    });
    var from = page.filtered ? state.start + 1 : 0;
    var to = state.start + page.rows.length;
    box.find('.puq-vm-info').text('Showing ' + from + ' to ' + to + ' of ' + page.filtered + ' entries' +
      (page.filtered !== page.total ? ' (filtered from ' + page.total + ' total entries)' : ''));
    box.find('[data-page="prev"]').prop('disabled', state.start === 0);
    box.find('[data-page="next"]').prop('disabled', to >= page.filtered);
  }

  function load() {
    box.find('.puq-error').addClass('hidden');
    return api('vm_list', state).then(render, function (err) { showError(box, err.error); });
  }

  box.find('[data-filter]').each(function () {
    var select = $(this);
    select.val(state[select.data('filter')]);
    select.on('change', function () {
      state[select.data('filter')] = select.val();
      store.setItem('puq_kvm.vm.' + select.data('filter'), select.val());
      state.start = 0;
      load();
    });
  });
  var typing;
  box.find('[name="search"]').on('input', function () {
    var input = $(this);
    clearTimeout(typing);
    typing = setTimeout(function () { state.search = input.val(); state.start = 0; load(); }, 250);
  });
  box.on('click', '[data-sort]', function (e) {
    e.preventDefault();
    var column = $(this).data('sort');
    state.dir = state.sort === column && state.dir === 'asc' ? 'desc' : 'asc';
    state.sort = column;
    load();
  });
  box.on('click', '[data-page]', function () {
    state.start = Math.max(0, state.start + ($(this).data('page') === 'next' ? state.length : -state.length));
    load();
  });

  function openLog(vm) {
    var modal = $('#puq-vm-log');
    modal.find('.modal-title').text('VM Log - service #' + vm.service_id);
    modal.find('.puq-log-banner').addClass('hidden');
    var runs = modal.find('.puq-log-runs').empty().text('Loading...');
    modal.modal('show');
    api('vm_log', { service_id: vm.service_id }).then(function (log) {
      runs.empty();
      if (log.last_failure) { modal.find('.puq-log-banner').text('Last run failed - ' + log.last_failure).removeClass('hidden'); }
      if (!log.runs.length) { runs.text('No runs yet.'); }
      $.each(log.runs, function (_, run) {
        var panel = $('<div class="panel puq-run">').addClass(run.result === 'error' ? 'panel-danger' : 'panel-default');
        panel.append($('<div class="panel-heading">').text(run.kind + ' - ' + run.result + ' - ' + run.started_at + (run.finished_at ? ' to ' + run.finished_at : '')));
        var table = $('<table class="table table-condensed small">').append('<tr><th>Step</th><th>Transition</th><th>Result</th><th>Duration</th><th>Time</th></tr>');
        $.each(run.steps, function (_, step) {
          table.append($('<tr>').append($('<td>').text(step.label), $('<td>').text(step.from + ' \u2192 ' + step.to),
            $('<td class="puq-step-result">').text(step.result), $('<td>').text((step.duration_ms / 1000).toFixed(2) + ' s'), $('<td>').text(step.at)));
        });
        runs.append(panel.append(table));
      });
    }, function (err) { runs.text(err.error); });
  }

  function openRecord(vm) {
    var modal = $('#puq-vm-record');
    var form = modal.find('.puq-record-fields').empty();
    modal.find('.puq-error').addClass('hidden');
    modal.modal('show');
    api('vm_record', { service_id: vm.service_id }).then(function (record) {
      $.each(record, function (name, value) {
        var group = $('<div class="form-group">').attr('data-field', name);
        group.append($('<label class="col-sm-3 control-label">').text(name));
        var input = (value || '').length > 60 || /^vm_(rev_dns|backup_schedule|pipeline_data|dns_managed)$/.test(name)
          ? $('<textarea class="form-control input-sm" rows="3">') : $('<input class="form-control input-sm">');
        input.attr('name', name).val(value === null ? '' : value).data('original', value === null ? '' : value);
        if (/^(service_id|created_at|updated_at|vm_lease_owner|vm_lease_until|vm_run_id)$/.test(name)) { input.prop('readonly', true); }
        group.append($('<div class="col-sm-9">').append(input, $('<span class="help-block puq-field-error">')));
        form.append(group);
      });
    }, function (err) { showError(modal, err.error); });
  }

  box.on('click', '[data-action]', function () {
    current = $(this).closest('tr').data('vm');
    var action = $(this).data('action');
    if (action === 'log') { openLog(current); }
    if (action === 'reset') { $('#puq-vm-reset').modal('show'); }
    if (action === 'record') { openRecord(current); }
    if (action === 'delete') { $('#puq-vm-delete').find('.puq-error').addClass('hidden'); $('#puq-vm-delete').modal('show'); }
    if (action === 'redeploy') {
      if (window.confirm('Redeploy service #' + current.service_id + '? The VM is destroyed on Proxmox and built again from scratch.')) {
        api('vm_redeploy', { service_id: current.service_id }, 'POST').then(load, function (err) { showError(box, err.error); });
      }
    }
  });
  $('[data-confirm="reset"]').on('click', function () {
    var modal = $('#puq-vm-reset');
    modal.find('.puq-field-error').text('');
    api('vm_reset', { service_id: current.service_id, status: modal.find('[name="status"]').val() }, 'POST')
      .then(function () { modal.modal('hide'); load(); }, function (err) { modal.find('.puq-field-error').text(err.error); });
  });
  $('[data-confirm="record"]').on('click', function () {
    var modal = $('#puq-vm-record');
    var changes = {};
    modal.find('[name]').each(function () {
      var input = $(this);
      if (!input.prop('readonly') && input.val() !== String(input.data('original'))) { changes['record[' + input.attr('name') + ']'] = input.val(); }
    });
    modal.find('.puq-field-error').text('');
    modal.find('.has-error').removeClass('has-error');
    api('vm_record_save', $.extend({ service_id: current.service_id }, changes), 'POST').then(function () { modal.modal('hide'); load(); }, function (err) {
      window.PuqKvm.showFieldError(modal, err);
    });
  });
  $('[data-confirm="delete"]').on('click', function () {
    var modal = $('#puq-vm-delete');
    api('vm_record_delete', { service_id: current.service_id }, 'POST').then(function () { modal.modal('hide'); load(); }, function (err) { showError(modal, err.error); });
  });
  load();
}(jQuery));

/* DNS Zones page. Secrets never come from the server (they read KEEP); the form leaves them
   empty with a placeholder, and an empty secret keeps the stored one. */
(function ($) {
  'use strict';
  var page = $('.puq-dns-zones');
  if (!page.length) { return; }
  var form = page.find('.puq-dns-form');
  var tbody = page.find('.puq-dns-table tbody');
  var zones = {};
  var KEEP_HINT = '(unchanged \u2013 enter new to replace)';

  var api = window.PuqKvm.api;

  function toast(ok, message) {
    var box = page.find('.puq-toast');
    box.removeClass('hidden alert-success alert-danger').addClass(ok ? 'alert-success' : 'alert-danger').text(message);
    clearTimeout(box.data('timer'));
    box.data('timer', setTimeout(function () { box.addClass('hidden'); }, 8000));
  }

  function showProvider(type) {
    form.find('.puq-dns-provider').each(function () {
      var on = $(this).data('provider') === type;
      $(this).toggleClass('hidden', !on).prop('disabled', !on);
    });
  }

  function clearErrors() {
    form.find('.has-error').removeClass('has-error');
    form.find('.puq-field-error').text('');
    form.find('.puq-form-error').addClass('hidden');
  }

  function openForm(zone) {
    clearErrors();
    form[0].reset();
    form.find('[name="id"]').val(zone ? zone.id : '');
    form.find('.puq-dns-form-title').text(zone ? 'Edit DNS Zone ' + zone.zone : 'Add DNS Zone');
    form.find('[name="zone"]').val(zone ? zone.zone : '');
    var type = zone ? zone.type : form.find('[name="type"] option').first().val();
    form.find('[name="type"]').val(type);
    showProvider(type);
    form.find('.puq-dns-provider input').each(function () {
      var input = $(this);
      var secret = input.data('secret');
      var own = zone && input.closest('.puq-dns-provider').data('provider') === zone.type;
      if (secret) {
        input.val('').attr('placeholder', own && zone[input.attr('name')] === 'KEEP' ? KEEP_HINT : '');
      } else {
        input.val(own ? (zone[input.attr('name')] || '') : '');
      }
    });
    form.removeClass('hidden');
    form.find('[name="zone"]').trigger('focus');
  }

  function row(zone) {
    var tr = $('<tr>').attr('data-id', zone.id);
    tr.append($('<td class="puq-zone-name">').text(zone.zone));
    tr.append($('<td class="puq-zone-type">').text(zone.type_label));
    var actions = $('<td class="text-right">');
    actions.append($('<button type="button" class="btn btn-default btn-sm puq-dns-test">').text('Test'), ' ');
    actions.append($('<button type="button" class="btn btn-default btn-sm puq-dns-edit">').text('Edit'), ' ');
    actions.append($('<button type="button" class="btn btn-danger btn-sm puq-dns-delete">').text('Delete'));
    return tr.append(actions);
  }

  function load() {
    return api('dns_zones').then(function (list) {
      zones = {};
      tbody.empty();
      if (!list.length) {
        tbody.append('<tr class="puq-empty"><td colspan="3" class="text-muted">No DNS zones yet: add one to write VM records.</td></tr>');
      }
      $.each(list, function (_, zone) { zones[zone.id] = zone; tbody.append(row(zone)); });
    }, function (err) { window.PuqKvm.showError(page, err.error); });
  }

  page.find('.puq-dns-add').on('click', function () { openForm(null); });
  page.find('.puq-dns-cancel').on('click', function () { form.addClass('hidden'); });
  form.find('[name="type"]').on('change', function () { showProvider($(this).val()); });

  form.on('submit', function (event) {
    event.preventDefault();
    clearErrors();
    var values = { id: form.find('[name="id"]').val(), zone: form.find('[name="zone"]').val(), type: form.find('[name="type"]').val() };
    form.find('.puq-dns-provider:not(.hidden) input').each(function () { values[$(this).attr('name')] = $(this).val(); });
    api('dns_zone_save', values, 'POST').then(function (zone) {
      form.addClass('hidden');
      toast(true, 'Saved ' + zone.zone + ' (' + zone.type_label + ').');
      load();
    }, function (err) {
      var group = err.field ? form.find('.puq-dns-provider:not(.hidden) [data-field="' + err.field + '"], .form-group[data-field="' + err.field + '"]').filter(':visible') : $();
      if (group.length) {
        group.first().addClass('has-error').find('.puq-field-error').text(err.error);
      } else {
        form.find('.puq-form-error').text(err.error).removeClass('hidden');
      }
    });
  });

  tbody.on('click', '.puq-dns-edit', function () { openForm(zones[$(this).closest('tr').data('id')]); });
  tbody.on('click', '.puq-dns-test', function () {
    var button = $(this).prop('disabled', true);
    api('dns_zone_test', { id: button.closest('tr').data('id') }, 'POST').then(function (result) {
      toast(result.ok, result.message);
    }, function (err) { toast(false, err.error); }).always(function () { button.prop('disabled', false); });
  });
  tbody.on('click', '.puq-dns-delete', function () {
    var zone = zones[$(this).closest('tr').data('id')];
    if (!window.confirm('Delete the zone ' + zone.zone + ' from the module? Records already written stay at the provider.')) { return; }
    api('dns_zone_delete', { id: zone.id }, 'POST').then(function () {
      toast(true, 'Deleted ' + zone.zone + '.');
      load();
    }, function (err) { toast(false, err.error); });
  });

  load();
}(jQuery));
