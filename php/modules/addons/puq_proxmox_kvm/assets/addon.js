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
        var group = err.field ? form.find('[data-field="' + err.field + '"]') : $();
        if (group.length) {
          group.addClass('has-error').find('.puq-field-error').text(err.error);
        } else {
          showError(form, err.error);
        }
      });
    });
  });
}(jQuery));
