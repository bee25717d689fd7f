// The demo store's tiny cart: it listens for the assistant's add-to-cart event, as a real store's cart would, and
// reports views, add-to-carts and orders with Storebot.track() so that recommendations learn what goes together.
(function () {
  "use strict";
  var KEY = "storebot-demo-cart";
  // Calls made before the widget loads are queued; it replays window.Storebot.q.
  window.Storebot = window.Storebot || function () { (window.Storebot.q = window.Storebot.q || []).push(arguments); };
  function track(type, data) { window.Storebot("track", type, data); }
  function load() { try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; } }
  function save(items) { localStorage.setItem(KEY, JSON.stringify(items)); render(); }
  function add(item) {
    var items = load(); items.push(item); save(items);
    track("add_to_cart", { productId: item.productId, variantId: item.variantId });
  }
  function checkout() {
    var items = load();
    if (!items.length) return;
    var orderId = "demo-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
    items.forEach(function (item) {
      track("purchase", { productId: item.productId, variantId: item.variantId, orderId: orderId });
    });
    save([]);
    var note = document.getElementById("cart-note");
    if (note) note.textContent = "Thanks! Order " + orderId + " is placed (a demo: nothing ships).";
  }
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
  function trackPageView() {
    var button = document.querySelector(".product-page .add-to-cart");
    if (button) track("view", { productId: button.dataset.productId });
  }
  window.addEventListener("storebot:add-to-cart", function (event) {
    var d = event.detail || {};
    add({ productId: d.productId, variantId: d.variantId || null, title: d.title || d.productId });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".add-to-cart");
    if (button) add({ productId: button.dataset.productId, variantId: null, title: button.dataset.title });
    if (event.target.id === "cart-clear") save([]);
    if (event.target.id === "cart-checkout") checkout();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { render(); trackPageView(); });
  } else {
    render();
    trackPageView();
  }
})();
