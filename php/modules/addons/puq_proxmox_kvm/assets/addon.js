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
    api('settings').then(fill, function (err) { showError(form, err.error); });
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
