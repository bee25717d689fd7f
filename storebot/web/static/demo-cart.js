// The demo store's tiny cart: it listens for the assistant's add-to-cart event, as a real store's cart would.
(function () {
  "use strict";
  var KEY = "storebot-demo-cart";
  function load() { try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; } }
  function save(items) { localStorage.setItem(KEY, JSON.stringify(items)); render(); }
  function add(item) { var items = load(); items.push(item); save(items); }
  function render() {
    var items = load();
    var count = document.getElementById("cart-count");
    if (count) count.textContent = String(items.length);
    var list = document.getElementById("cart-items");
    if (!list) return;
    while (list.firstChild) list.removeChild(list.firstChild);
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item.title + (item.variantId ? " (" + item.variantId + ")" : "");
      list.appendChild(li);
    });
  }
  window.addEventListener("storebot:add-to-cart", function (event) {
    var d = event.detail || {};
    add({ productId: d.productId, variantId: d.variantId || null, title: d.title || d.productId });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".add-to-cart");
    if (button) add({ productId: button.dataset.productId, variantId: null, title: button.dataset.title });
    if (event.target.id === "cart-clear") save([]);
  });
  document.addEventListener("DOMContentLoaded", render);
  render();
})();
