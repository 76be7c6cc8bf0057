// The pages' small behaviours; every page works without them (the server decides everything).
(function () {
  "use strict";

  // A form is sent once: a double tap does not send it twice (the server also refuses twice).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });

  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  document.querySelectorAll("[data-tick-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      all.closest("fieldset").querySelectorAll("input[name=holders]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });

  counter(document.getElementById("counter-form"));

  // The counter: +/− steppers, the total and what is left (the server checks it all again).
  function counter(form) {
    if (!form || !document.getElementById("total")) { return; }  // no goods on the shelf yet
    var balanceNode = document.getElementById("balance");
    var balance = balanceNode ? parseFloat(balanceNode.dataset.balance) : 0;
    var total = document.getElementById("total");
    var left = document.getElementById("left");
    var tooMuch = document.getElementById("too-much");

    function tenth(x) { return Math.round(x * 10) / 10; }
    function show(x) { return String(tenth(x)); }

    function update() {
      var sum = 0;
      form.querySelectorAll(".goods-line").forEach(function (line) {
        var input = line.querySelector("input");
        var n = parseInt(input.value, 10);
        if (n > 0) { sum += n * parseFloat(line.dataset.price); }
      });
      total.textContent = show(sum);
      left.textContent = show(balance - sum);
      left.classList.toggle("neg", balance - sum < 0);
      tooMuch.hidden = balance - sum >= 0;
    }

    form.querySelectorAll("[data-step]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = button.parentNode.querySelector("input");
        var n = (parseInt(input.value, 10) || 0) + parseInt(button.dataset.step, 10);
        var max = parseInt(input.max, 10);
        if (n < 0) { n = 0; }
        if (!isNaN(max) && n > max) { n = max; }
        input.value = n;
        update();
      });
    });
    form.addEventListener("input", update);
    update();
  }

  // Record form: show the one field the item's type reads, and preview its points.
  var form = document.getElementById("entry-form");
  if (!form) { return; }
  var item = form.querySelector("select[name=item]");
  var preview = document.getElementById("preview");

  function tenth(x) { return Math.round(x * 10) / 10; }

  function points(option) {
    var d = option.dataset;
    if (d.type === "fixed") { return parseFloat(d.points); }
    if (d.type === "range") {
      var v = parseFloat(form.points.value);
      return (v >= parseFloat(d.min) && v <= parseFloat(d.max)) ? v : null;
    }
    if (d.type === "per_unit") {
      var q = parseFloat(form.quantity.value);
      return q > 0 ? tenth(q * parseFloat(d.per)) : null;
    }
    if (d.type === "graded") {
      var chosen = form.querySelector("input[name=grade]:checked");
      var found = null;
      d.grades.split(";").forEach(function (pair) {
        var parts = pair.split(":");
        if (chosen && parts[0] === chosen.value) { found = parseFloat(parts[1]); }
      });
      return found;
    }
    return null;
  }

  function update() {
    var option = item.options[item.selectedIndex];
    var type = option && option.dataset.type;
    form.querySelectorAll("[data-input]").forEach(function (field) {
      field.hidden = field.dataset.input !== type;
    });
    var value = type ? points(option) : null;
    preview.hidden = value === null;
    if (value !== null) {
      preview.textContent = preview.dataset.label + " " + (value > 0 ? "+" : "") + value + " " + preview.dataset.unit;
      preview.classList.toggle("neg", value < 0);
    }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
